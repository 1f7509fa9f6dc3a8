"""``MergeTreeWriter``: the LSM writer of one (partition, bucket) of a primary-key table.

Records get sequence numbers as they arrive (continuing from the bucket's files) and wait in
memory; a flush folds them with the merge function and writes sorted, key-unique level-0 files.
After each flush the compaction manager may start a compaction in the background; above
``num-sorted-run.stop-trigger`` sorted runs the writer stalls until compaction catches up.
``prepare_commit`` hands over new files, compaction results and changelog files, once. Rows that
arrive in key order skip the buffer: they are written as they come (``SortedRunAppend``), and a
flush closes their file.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from paimon_py.io.data_file_meta import DataFileMeta
from paimon_py.io.key_value import SEQUENCE_NUMBER
from paimon_py.mergetree.compact.compact_manager import MergeTreeCompactManager
from paimon_py.mergetree.compact.merge_tree_compact_task import CompactResult
from paimon_py.mergetree.increment import CommitIncrement, CompactIncrement, DataIncrement
from paimon_py.mergetree.key_value_io import BucketFiles, concat
from paimon_py.mergetree.sort_merge import merge_runs
from paimon_py.mergetree.sorted_run_append import SortedRunAppend
from paimon_py.mergetree.spill import SpillFiles
from paimon_py.mergetree.write_stats import WriteStats

MAX_SPILL_FILES = 64
"""Spilled runs kept per bucket before they are merged into a level-0 file."""


class MergeTreeWriter:
    def __init__(self, bucket_files: BucketFiles, compact_manager: MergeTreeCompactManager | None,
                 next_sequence: int, changelog_producer: str, full_compaction_delta_commits: int | None,
                 spill_files: SpillFiles | None = None, wait_for_level0: bool = False):
        self.bucket_files = bucket_files
        self.compact_manager = compact_manager
        self.next_sequence = next_sequence
        self.changelog_producer = changelog_producer
        self.full_compaction_delta_commits = full_compaction_delta_commits
        self.spill_files = spill_files
        self.wait_for_level0 = wait_for_level0
        self._commits_since_full = 0
        self._buffer: list[pa.Table] = []
        self._buffered_bytes = 0
        self._new_files: list[DataFileMeta] = []
        self._changelog: list[DataFileMeta] = []
        self._compact_changelog: list[DataFileMeta] = []
        self._compact_before: list[DataFileMeta] = []
        self._compact_after: list[DataFileMeta] = []
        self._stats = WriteStats()
        self._append = SortedRunAppend(bucket_files) \
            if changelog_producer != "input" and SortedRunAppend.applies_to(bucket_files) else None

    @property
    def levels(self):
        return self.compact_manager.levels if self.compact_manager else None

    def write(self, rows: pa.Table) -> None:
        """Buffer rows (table columns and ``_VALUE_KIND``) with the next sequence numbers."""
        n = rows.num_rows
        sequence = pa.array(np.arange(self.next_sequence, self.next_sequence + n, dtype=np.int64))
        self.next_sequence += n
        rows = rows.append_column(pa.field(SEQUENCE_NUMBER, pa.int64(), False), sequence)
        if self._append is not None and self._append.accepts(rows):
            self._append.append(rows)
            return
        self._buffer.append(rows)
        self._buffered_bytes += rows.nbytes

    def buffered_bytes(self) -> int:
        """Rows held in memory: the buffer and appended rows not yet in their file."""
        return self._buffered_bytes + (self._append.held_bytes() if self._append is not None else 0)

    def release_memory(self) -> None:
        """Called when the shared write buffer is full: spill to local disk if allowed, else
        (and while appended rows are held) flush to level-0 files."""
        appending = self._append is not None and self._append.held_bytes() > 0
        if self.spill_files is None or self.changelog_producer == "input" or appending:
            self.flush()
            return
        records = self._take_buffer()
        if records is not None:
            merged = self.bucket_files.merge(records, drop_delete=False)
            del records  # the unsorted rows are freed before the sorted ones are spilled
            self.spill_files.spill(merged)
            self._stats.spills += 1
            if len(self.spill_files) >= MAX_SPILL_FILES:
                self.flush()

    def flush(self) -> None:
        """Write the buffer (merged with any spilled runs) as level-0 files, then let
        compaction react."""
        new_files = self._append.close() if self._append is not None else []
        records = self._take_buffer()
        files = self.bucket_files
        if records is not None and self.changelog_producer == "input":
            self._changelog += files.write_changelog(files.record_order.sort(records))
        if self.spill_files:
            new_files += self._merge_spilled(records)
        elif records is not None:
            merged = files.merge(records, drop_delete=False)
            del records  # the unsorted rows are freed before the sorted ones are written
            new_files += files.write(merged, level=0)
        if not new_files:
            return
        self._stats.flushes += 1
        self._new_files += new_files
        if self.compact_manager is None:
            return
        for f in new_files:
            self.levels.add_level0_file(f)
        self._compact(blocking=False)
        while self.compact_manager.should_wait_for_compaction():
            if not self.compact_manager.is_running and not self.compact_manager.trigger():
                break
            self._compact(blocking=True)

    def _take_buffer(self) -> pa.Table | None:
        if not self._buffer:
            return None
        records = pa.concat_tables(self._buffer)
        self._buffer, self._buffered_bytes = [], 0
        return records

    def _merge_spilled(self, records: pa.Table | None) -> list[DataFileMeta]:
        """One level-0 run from the spilled runs and the buffer, merged chunk by chunk."""
        files = self.bucket_files
        runs = self.spill_files.runs()
        if records is not None:
            runs.append([files.merge(records, drop_delete=False)])
        writer = files.writer.key_value_writer(files.partition_path, files.bucket, level=0)
        for chunk in merge_runs(runs, files.key_names):
            merged = files.merge(concat(chunk, files.empty()), drop_delete=False)
            writer.write(files.to_key_value(merged))
        self.spill_files.clear()
        return writer.close()

    def compact(self, full: bool) -> None:
        """Flush, then compact now and wait for it (Java ``MergeTreeWriter.compact``): with ``full``
        every sorted run goes into the highest level, else what the strategy picks."""
        self.flush()
        self._apply(self.compact_manager.collect(blocking=True))
        self._compact(blocking=True, full=full)

    def _compact(self, blocking: bool, full: bool = False) -> None:
        manager = self.compact_manager
        self._apply(manager.collect(blocking=False))
        manager.trigger(full=full)
        if blocking:
            self._apply(manager.collect(blocking=True))

    def _apply(self, result: CompactResult | None) -> None:
        """Record a finished compaction; files both made and compacted away since the last
        commit are deleted and never reach a snapshot."""
        if result is None:
            return
        self._stats.compactions += 1
        self._stats.compaction_ms += result.duration_ms
        kept_names = {f.file_name for f in result.after}
        uncommitted = {(f.file_name, f.level) for f in self._compact_after}
        for f in result.before:
            if (f.file_name, f.level) in uncommitted:
                self._compact_after = [a for a in self._compact_after
                                       if (a.file_name, a.level) != (f.file_name, f.level)]
                if f.file_name not in kept_names:
                    self.bucket_files.delete(f)
            else:
                self._compact_before.append(f)
        self._compact_after += result.after
        self._compact_changelog += result.changelog

    def stats(self) -> WriteStats:
        """Flushes, spills and compactions so far; the bucket's buffer and sorted runs now."""
        runs = self.levels.number_of_sorted_runs() if self.levels else 0
        return WriteStats(0, self._stats.flushes, self._stats.spills, self._stats.compactions,
                          self._stats.compaction_ms, self.buffered_bytes(), runs)

    def prepare_commit(self, wait_compaction: bool) -> CommitIncrement:
        self.flush()
        if self.compact_manager is not None:
            self._commits_since_full += 1
            full = (self.full_compaction_delta_commits is not None
                    and self._commits_since_full >= self.full_compaction_delta_commits)
            # Level 0 must be compacted before the commit (lookup changelog, first-row visibility).
            if full or wait_compaction or self.wait_for_level0:
                self._apply(self.compact_manager.collect(blocking=True))
                self._compact(blocking=True, full=full)
                if full:
                    self._commits_since_full = 0
            else:
                self._apply(self.compact_manager.collect(blocking=False))
        compact = CompactIncrement(self._compact_before, self._compact_after, self._compact_changelog)
        maintainer = self.compact_manager.dv_maintainer if self.compact_manager else None
        if maintainer is not None:
            compact.new_index_files, compact.deleted_index_files = maintainer.prepare_commit()
        increment = CommitIncrement(DataIncrement(self._new_files, self._changelog), compact)
        self._new_files, self._changelog, self._compact_changelog = [], [], []
        self._compact_before, self._compact_after = [], []
        return increment

    def close(self) -> None:
        """Wait for a running compaction (its files stay uncommitted, cleaned as orphans); rows
        appended since the last flush are dropped, their file deleted."""
        if self._append is not None:
            self._append.abort()
        if self.compact_manager is not None and self.compact_manager.is_running:
            self.compact_manager.collect(blocking=True)
        if self.spill_files is not None:
            self.spill_files.clear()
