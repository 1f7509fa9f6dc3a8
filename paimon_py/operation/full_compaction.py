"""``FullCompaction``: a one-shot full compaction of a table, or of some of its partitions, as
Paimon's dedicated compaction (``CompactAction`` with the full strategy) does it.

Every bucket with files is compacted by a ``FileStoreWrite`` of the table copied with
``write-only=false`` (``FileStoreWrite.compact``): a primary-key bucket becomes one sorted run at
the highest level, an append bucket's small files are merged. The result is one COMPACT snapshot.

Beside a job writing the same table, the commit's conflict checks (``FileStoreCommit``) refuse
it when a file it compacted was removed meanwhile or the bucket's deletion vectors changed; the
files the attempt wrote are deleted and the compaction starts again from the new latest snapshot,
at most ``max_attempts`` times. New files a writer added meanwhile do not conflict: they sit in
level 0, above the compacted run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Callable

from paimon_py.exceptions import CommitConflictError
from paimon_py.operation.commit_message import CommitMessage
from paimon_py.snapshot.snapshot import Snapshot

PartitionFilter = Callable[[tuple], bool]


@dataclass
class PreparedCompaction:
    """One attempt's compaction results, made from snapshot ``base_snapshot_id``, not yet committed."""

    base_snapshot_id: int | None
    messages: list[CommitMessage]
    written: list[str]
    """Paths of the files the attempt wrote (deleted if it is not committed)."""

    @property
    def buckets(self) -> int:
        return len(self.messages)

    @property
    def files_before(self) -> int:
        return sum(len(m.compact_before) for m in self.messages)

    @property
    def files_after(self) -> int:
        return sum(len(m.compact_after) for m in self.messages)


@dataclass
class CompactionResult:
    """What a compaction did: its COMPACT snapshot (None when nothing needed compacting)."""

    snapshot: Snapshot | None
    base_snapshot_id: int | None
    buckets: int
    files_before: int
    files_after: int
    attempts: int
    conflicts: list[str] = field(default_factory=list)
    """The conflicts of the attempts that were retried."""


class FullCompaction:
    """Compacts the buckets of ``table`` (those of partitions ``partition_filter`` holds for)."""

    def __init__(self, table, partition_filter: PartitionFilter | None = None, max_attempts: int = 3):
        self.table = table.copy({"write-only": "false"})
        self.partition_filter = partition_filter
        self.max_attempts = max_attempts
        self.commit_user = str(uuid.uuid4())

    def run(self) -> CompactionResult:
        """Prepare and commit, again from the latest snapshot after a conflict; the last
        conflict is raised when every attempt had one."""
        conflicts: list[str] = []
        while True:
            prepared = self.prepare()
            try:
                snapshot = self.commit(prepared)
            except CommitConflictError as error:
                conflicts.append(str(error))
                if len(conflicts) >= self.max_attempts:
                    raise CommitConflictError(f"Compaction of {self.table.identifier} gave up after "
                                              f"{len(conflicts)} conflicting attempts: {error}") from error
                continue
            return CompactionResult(snapshot, prepared.base_snapshot_id, prepared.buckets,
                                    prepared.files_before, prepared.files_after, len(conflicts) + 1, conflicts)

    def buckets(self, snapshot: Snapshot | None) -> list[tuple[tuple, int]]:
        """(partition, bucket) of every bucket with files in ``snapshot``, in order."""
        scan = self.table.new_scan()
        entries = scan.live_entries(snapshot, self.partition_filter)
        return sorted({(scan.partition_of(e.partition), e.bucket) for e in entries}, key=repr)

    def prepare(self) -> PreparedCompaction:
        """Compact every bucket of the latest snapshot; nothing is committed yet."""
        base = self.table.snapshot_manager.latest_snapshot()
        write = self.table.new_file_store_write()
        try:
            for partition, bucket in self.buckets(base):
                write.compact(partition, bucket, full_compaction=True)
            messages = write.prepare_commit()
        finally:
            write.close()
        return PreparedCompaction(base.id if base else None, messages, compaction_output_paths(self.table, messages))

    def commit(self, prepared: PreparedCompaction) -> Snapshot | None:
        """The COMPACT snapshot of ``prepared`` (None if it changed nothing); on a conflict the
        files it wrote are deleted and ``CommitConflictError`` is raised."""
        if not prepared.messages:
            return None
        try:
            snapshots = self.table.new_file_store_commit(self.commit_user).commit(prepared.messages)
        except CommitConflictError:
            self._discard(prepared)
            raise
        return snapshots[-1]

    def _discard(self, prepared: PreparedCompaction) -> None:
        for path in prepared.written:
            self.table.file_io.delete(path)


def compaction_output_paths(table, messages: list[CommitMessage]) -> list[str]:
    """The files compaction wrote for ``messages`` of ``table`` (upgraded files are old ones, not
    listed): what to delete when its commit is refused."""
    paths = []
    path_factory = table.new_path_factory()
    for m in messages:
        kept = {f.file_name for f in m.compact_before}
        bucket_path = path_factory.bucket_path(table.partition_computer.path(m.partition), m.bucket)
        paths += [f.external_path or f"{bucket_path}/{f.file_name}"
                  for f in m.compact_after + m.compact_changelog_files if f.file_name not in kept]
        paths += [path_factory.index_file_path(f.file_name) for f in m.new_index_files]
    return paths
