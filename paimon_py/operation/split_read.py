"""``SplitRead``: reads one split into Arrow, merging primary-key files across levels (format §6.3).

Batch splits give the merged rows of a bucket. Streaming splits (delta or changelog files) give
the files' records as they are, each with its row kind, which ``include_row_kind`` exposes as a
``_row_kind`` column (``+I``, ``-U``, ``+U``, ``-D``) like pypaimon does.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyarrow as pa

from paimon_py.data.row_kind import to_short_strings
from paimon_py.deletionvectors.index_file import DeletionVectorsIndexFile
from paimon_py.io.data_file_reader import DataFileReader
from paimon_py.io.key_value import SEQUENCE_NUMBER, VALUE_KIND
from paimon_py.io.row_tracking import output_field
from paimon_py.mergetree.merge_function import create_merge_function
from paimon_py.mergetree.record_order import RecordOrder, drop_retractions
from paimon_py.operation.split import Split
from paimon_py.partition import PartitionComputer
from paimon_py.schema.table_schema import ROW_TRACKING_COLUMNS, TableSchema


class SplitRead:
    """Reads splits of one table as its current schema."""

    def __init__(self, schema: TableSchema, reader: DataFileReader, partition_computer: PartitionComputer,
                 dv_index_file: DeletionVectorsIndexFile):
        self.schema = schema
        self.reader = reader
        self.dv_index_file = dv_index_file
        self.partition_computer = partition_computer
        self.record_order = RecordOrder.of(schema)
        self.merge_function = create_merge_function(schema) if schema.primary_keys else None
        self.row_tracking = schema.core_options.row_tracking_enabled

    def read(self, split: Split, columns: Sequence[str], include_row_kind: bool = False) -> pa.Table:
        path = self.partition_computer.path(split.partition)
        if split.streaming and self.schema.primary_keys:
            tables = [self.reader.read(path, split.bucket, f, columns, (VALUE_KIND,)) for f in split.files]
        elif split.deletion_files:
            tables = [self._read_without_deleted(path, split, i, columns) for i in range(len(split.files))]
        elif self.row_tracking and any(c in ROW_TRACKING_COLUMNS for c in columns):
            names = [c for c in columns if c not in ROW_TRACKING_COLUMNS]
            tables = [self.reader.read_tracked(path, split.bucket, f, names) for f in split.files]
        elif not self.schema.primary_keys or split.raw_convertible:
            tables = [self.reader.read(path, split.bucket, f, columns) for f in split.files]
        else:
            tables = [self._merge(path, split, columns)]
        result = _concat(tables, self._output_schema(columns))
        if include_row_kind:
            kinds = _concat_kinds(tables) if split.streaming and self.schema.primary_keys else None
            result = result.append_column(ROW_KIND_COLUMN, to_short_strings(kinds, result.num_rows))
        return result

    def _read_without_deleted(self, path: str, split: Split, index: int, columns: Sequence[str]) -> pa.Table:
        """One file without the rows its deletion vector marks."""
        table = self.reader.read(path, split.bucket, split.files[index], columns)
        deletion_file = split.deletion_files[index]
        if deletion_file is None:
            return table
        keep = np.ones(table.num_rows, dtype=bool)
        keep[self.dv_index_file.read(deletion_file)] = False
        return table.filter(keep)

    def _merge(self, path: str, split: Split, columns: Sequence[str]) -> pa.Table:
        names = self.schema.field_names
        parts = [self.reader.read(path, split.bucket, f, names, (SEQUENCE_NUMBER, VALUE_KIND))
                 for f in split.files]
        merged = drop_retractions(self.merge_function.merge_unordered(pa.concat_tables(parts), self.record_order))
        return merged.select(list(columns))

    def _output_schema(self, columns: Sequence[str]) -> pa.Schema:
        return pa.schema([output_field(self.schema, c) for c in columns])


ROW_KIND_COLUMN = "_row_kind"


def _concat_kinds(tables: list[pa.Table]) -> pa.ChunkedArray:
    return pa.chunked_array([c for t in tables for c in t.column(VALUE_KIND).chunks], pa.int8())


def _concat(tables: list[pa.Table], schema: pa.Schema) -> pa.Table:
    """Concatenate file reads and give the result the table's field nullability."""
    if not tables:
        return schema.empty_table()
    combined = pa.concat_tables([t.select(schema.names) for t in tables])
    return pa.Table.from_arrays(combined.columns, schema=schema)
