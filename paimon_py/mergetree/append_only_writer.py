"""``AppendOnlyWriter``: the writer of one bucket of an append (no primary key) table.

Rows are buffered and written as data files whose sequence numbers count rows. At commit, runs
of small files (below 70% of ``target-file-size``), oldest first, are merged into larger files
once ``compaction.min.file-num`` of them line up (at most ``compaction.max.file-num`` at a
time), as Paimon's append compaction does; the order of rows is kept. In a row-tracking table
only files whose row ids are known (committed) are compacted, and the rewritten files store each
row's ``_ROW_ID`` and ``_SEQUENCE_NUMBER`` (as Paimon's compaction does).
"""

from __future__ import annotations

import time

import pyarrow as pa

from paimon_py.io.data_file_meta import DataFileMeta, FILE_SOURCE_COMPACT
from paimon_py.io.data_file_reader import DataFileReader
from paimon_py.io.data_file_writer import DataFileWriter
from paimon_py.io.key_value import VALUE_KIND
from paimon_py.io.row_tracking import append_order, has_row_ids
from paimon_py.mergetree.increment import CommitIncrement, CompactIncrement, DataIncrement
from paimon_py.mergetree.write_stats import WriteStats


class AppendOnlyWriter:
    """Buffers rows and writes them as data files; compacts small files at commit."""

    def __init__(self, bucket: int, file_writer: DataFileWriter, file_reader: DataFileReader | None,
                 partition_path: str, files: list[DataFileMeta], min_file_num: int, max_file_num: int,
                 min_file_size: int):
        self.bucket = bucket
        self.file_writer = file_writer
        self.file_reader = file_reader
        self.partition_path = partition_path
        self.files = sorted(files, key=append_order)
        self.min_file_num = min_file_num
        self.max_file_num = max_file_num
        self.min_file_size = min_file_size
        self.row_tracking = file_writer.row_tracking
        self.next_sequence = max((f.max_sequence_number for f in files), default=-1) + 1
        self._buffer: list[pa.Table] = []
        self._buffered_bytes = 0
        self._new_files: list[DataFileMeta] = []
        self._full_compaction = False
        self._stats = WriteStats()

    def write(self, rows: pa.Table) -> None:
        self._buffer.append(rows.drop_columns([VALUE_KIND]))
        self._buffered_bytes += rows.nbytes

    def buffered_bytes(self) -> int:
        return self._buffered_bytes

    def release_memory(self) -> None:
        self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        data = pa.concat_tables(self._buffer)
        self._buffer, self._buffered_bytes = [], 0
        self._new_files += self.file_writer.write_append(data, self.partition_path, self.bucket,
                                                         self.next_sequence)
        self.next_sequence += data.num_rows
        self._stats.flushes += 1

    def stats(self) -> WriteStats:
        """Flushes and compactions so far; the buffer now (an append bucket has no sorted runs)."""
        return WriteStats(0, self._stats.flushes, 0, self._stats.compactions, self._stats.compaction_ms,
                          self._buffered_bytes)

    def prepare_commit(self, wait_compaction: bool) -> CommitIncrement:
        self.flush()
        increment = CommitIncrement(DataIncrement(self._new_files))
        self.files += self._new_files
        self._new_files = []
        if self.file_reader is not None:
            before = self._pick_full_compaction() if self._full_compaction else self._pick_compaction()
            self._full_compaction = False
            if before:
                started = time.monotonic()
                after = self._rewrite(before)
                self._stats.compactions += 1
                self._stats.compaction_ms += int((time.monotonic() - started) * 1000)
                increment.compact = CompactIncrement(before, after)
                names = {f.file_name for f in before}
                self.files = sorted([f for f in self.files if f.file_name not in names] + after,
                                    key=append_order)
        return increment

    def compact(self, full: bool) -> None:
        """Compact at the next ``prepare_commit``: with ``full``, every small file and all after
        it (Java's full compaction of an append bucket), else the usual pick."""
        self._full_compaction = full

    def _pick_full_compaction(self) -> list[DataFileMeta]:
        """The files from the first small one on (order kept), if at least two can be rewritten."""
        first = next((i for i, f in enumerate(self.files) if f.file_size < self.min_file_size), len(self.files))
        window: list[DataFileMeta] = []
        for f in self.files[first:]:
            if self.row_tracking and not has_row_ids(f):
                break
            window.append(f)
        return window if len(window) >= 2 else []

    def _pick_compaction(self) -> list[DataFileMeta]:
        """The oldest run of at least ``min_file_num`` consecutive small files."""
        window: list[DataFileMeta] = []
        for f in self.files:
            if not self._compactable(f):
                if len(window) >= self.min_file_num:
                    break
                window = []
                continue
            window.append(f)
            if len(window) >= self.max_file_num:
                break
        return window if len(window) >= self.min_file_num else []

    def _compactable(self, f: DataFileMeta) -> bool:
        return f.file_size < self.min_file_size and (not self.row_tracking or has_row_ids(f))

    def _rewrite(self, files: list[DataFileMeta]) -> list[DataFileMeta]:
        writer = self.file_writer.append_writer(self.partition_path, self.bucket,
                                                files[0].min_sequence_number, FILE_SOURCE_COMPACT)
        names = self.file_writer.value_names
        read = self.file_reader.read_tracked_batches if self.row_tracking else self.file_reader.read_batches
        for f in files:
            for batch in read(self.partition_path, self.bucket, f, names):
                writer.write(batch)
        return writer.close()

    def close(self) -> None:
        self._buffer = []
