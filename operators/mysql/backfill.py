"""``backfill``: Flink CDC's low/high watermark method for one snapshot chunk, for servers whose
consistent snapshots have no binlog position (Oracle MySQL).

The chunk is selected between two reads of the binlog's end: the low watermark before and the
high watermark after. The binlog's changes of the table between them whose keys fall in the
chunk's range are replayed onto the chunk, in order, so the chunk becomes the table's rows of
that range as of the high watermark, which is then the chunk's exact position (the DBLog
algorithm). Keys are compared in Python, so this is exact for keys that Python orders as the
server does (numbers, temporal values, binary strings); see ``snapshot_progress.py``.
"""

from __future__ import annotations

from typing import Optional, Sequence

import pyarrow as pa

from operators.mysql.binlog.transaction import RowsChange
from operators.mysql.source_table import MySqlTable


def backfill(columns: list[pa.Array], table: MySqlTable, key_columns: Sequence[str], after: Optional[tuple],
             last_key: Optional[tuple], changes: Sequence[RowsChange]) -> list[pa.Array]:
    """The chunk's canonical ``columns`` with ``changes`` (of ``table``, in binlog order) applied
    to the keys in ``(after, last_key]`` (None: open on that side)."""
    names = [c.name for c in table.columns]
    key_index = [names.index(k) for k in key_columns]
    rows = {_key(row, key_index): row for row in _rows(columns)}
    touched = False
    for change in changes:
        for before, after_row in _images(change):
            for row, upsert in ((before, False), (after_row, True)):
                if row is None:
                    continue
                key = _key(row, key_index)
                if not _in_range(key, after, last_key):
                    continue
                touched = True
                if upsert:
                    rows[key] = row
                else:
                    rows.pop(key, None)
    if not touched:
        return columns
    ordered = [rows[k] for k in sorted(rows)]
    return [pa.array([row[i] for row in ordered], column.type) for i, column in enumerate(columns)]


def _rows(columns: list[pa.Array]) -> list[tuple]:
    return list(zip(*(c.to_pylist() for c in columns))) if columns else []


def _images(change: RowsChange) -> list[tuple[Optional[tuple], Optional[tuple]]]:
    """(old row, new row) per row of a change: (row, None) deleted, (None, row) inserted."""
    before = _rows(change.before) if change.before is not None else None
    after = _rows(change.after) if change.after is not None else None
    if before is None:
        return [(None, row) for row in after]
    if after is None:
        return [(row, None) for row in before]
    return list(zip(before, after))


def _key(row: tuple, key_index: list[int]) -> tuple:
    return tuple(row[i] for i in key_index)


def _in_range(key: tuple, after: Optional[tuple], last_key: Optional[tuple]) -> bool:
    return (after is None or key > after) and (last_key is None or key <= last_key)
