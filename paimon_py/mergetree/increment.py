"""What a bucket writer produced since its last commit, as in Paimon's ``CommitIncrement``."""

from __future__ import annotations

from dataclasses import dataclass, field

from paimon_py.io.data_file_meta import DataFileMeta
from paimon_py.manifest.index_manifest import IndexFileMeta


@dataclass
class DataIncrement:
    """New data files and the ``input`` changelog written with them (an APPEND snapshot)."""

    new_files: list[DataFileMeta] = field(default_factory=list)
    changelog_files: list[DataFileMeta] = field(default_factory=list)


@dataclass
class CompactIncrement:
    """Files a compaction replaced and wrote, the changelog it produced and the bucket's new
    deletion-vector index file or the one it no longer needs (a COMPACT snapshot)."""

    compact_before: list[DataFileMeta] = field(default_factory=list)
    compact_after: list[DataFileMeta] = field(default_factory=list)
    changelog_files: list[DataFileMeta] = field(default_factory=list)
    new_index_files: list[IndexFileMeta] = field(default_factory=list)
    deleted_index_files: list[IndexFileMeta] = field(default_factory=list)


@dataclass
class CommitIncrement:
    data: DataIncrement = field(default_factory=DataIncrement)
    compact: CompactIncrement = field(default_factory=CompactIncrement)
