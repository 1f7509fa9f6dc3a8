"""Dynamic-bucket tables across paimon_py and Paimon Java 1.0 (tests/support/java_tool.py): each
reads what the other wrote and continues it, keys keeping the buckets the other gave them (Java
writes with its own HashBucketAssigner, restored from the index paimon_py wrote, and back)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from tests.support import helpers as h
from tests.support import java_tool
from tests.support.dynamic_bucket import assert_dynamic_bucket_layout

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SCHEMA = pa.schema([pa.field("pt", pa.int32(), nullable=False), pa.field("id", pa.int64(), nullable=False),
                    pa.field("v", pa.string())])
OPTIONS = {"bucket": "-1", "dynamic-bucket.target-row-num": "200", "file.format": "parquet"}


def _rows(start: int, stop: int, tag: str) -> list[dict]:
    return [{"pt": i % 2, "id": i, "v": f"{tag}{i}"} for i in range(start, stop)]


def _values(rows) -> dict:
    return {(r["pt"], r["id"]): r["v"] for r in rows}


def _paimon_py_table(warehouse):
    return h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.t")


def test_java_reads_and_continues_what_paimon_py_wrote(tmp_path):
    table = h.create_table(h.paimon_py_catalog(tmp_path), "t", SCHEMA, partition_keys=["pt"],
                           primary_keys=["pt", "id"], options=OPTIONS)
    ours = [_rows(0, 500, "a"), _rows(250, 900, "b")]
    for rows in ours:
        h.write_rows(table, SCHEMA, rows)
    theirs = [_rows(600, 1300, "j")]    # updates of our keys and new keys
    batch = java_tool.Batch()
    read = batch.read(tmp_path, f"{h.DB}.t")
    for rows in theirs:
        batch.write(tmp_path, f"{h.DB}.t", rows)
    read_after = batch.read(tmp_path, f"{h.DB}.t")
    results = batch.run()
    expected = _values(r for rows in ours for r in rows)
    assert _values(results[read]) == expected
    expected.update(_values(theirs[0]))
    assert _values(results[read_after]) == expected
    table = _paimon_py_table(tmp_path)
    assert _values(h.rows_sorted(table, ["pt", "id"])) == expected
    layout = assert_dynamic_bucket_layout(table)
    assert sorted(layout.values()) == [50, 50] + [200] * 6   # 650 keys per partition


def test_paimon_py_reads_and_continues_what_java_wrote(tmp_path):
    batch = java_tool.Batch()
    batch.create(tmp_path, f"{h.DB}.t", [("pt", "INT NOT NULL"), ("id", "BIGINT NOT NULL"), ("v", "STRING")],
                 partition_keys=["pt"], primary_keys=["pt", "id"], options=OPTIONS)
    theirs = [_rows(0, 500, "j"), _rows(300, 700, "k")]
    for rows in theirs:
        batch.write(tmp_path, f"{h.DB}.t", rows)
    batch.run()
    expected = _values(r for rows in theirs for r in rows)
    table = _paimon_py_table(tmp_path)
    assert _values(h.rows_sorted(table, ["pt", "id"])) == expected
    assert_dynamic_bucket_layout(table)
    ours = _rows(100, 1100, "p")
    h.write_rows(table, SCHEMA, ours)
    expected.update(_values(ours))
    table = _paimon_py_table(tmp_path)
    assert sorted(assert_dynamic_bucket_layout(table).values()) == [150, 150] + [200] * 4
    batch = java_tool.Batch()
    read = batch.read(tmp_path, f"{h.DB}.t")
    assert _values(batch.run()[read]) == expected
