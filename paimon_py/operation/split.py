"""``Split``: the files of one (partition, bucket) that a reader reads together."""

from __future__ import annotations

from dataclasses import dataclass

from paimon_py.deletionvectors.index_file import DeletionFile
from paimon_py.io.data_file_meta import DataFileMeta


@dataclass(frozen=True)
class Split:
    partition: tuple
    bucket: int
    files: tuple[DataFileMeta, ...]
    raw_convertible: bool
    """True when the files can be read as they are, without merging keys."""
    streaming: bool = False
    """Delta or changelog files of one snapshot: read record by record, with row kinds."""
    deletion_files: tuple[DeletionFile | None, ...] = ()
    """Per file (same order), its deletion vector if it has one; empty without deletion vectors."""

    @property
    def row_count(self) -> int:
        return sum(f.row_count for f in self.files)
