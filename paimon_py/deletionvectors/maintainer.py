"""``DeletionVectorsMaintainer``: the deletion vectors of one bucket, as its writer updates them.

Compaction adds deleted positions (rows superseded by newer keys) and drops the vectors of the
files it rewrote; at commit, a changed set is written as one new index file, which replaces the
bucket's previous one in the index manifest (an empty set deletes it instead); the previous one is
reported as deleted, so that the commit can check that no one else replaced it meanwhile.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from paimon_py.deletionvectors.index_file import DeletionVectorsIndexFile
from paimon_py.manifest.index_manifest import IndexFileMeta


class DeletionVectorsMaintainer:
    def __init__(self, index_file: DeletionVectorsIndexFile, restored: IndexFileMeta | None):
        self.index_file = index_file
        self.current = restored
        self.vectors: dict[str, np.ndarray] = index_file.read_all(restored) if restored else {}
        self.modified = False

    def deleted(self, file_name: str) -> np.ndarray | None:
        return self.vectors.get(file_name)

    def apply(self, rewritten: Iterable[str], deletions: Mapping[str, np.ndarray]) -> None:
        """Drop the vectors of rewritten files; add newly deleted positions."""
        for name in rewritten:
            if self.vectors.pop(name, None) is not None:
                self.modified = True
        for name, positions in deletions.items():
            old = self.vectors.get(name)
            self.vectors[name] = positions if old is None else np.union1d(old, positions)
            self.modified = True

    def prepare_commit(self) -> tuple[list[IndexFileMeta], list[IndexFileMeta]]:
        """(new index files, deleted index files) of the bucket since the last call."""
        if not self.modified:
            return [], []
        self.modified = False
        deleted = [self.current] if self.current else []
        self.current = self.index_file.write(self.vectors) if self.vectors else None
        return ([self.current] if self.current else []), deleted
