"""``DynamicBucketIndexMaintainer``: the HASH index of one bucket, as its writer keeps it.

Every key the writer receives (inserts, updates and deletes) is added; at commit a changed set is
written whole as a new index file, which replaces the bucket's previous one (format §10). The
replaced file is reported with it, so that the commit can refuse it when another writer replaced
that file meanwhile (its keys would be lost from the index, and their rows duplicated later).
"""

from __future__ import annotations

import numpy as np

from paimon_py.index import sorted_ints
from paimon_py.index.hash_index_file import HashIndexFile
from paimon_py.manifest.index_manifest import IndexFileMeta


class DynamicBucketIndexMaintainer:
    def __init__(self, index_file: HashIndexFile, restored: IndexFileMeta | None):
        self.index_file = index_file
        self.hashes = np.unique(index_file.read(restored)) if restored else np.empty(0, np.int32)
        self.current = restored
        """The index file the bucket has once this writer's previous commits are committed."""
        self.modified = False

    def notify(self, key_hashes: np.ndarray) -> None:
        """Keys written to the bucket."""
        unique = np.unique(key_hashes)
        new = unique[~sorted_ints.contains(self.hashes, unique)]
        if len(new):
            self.hashes = sorted_ints.insert(self.hashes, new)
            self.modified = True

    def prepare_commit(self) -> tuple[list[IndexFileMeta], list[IndexFileMeta]]:
        """The bucket's new index file and the one it replaces, if keys were added since the last call."""
        if not self.modified:
            return [], []
        self.modified = False
        replaced, self.current = self.current, self.index_file.write(self.hashes)
        return [self.current], [replaced] if replaced else []
