"""``BucketFiles``: reading, merging and writing the key-value files of one (partition, bucket).

Compaction reads its input as sorted runs merged chunk by chunk (``sort_merge.merge_runs``), so
its memory is bounded by the number of runs times the batch size, not by the size of the data.
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

import numpy as np
import pyarrow as pa

from paimon_py.io.data_file_meta import FILE_SOURCE_COMPACT, DataFileMeta
from paimon_py.io.data_file_reader import DataFileReader
from paimon_py.io.data_file_writer import DataFileWriter, RollingFileWriter
from paimon_py.io.key_value import SEQUENCE_NUMBER, VALUE_KIND, to_key_value_table
from paimon_py.mergetree.record_order import RecordOrder, drop_retractions
from paimon_py.mergetree.sort_merge import merge_runs
from paimon_py.schema.table_schema import TableSchema

READ_BATCH_BYTES = 8 << 20
"""Arrow bytes of one batch of a sorted run that compaction reads (estimated from the file's size),
so its memory is about (runs x this) whatever the row width."""
READ_BATCH_ROWS = (1024, 65536)
"""Bounds of a batch's rows: large batches cut the per-batch cost of merging and writing."""
ARROW_BYTES_PER_FILE_BYTE = 4  # a guess at Parquet's compression, erring on the large side
SYSTEM_COLUMNS = (SEQUENCE_NUMBER, VALUE_KIND)


class BucketFiles:
    """Reads, merges and writes key-value files of one (partition, bucket)."""

    def __init__(self, schema: TableSchema, reader: DataFileReader, writer: DataFileWriter,
                 merge_function, partition_path: str, bucket: int, key_of: Callable[[bytes], tuple]):
        self.schema = schema
        self.reader = reader
        self.writer = writer
        self.merge_function = merge_function
        self.partition_path = partition_path
        self.bucket = bucket
        self.key_of = key_of
        self.key_names = schema.trimmed_primary_keys
        self.record_order = RecordOrder.of(schema)
        self.deleted: Callable[[str], np.ndarray | None] = lambda file_name: None
        """A file's deleted positions (deletion-vector mode): compaction reads skip those rows."""
        self._empty: pa.Table | None = None

    # ---- reading -----------------------------------------------------------------------------

    def read(self, files: Sequence[DataFileMeta]) -> pa.Table:
        """All records of ``files`` (sequence number, row kind, table columns), unmerged."""
        names = self.schema.field_names
        parts = [self.reader.read(self.partition_path, self.bucket, f, names, SYSTEM_COLUMNS)
                 for f in files]
        return concat(parts, self.empty())

    def sorted_runs(self, files: Sequence[DataFileMeta]) -> list[list[DataFileMeta]]:
        """Oldest first: the files of each higher level together in key order, from the highest
        level down, then each level-0 file on its own by sequence. Concatenated so, a key's
        records are already in sequence order, which ``RecordOrder.sort`` turns into speed."""
        runs = []
        for level in sorted({f.level for f in files if f.level > 0}, reverse=True):
            runs.append(sorted((f for f in files if f.level == level), key=lambda f: self.key_of(f.min_key)))
        level0 = sorted((f for f in files if f.level == 0), key=lambda f: f.max_sequence_number)
        return runs + [[f] for f in level0]

    def chunks(self, runs: Sequence[Sequence[DataFileMeta]]) -> Iterator[list[pa.Table | None]]:
        """Key-range chunks of the runs' records: one table (or None) per run."""
        return merge_runs([self._run_batches(run) for run in runs], self.key_names)

    def _run_batches(self, run: Sequence[DataFileMeta]) -> Iterator[pa.Table]:
        names = self.schema.field_names
        for f in run:
            batches = self.reader.read_batches(self.partition_path, self.bucket, f, names,
                                               SYSTEM_COLUMNS, _batch_rows(f))
            deleted = self.deleted(f.file_name)
            yield from batches if deleted is None else _without_positions(batches, deleted)

    def empty(self) -> pa.Table:
        """No records, in the records' schema (built once: compaction asks for it every chunk)."""
        if self._empty is None:
            schema = self.schema.row_type.to_arrow_schema()
            self._empty = pa.schema([pa.field(SEQUENCE_NUMBER, pa.int64(), nullable=False),
                                     pa.field(VALUE_KIND, pa.int8(), nullable=False),
                                     *[f.with_nullable(True) for f in schema]]).empty_table()
        return self._empty

    # ---- merging and writing -----------------------------------------------------------------

    def merge(self, records: pa.Table, drop_delete: bool) -> pa.Table:
        """One row per key, sorted by key; without retractions when ``drop_delete``."""
        merged = self.merge_function.merge_unordered(records, self.record_order)
        return drop_retractions(merged) if drop_delete else merged

    def rewrite(self, files: Sequence[DataFileMeta], level: int, drop_delete: bool) -> list[DataFileMeta]:
        """Merge ``files`` into new files at ``level``, chunk by chunk."""
        writer = self.writer.key_value_writer(self.partition_path, self.bucket, level, FILE_SOURCE_COMPACT)
        try:
            for chunk in self.chunks(self.sorted_runs(files)):
                merged = self.merge(concat(chunk, self.empty()), drop_delete)
                writer.write(self.to_key_value(merged))
        except BaseException:
            writer.abort()
            raise
        return writer.close()

    def write(self, merged: pa.Table, level: int) -> list[DataFileMeta]:
        """Write already merged rows as new (level-0 flush) files."""
        return self.writer.write_key_value(self.to_key_value(merged), self.partition_path, self.bucket, level)

    def changelog_writer(self) -> RollingFileWriter:
        return self.writer.key_value_writer(self.partition_path, self.bucket, changelog=True)

    def write_changelog(self, records: pa.Table) -> list[DataFileMeta]:
        return self.writer.write_key_value(self.to_key_value(records), self.partition_path,
                                           self.bucket, changelog=True)

    def to_key_value(self, records: pa.Table) -> pa.Table:
        values = records.select(self.schema.field_names)
        return to_key_value_table(values, self.key_names, records.column(SEQUENCE_NUMBER),
                                  records.column(VALUE_KIND))

    def delete(self, file: DataFileMeta) -> None:
        """Remove a file that never reached a snapshot."""
        self.reader.file_io.delete(self.reader.file_path(self.partition_path, self.bucket, file))


def _batch_rows(file: DataFileMeta) -> int:
    """Rows per batch for about ``READ_BATCH_BYTES`` of ``file``'s records in Arrow."""
    row_bytes = ARROW_BYTES_PER_FILE_BYTE * file.file_size / max(1, file.row_count)
    low, high = READ_BATCH_ROWS
    return int(min(high, max(low, READ_BATCH_BYTES / max(1.0, row_bytes))))


def _without_positions(batches: Iterator[pa.Table], positions: np.ndarray) -> Iterator[pa.Table]:
    """The batches of one file without the rows at ``positions`` (sorted file row numbers)."""
    start = 0
    for batch in batches:
        end = start + batch.num_rows
        keep = np.ones(batch.num_rows, dtype=bool)
        inside = positions[np.searchsorted(positions, start):np.searchsorted(positions, end)]
        keep[inside.astype(np.int64) - start] = False
        yield batch.filter(keep)
        start = end


def concat(parts: Sequence[pa.Table | None], empty: pa.Table) -> pa.Table:
    """Concatenate record tables whose nullability may differ (files from other writers)."""
    present = [p for p in parts if p is not None and p.num_rows]
    if not present:
        return empty
    return pa.concat_tables(present, promote_options="permissive")
