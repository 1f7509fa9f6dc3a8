"""Streaming read API (shaped like pypaimon's): follow a table snapshot by snapshot.

The first plan is the full content of the latest snapshot (Paimon's default ``latest-full``
mode), as inserts. Each following plan holds one new snapshot's changes: without a changelog
producer, the new data files of APPEND snapshots (COMPACT and OVERWRITE snapshots are skipped);
with ``input``, ``lookup`` or ``full-compaction``, the snapshot's changelog files, whatever its
commit kind. ``checkpoint()``/``restore()`` carry the position (the next snapshot id).
"""

from __future__ import annotations

from typing import Sequence

from paimon_py.manifest.manifest_entry import FileKind, ManifestEntry
from paimon_py.operation.split import Split
from paimon_py.snapshot.snapshot import CommitKind, Snapshot
from paimon_py.table.read_builder import Plan, ReadBuilder
from paimon_py.table.table_read import TableRead


class StreamReadBuilder:
    def __init__(self, table):
        self.table = table
        self._batch = ReadBuilder(table)
        self.include_row_kind = False

    def with_projection(self, columns: Sequence[str]) -> "StreamReadBuilder":
        self._batch.with_projection(columns)
        return self

    def with_partition_filter(self, spec) -> "StreamReadBuilder":
        self._batch.with_partition_filter(spec)
        return self

    def with_include_row_kind(self, include: bool = True) -> "StreamReadBuilder":
        """Add a ``_row_kind`` column (``+I``, ``-U``, ``+U``, ``-D``) to what is read."""
        self.include_row_kind = include
        return self

    def new_streaming_scan(self) -> "StreamTableScan":
        return StreamTableScan(self.table, self._batch)

    def new_read(self) -> TableRead:
        return TableRead(self.table, self._batch.projection, self.include_row_kind)


class StreamTableScan:
    """Plans snapshot after snapshot; ``plan()`` returns None while there is nothing new."""

    def __init__(self, table, batch: ReadBuilder):
        self.table = table
        self.batch = batch
        self.next_snapshot_id: int | None = None
        self.read_changelog = bool(table.primary_keys) and table.options.changelog_producer != "none"

    def checkpoint(self) -> int | None:
        return self.next_snapshot_id

    def restore(self, next_snapshot_id: int | None) -> None:
        self.next_snapshot_id = next_snapshot_id

    def plan(self) -> Plan | None:
        manager = self.table.snapshot_manager
        if self.next_snapshot_id is None:
            latest = manager.latest_snapshot()
            if latest is None:
                return None
            self.next_snapshot_id = latest.id + 1
            return self.batch.with_snapshot(latest.id).new_scan().plan()
        while manager.snapshot_exists(self.next_snapshot_id):
            snapshot = manager.snapshot(self.next_snapshot_id)
            self.next_snapshot_id += 1
            splits = self._follow_up(snapshot)
            if splits is not None:
                return Plan(splits)
        earliest = manager.earliest_snapshot_id()
        if earliest is not None and self.next_snapshot_id < earliest:
            raise RuntimeError(f"Snapshot {self.next_snapshot_id} has expired (earliest is {earliest}); "
                               f"the stream cannot continue without a gap. Raise "
                               f"'snapshot.num-retained.*' or restart from the latest snapshot.")
        return None

    def _follow_up(self, snapshot: Snapshot) -> list[Split] | None:
        scan = self.table.new_scan()
        if self.read_changelog:
            if snapshot.changelog_manifest_list is None:
                return None
            entries = scan.read_entries(scan.manifest_list.read(snapshot.changelog_manifest_list))
        elif snapshot.commit_kind == CommitKind.APPEND:
            entries = scan.delta_entries(snapshot)
        else:
            return None
        return self._splits(scan, [e for e in entries if e.kind == FileKind.ADD])

    def _splits(self, scan, entries: list[ManifestEntry]) -> list[Split]:
        groups: dict[tuple, list[ManifestEntry]] = {}
        for entry in entries:
            partition = scan.partition_of(entry.partition)
            if self.batch.partition_filter is None or self.batch.partition_filter(partition):
                groups.setdefault((partition, entry.bucket), []).append(entry)
        return [Split(partition, bucket, tuple(e.file for e in group), True, streaming=True)
                for (partition, bucket), group in groups.items()]
