"""``CommitMessage``: what a writer hands to the committer for one (partition, bucket)."""

from __future__ import annotations

from dataclasses import dataclass, field

from paimon_py.io.data_file_meta import DataFileMeta
from paimon_py.manifest.index_manifest import HASH_INDEX, IndexFileMeta
from paimon_py.mergetree.increment import CommitIncrement


@dataclass
class CommitMessage:
    """New files (and their ``input`` changelog) go into an APPEND snapshot; compaction
    before/after files (and the changelog compaction produced) into a COMPACT snapshot."""

    partition: tuple
    bucket: int
    total_buckets: int
    new_files: list[DataFileMeta] = field(default_factory=list)
    changelog_files: list[DataFileMeta] = field(default_factory=list)
    compact_before: list[DataFileMeta] = field(default_factory=list)
    compact_after: list[DataFileMeta] = field(default_factory=list)
    compact_changelog_files: list[DataFileMeta] = field(default_factory=list)
    new_index_files: list[IndexFileMeta] = field(default_factory=list)
    deleted_index_files: list[IndexFileMeta] = field(default_factory=list)

    @classmethod
    def of(cls, partition: tuple, bucket: int, total_buckets: int,
           increment: CommitIncrement) -> CommitMessage:
        data, compact = increment.data, increment.compact
        return cls(partition, bucket, total_buckets, data.new_files, data.changelog_files,
                   compact.compact_before, compact.compact_after, compact.changelog_files,
                   compact.new_index_files, compact.deleted_index_files)

    def is_empty(self) -> bool:
        return not (self.new_files or self.changelog_files or self.compact_before
                    or self.compact_after or self.compact_changelog_files
                    or self.new_index_files or self.deleted_index_files)

    def appended(self) -> CommitMessage:
        """The part an APPEND snapshot takes: new files, their changelog, HASH index changes."""
        return CommitMessage(self.partition, self.bucket, self.total_buckets, self.new_files, self.changelog_files,
                             new_index_files=[f for f in self.new_index_files if f.index_type == HASH_INDEX],
                             deleted_index_files=[f for f in self.deleted_index_files if f.index_type == HASH_INDEX])

    def compaction(self) -> CommitMessage:
        """The part a COMPACT snapshot takes: compaction results and deletion-vector index changes."""
        return CommitMessage(self.partition, self.bucket, self.total_buckets,
                             compact_before=self.compact_before, compact_after=self.compact_after,
                             compact_changelog_files=self.compact_changelog_files,
                             new_index_files=[f for f in self.new_index_files if f.index_type != HASH_INDEX],
                             deleted_index_files=[f for f in self.deleted_index_files if f.index_type != HASH_INDEX])
