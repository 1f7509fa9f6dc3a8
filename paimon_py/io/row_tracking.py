"""Row tracking: the ``_ROW_ID`` and ``_SEQUENCE_NUMBER`` of an append table's rows.

A file written by an insert stores neither: its rows' ids are its ``_FIRST_ROW_ID`` (assigned at
commit from the snapshot's ``nextRowId``) plus their position, their sequence number is the
file's ``_MAX_SEQUENCE_NUMBER`` (the committing snapshot's id). A compacted file stores both as
columns, listed in its ``_WRITE_COLS``, as Paimon's compaction writes them. Readers take a stored
value where there is one, else the file's (Paimon's ``DataFileRecordReader``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paimon_py.exceptions import TableFormatError
from paimon_py.io.data_file_meta import DataFileMeta
from paimon_py.io.key_value import SEQUENCE_NUMBER
from paimon_py.schema.table_schema import ROW_ID, ROW_TRACKING_COLUMNS, TableSchema
from paimon_py.types import to_arrow_field


def stored_columns(meta: DataFileMeta) -> tuple[str, ...]:
    """The row-tracking columns the file holds (those in its ``_WRITE_COLS``)."""
    return tuple(c for c in ROW_TRACKING_COLUMNS if meta.write_cols and c in meta.write_cols)


def has_row_ids(meta: DataFileMeta) -> bool:
    """Whether the file's row ids are known: committed (``_FIRST_ROW_ID``) or stored."""
    return meta.first_row_id is not None or ROW_ID in stored_columns(meta)


def append_order(meta: DataFileMeta) -> tuple[int, int]:
    """Append files oldest first: by sequence number, then (files of one row-tracking commit
    share it) by first row id."""
    return meta.min_sequence_number, -1 if meta.first_row_id is None else meta.first_row_id


def output_field(schema: TableSchema, name: str) -> pa.Field:
    """The Arrow field a read returns for a table column or a row-tracking column."""
    if name in ROW_TRACKING_COLUMNS:
        return pa.field(name, pa.int64(), nullable=False)
    return to_arrow_field(schema.field(name))


def complete(rows: pa.Table, meta: DataFileMeta, position: int) -> pa.Table:
    """``rows`` (the file's rows from ``position`` on, with its stored row-tracking columns) with
    ``_ROW_ID`` and ``_SEQUENCE_NUMBER`` last, never null."""
    count = rows.num_rows
    if meta.first_row_id is not None:
        ids = pa.array(np.arange(count, dtype=np.int64) + (meta.first_row_id + position))
    elif ROW_ID in rows.column_names:
        ids = pa.nulls(count, pa.int64())
    else:
        raise TableFormatError(f"Data file {meta.file_name} of a row-tracking table has neither "
                               f"_FIRST_ROW_ID nor a _ROW_ID column (it was never committed).")
    sequence = pa.array(np.full(count, meta.max_sequence_number, dtype=np.int64))
    columns = {ROW_ID: ids, SEQUENCE_NUMBER: sequence}
    for name in stored_columns(meta):
        columns[name] = pc.coalesce(rows.column(name), columns[name])
    rows = rows.drop_columns([c for c in ROW_TRACKING_COLUMNS if c in rows.column_names])
    for name, values in columns.items():
        rows = rows.append_column(pa.field(name, pa.int64(), nullable=False), values)
    return rows


class RowIdRun:
    """Follows the ``_ROW_ID`` column written into one file: its first id if the ids are
    consecutive (kept as the compacted file's ``_FIRST_ROW_ID``, so readers that ignore the
    stored column still get them right), else ``None``."""

    def __init__(self):
        self.first: int | None = None
        self.next: int | None = None
        self.consecutive = True

    def update(self, ids: pa.ChunkedArray) -> None:
        values = ids.to_numpy()
        if not len(values) or not self.consecutive:
            return
        if self.first is None:
            self.first = self.next = int(values[0])
        expected = np.arange(self.next, self.next + len(values), dtype=np.int64)
        self.consecutive = bool(np.array_equal(values, expected))
        self.next += len(values)

    def first_row_id(self) -> int | None:
        return self.first if self.consecutive else None
