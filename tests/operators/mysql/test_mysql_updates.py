"""How the MySQL source hands over updates, driven without Flink on a private server: ``-U old,
+U new`` per row, ``-D old, +I new`` where the key moved, and for a lake table that writes upserts
(``operators/cdc/upsert.py``) ``+U new`` alone where the key stayed; a lake table that needs the
old images (here the ``input`` changelog producer) gets them whatever its spec says."""

from __future__ import annotations

import time

import pyarrow as pa
import pytest

from operators.cdc.catalog import open_catalog
from operators.cdc.change_batch import ChangeBatch
from operators.cdc.targets import database_targets
from operators.mysql.binlog.server_position import current_position
from operators.mysql.change_source import MySqlSourceFactory
from operators.mysql.local_server import LocalMariaDB
from operators.mysql.source_config import MySqlSourceConfig, TypeMapping
from paimon_py.schema.schema import Schema

pytestmark = pytest.mark.slow

I, UB, UA, D = 0, 1, 2, 3


@pytest.fixture(scope="module")
def server():
    with LocalMariaDB() as private:
        private.execute("CREATE DATABASE shop")
        yield private


def _changes(server, lake: dict, table: str) -> list[tuple[int, int, str]]:
    """(row kind, id, v) of every row the source hands over for one transaction of updates: two
    rows updated in place, then one in place and one whose key moves from 3 to 30 (one rows event)."""
    server.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY, v TEXT)", database="shop")
    server.execute(f"INSERT INTO {table} VALUES (1, 'a'), (2, 'b'), (3, 'c')", database="shop")
    config = MySqlSourceConfig.parse({**server.conf("shop"), "table-name": table,
                                      "scan.startup.mode": "latest-offset"}, True)
    source = MySqlSourceFactory(config, database_targets("lake", "", "", {}), TypeMapping(), lake=lake) \
        .open(None, "updates-test")
    source.start()
    conn = server.connect("shop")
    try:
        with conn.cursor() as cur:
            cur.execute(f"UPDATE {table} SET v = CONCAT(v, '2') WHERE id IN (1, 3)")
            cur.execute(f"UPDATE {table} SET v = 'x', id = IF(id = 3, 30, id) WHERE id IN (2, 3)")
        conn.commit()
        end = current_position(conn).file_pos()
    finally:
        conn.close()
    rows = []
    deadline = time.monotonic() + 60
    try:
        while source.binlog.file_pos() < end:
            assert time.monotonic() < deadline, f"the source stayed at {source.binlog}"
            rows += [r for e in source.step(0.05) if isinstance(e, ChangeBatch) for r in e.rows().to_pylist()]
    finally:
        source.close()
    return [(r["_row_kind"], r["id"], r["v"]) for r in rows]


def test_updates_of_an_upsert_table_leave_out_the_old_rows(server, tmp_path):
    assert _changes(server, {"warehouse": str(tmp_path)}, "upserted") == [
        (UA, 1, "a2"), (UA, 3, "c2"), (UA, 2, "x"), (D, 3, "c2"), (I, 30, "x")]


def test_a_table_that_needs_the_old_rows_gets_them(server, tmp_path):
    lake = {"warehouse": str(tmp_path)}
    catalog = open_catalog(lake)
    catalog.create_database("lake")
    catalog.create_table("lake.retracted", Schema.from_pyarrow_schema(
        pa.schema([pa.field("id", pa.int32(), False), pa.field("v", pa.string())]), primary_keys=["id"],
        options={"changelog-producer": "input"}))
    assert _changes(server, lake, "retracted") == [
        (UB, 1, "a"), (UA, 1, "a2"), (UB, 3, "c"), (UA, 3, "c2"), (UB, 2, "b"), (UA, 2, "x"), (D, 3, "c2"),
        (I, 30, "x")]


def test_without_a_lake_every_update_keeps_its_old_row(server):
    assert _changes(server, None, "unknown") == [
        (UB, 1, "a"), (UA, 1, "a2"), (UB, 3, "c"), (UA, 3, "c2"), (UB, 2, "b"), (UA, 2, "x"), (D, 3, "c2"),
        (I, 30, "x")]
