"""The low/high watermark backfill of a snapshot chunk (``operators/mysql/backfill.py``) on recorded
event sequences: the chunk as selected, the binlog's changes between its watermarks, and the rows
the chunk must hold at the high watermark (no server)."""

from __future__ import annotations

from typing import Optional

import pyarrow as pa

from operators.mysql.backfill import backfill
from operators.mysql.binlog.transaction import RowsChange
from operators.mysql.source_table import MySqlColumn, MySqlTable, MySqlType

TABLE = MySqlTable("shop", "items", (MySqlColumn("id", MySqlType("int"), False), MySqlColumn("v", MySqlType("text"))),
                   ("id",))


def columns(rows: list[tuple]) -> list[pa.Array]:
    return [pa.array([r[0] for r in rows], pa.int64()), pa.array([r[1] for r in rows], pa.string())]


def change(kind: str, before: Optional[list[tuple]] = None, after: Optional[list[tuple]] = None) -> RowsChange:
    return RowsChange(TABLE, kind, columns(before) if before is not None else None,
                      columns(after) if after is not None else None)


def rows_of(arrays: list[pa.Array]) -> list[tuple]:
    return list(zip(*(a.to_pylist() for a in arrays)))


CHUNK = [(11, "a"), (12, "b"), (15, "c")]
"""Selected for the range (10, 20]."""


def test_no_change_between_the_watermarks_keeps_the_chunk():
    chunk = columns(CHUNK)
    assert backfill(chunk, TABLE, ("id",), (10,), (20,), []) is chunk


def test_changes_in_the_range_are_replayed_in_order():
    recorded = [change("insert", after=[(13, "new")]), change("update", [(12, "b")], [(12, "b2")]),
                change("delete", before=[(11, "a")]), change("update", [(12, "b2")], [(12, "b3")]),
                change("insert", after=[(11, "again")])]
    assert rows_of(backfill(columns(CHUNK), TABLE, ("id",), (10,), (20,), recorded)) == \
        [(11, "again"), (12, "b3"), (13, "new"), (15, "c")]


def test_changes_outside_the_range_are_left_to_their_chunks():
    recorded = [change("insert", after=[(5, "before"), (21, "after"), (20, "edge")]),
                change("delete", before=[(10, "x")])]
    assert rows_of(backfill(columns(CHUNK), TABLE, ("id",), (10,), (20,), recorded)) == CHUNK + [(20, "edge")]


def test_a_key_moved_out_of_the_range_leaves_it_and_one_moved_in_joins_it():
    recorded = [change("update", [(15, "c")], [(99, "c")]), change("update", [(3, "z")], [(14, "z")])]
    assert rows_of(backfill(columns(CHUNK), TABLE, ("id",), (10,), (20,), recorded)) == \
        [(11, "a"), (12, "b"), (14, "z")]


def test_a_selected_row_changed_before_the_select_is_replayed_to_the_same_state():
    """A change between the low watermark and the query is in the chunk already; replaying it and
    the later ones ends in the state at the high watermark."""
    recorded = [change("update", [(12, "old")], [(12, "b")]), change("update", [(12, "b")], [(12, "late")])]
    assert rows_of(backfill(columns(CHUNK), TABLE, ("id",), (10,), (20,), recorded)) == \
        [(11, "a"), (12, "late"), (15, "c")]


def test_open_ranges_at_both_ends():
    recorded = [change("insert", after=[(-5, "low"), (10_000, "high")])]
    assert rows_of(backfill(columns(CHUNK), TABLE, ("id",), None, None, recorded)) == \
        [(-5, "low"), *CHUNK, (10_000, "high")]
