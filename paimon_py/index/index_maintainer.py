"""``DynamicBucketIndexMaintainer``: the HASH index of one bucket, as its writer keeps it.

The writer tells it the keys that may be new to the bucket (those its assigner placed now; every
key written when the caller cannot tell). It holds only those until the commit, which reads the
bucket's current index file, adds the keys it lacks and writes the result whole as a new index
file replacing the previous one (format §10): memory follows the keys written between commits and
the size of one bucket, not every key of the table (Paimon's Java maintainer keeps the whole set).
The replaced file is reported with it, so that the commit can refuse it when another writer
replaced that file meanwhile (its keys would be lost from the index, and their rows duplicated later).
"""

from __future__ import annotations

import numpy as np

from paimon_py.index import sorted_ints
from paimon_py.index.hash_index_file import HashIndexFile
from paimon_py.manifest.index_manifest import IndexFileMeta

PENDING_COMPACT_KEYS = 1 << 20
"""Pending keys are deduplicated whenever this many more have arrived (keys written again and
again between two commits, when the caller cannot tell new keys from known ones)."""


class DynamicBucketIndexMaintainer:
    def __init__(self, index_file: HashIndexFile, restored: IndexFileMeta | None):
        self.index_file = index_file
        self.current = restored
        """The index file the bucket has once this writer's previous commits are committed."""
        self.pending: list[np.ndarray] = []
        self.pending_keys = 0
        self.compacted_keys = 0

    def notify(self, key_hashes: np.ndarray) -> None:
        """Keys written to the bucket that its index may lack (int32 hashes)."""
        if not len(key_hashes):
            return
        self.pending.append(key_hashes)
        self.pending_keys += len(key_hashes)
        if self.pending_keys - self.compacted_keys >= PENDING_COMPACT_KEYS:
            self.pending = [np.unique(np.concatenate(self.pending))]
            self.pending_keys = self.compacted_keys = len(self.pending[0])

    def prepare_commit(self) -> tuple[list[IndexFileMeta], list[IndexFileMeta]]:
        """The bucket's new index file and the one it replaces, if keys were added since the last call."""
        if not self.pending:
            return [], []
        candidates = np.unique(np.concatenate(self.pending))
        self.pending, self.pending_keys, self.compacted_keys = [], 0, 0
        known = _sorted_unique(self.index_file.read(self.current)) if self.current else np.empty(0, np.int32)
        new = candidates[~sorted_ints.contains(known, candidates)]
        if not len(new):
            return [], []
        replaced, self.current = self.current, self.index_file.write(sorted_ints.insert(known, new))
        return [self.current], [replaced] if replaced else []


def _sorted_unique(hashes: np.ndarray) -> np.ndarray:
    """``hashes`` sorted and unique: as they are when this writer wrote them (a check, no sort)."""
    if len(hashes) < 2 or bool((hashes[1:] > hashes[:-1]).all()):
        return hashes
    return np.unique(hashes)
