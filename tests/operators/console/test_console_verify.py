"""``paimon-cdc verify`` end to end: a running sync job (PostgreSQL, MariaDB) whose lake is
compared with its source at the same point (equal: exit 0), then a row changed behind the job's
back (exit 1, naming its key and column)."""

from __future__ import annotations

import json
import threading
import time
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from operators.cdc.verification import ATTEMPTS
from tests.support import mariadb, postgres
from tests.support.helpers import paimon_py_catalog, read_arrow, write_batches
from tests.support.jobs import Job
from tests.support.paimon_cdc import ConsoleRun, run_console, wait_published

pytestmark = pytest.mark.slow

PG_KINDS = """CREATE TABLE kinds (id int PRIMARY KEY, flag boolean, small smallint, ratio real, amount double precision,
    price numeric(20,5), day date, at timestamptz, clock time, data bytea, doc jsonb, tags text[], code uuid,
    label varchar(10))"""
PG_KINDS_ROWS = """INSERT INTO kinds SELECT g, g % 2 = 0, g % 100, g / 3.0, g * 1.5, g * 1.00001, date '2024-01-01' + g,
    timestamptz '2024-01-01 00:00:00+02' + g * interval '1 hour', time '10:00' + g * interval '1 second',
    decode(md5(g::text), 'hex'), jsonb_build_object('g', g, 'name', 'n' || g), ARRAY['a' || g, '', NULL],
    md5(g::text)::uuid, 'l' || g FROM generate_series(1, 300) g"""
MY_KINDS = """CREATE TABLE kinds (id INT PRIMARY KEY, flag TINYINT(1), small SMALLINT UNSIGNED, ratio FLOAT,
    amount DOUBLE, price DECIMAL(20,5), day DATE, at TIMESTAMP(3) NULL, clock TIME(2), data VARBINARY(16),
    doc JSON, colour ENUM('red', 'green'), tags SET('a', 'b', 'c'), bits BIT(5), label VARCHAR(10))"""
MY_KINDS_ROWS = """INSERT INTO kinds SELECT seq, seq % 2, seq % 100, seq / 3, seq * 1.5, seq * 1.00001,
    DATE('2024-01-01') + INTERVAL seq DAY, TIMESTAMP('2024-01-01') + INTERVAL seq HOUR,
    SEC_TO_TIME(seq + 0.25), UNHEX(MD5(seq)), JSON_OBJECT('g', seq), IF(seq % 2, 'red', 'green'),
    IF(seq % 3, 'a,c', ''), seq % 32, CONCAT('l', seq) FROM seq_1_to_300"""


def verify(warehouse: str, source_flags: list[str], *extra: str) -> ConsoleRun:
    return run_console("verify", "--json", "--warehouse", warehouse, "--database", "lake", "--timeout", "120",
                       *source_flags, *extra)


def verify_during(step: Callable[[int], None], warehouse: str, source_flags: list[str]) -> ConsoleRun:
    """``verify`` while ``step(i)`` (a small change of the source) runs again and again in a thread."""
    done = threading.Event()

    def workload() -> None:
        i = 0
        while not done.is_set():
            step(i)
            i += 1
            time.sleep(0.05)
    writer = threading.Thread(target=workload)
    writer.start()
    try:
        return verify(warehouse, source_flags)
    finally:
        done.set()
        writer.join()


def assert_all_equal(run: ConsoleRun, tables: int) -> dict:
    assert run.returncode == 0, run.stdout + run.stderr
    document = run.json()
    assert document["equal"] and len(document["tables"]) == tables
    for table in document["tables"]:
        assert table["equal"] and table["source_rows"] > 0, table
        if not table["changing"]:  # a live workload: the last read's counts and checksums may differ
            assert (table["source_rows"], table["source_checksum"]) == (table["lake_rows"], table["lake_checksum"])
    return document


def change_in_lake(warehouse: str, table: str, key: int, column: str, value) -> None:
    """Writes one row of the lake with one value changed, with paimon_py (the job never sees it)."""
    lake = paimon_py_catalog(warehouse).get_table(table)
    rows = read_arrow(lake)
    row = rows.filter(pc.equal(rows["id"], key))
    write_batches(lake, row.set_column(row.schema.get_field_index(column), column,
                                       pa.array([value], row.schema.field(column).type)))


def assert_one_row_differs(run: ConsoleRun, table: str, key: int, column: str) -> None:
    assert run.returncode == 1, run.stdout + run.stderr
    document = run.json()
    assert not document["equal"] and document["attempts"] == ATTEMPTS
    verdicts = {t["table"]: t for t in document["tables"]}
    differing = verdicts.pop(table)
    assert differing["first_keys"] == [{"id": key}]
    assert (differing["differing_columns"], differing["changed"]) == ([column], 1)
    assert differing["source_rows"] == differing["lake_rows"]
    assert all(t["equal"] for t in verdicts.values())


def test_postgres_lake_verified_then_a_row_changed_behind_the_jobs_back(postgres_server, database, tmp_path):
    pg, warehouse = postgres_server, str(tmp_path / "lake")
    for statement in (postgres.ORDERS, postgres.EVENTS, PG_KINDS, PG_KINDS_ROWS,
                      "INSERT INTO kinds (id) VALUES (0)"):  # NULL in every other column
        pg.execute(statement, database=database)
    postgres.fill(pg, database, 1, 500)
    flags = postgres.conf_args(pg, database)
    job = Job("postgres_sync_database", ["--warehouse", warehouse, "--database", "lake", "--metadata_column",
                                         "table_name", *flags], str(tmp_path / "job.log"))
    try:
        wait_published(warehouse, job)
        postgres.workload(pg, database, 1000)
        pg.execute("UPDATE kinds SET label = NULL, doc = '[]', tags = '{}' WHERE id % 10 = 0", database=database)
        document = assert_all_equal(verify(warehouse, flags), 3)
        assert {t["table"]: t["not_compared"] for t in document["tables"]} == \
            {"lake.events": ["table_name"], "lake.kinds": ["table_name"], "lake.orders": ["table_name"]}
        assert_all_equal(verify_during(lambda i: pg.execute(
            f"UPDATE orders SET qty = qty + 1 WHERE id % 13 = {i % 13}; INSERT INTO events VALUES (now(), 'live {i}')",
            database=database), warehouse, flags), 3)
        assert_lake_subcommands_read_the_synced_lake(warehouse, pg.execute("SELECT label FROM kinds WHERE id = 7",
                                                                           database=database)[0][0])
        change_in_lake(warehouse, "lake.kinds", 7, "label", "changed")
        assert_one_row_differs(verify(warehouse, flags), "lake.kinds", 7, "label")
    finally:
        job.stop()


def assert_lake_subcommands_read_the_synced_lake(warehouse: str, label_of_7: str) -> None:
    """``tables``, ``describe``, ``snapshots``, ``files`` and ``read`` on the job's lake (``--json``)."""
    def console(*args: str):
        run = run_console(*args, "--json", "--warehouse", warehouse)
        assert run.returncode == 0, run.stdout + run.stderr
        return run.json()

    tables = {t["table"]: t for t in console("tables", "--database", "lake")}
    assert set(tables) == {"lake.events", "lake.kinds", "lake.orders"}
    assert tables["lake.kinds"]["primary_keys"] == ["id"] and tables["lake.kinds"]["bucket_mode"] == "dynamic"
    assert tables["lake.events"]["primary_keys"] == [] and tables["lake.events"]["bucket_mode"] == "unaware"
    described = console("describe", "lake.kinds")
    assert "label" in json.dumps(described) and "VARCHAR(10)" in json.dumps(described)
    snapshots = console("snapshots", "lake.orders")
    assert snapshots[0]["id"] >= tables["lake.orders"]["snapshot"]  # the job keeps committing
    assert any(s["positions"] for s in snapshots), "the job's snapshots carry its source position"
    assert sum(f["records"] for f in console("files", "lake.kinds")) >= 301
    rows = console("read", "lake.kinds", "--where", "id = 7", "--select", "id,label")
    assert rows == [{"id": 7, "label": label_of_7}]


def test_mariadb_lake_verified_then_a_row_changed_behind_the_jobs_back(mariadb_server, mysql_database, tmp_path):
    server, database, warehouse = mariadb_server, mysql_database, str(tmp_path / "lake")
    mariadb.shop(server, database, 500)
    for statement in (MY_KINDS, MY_KINDS_ROWS, "INSERT INTO kinds (id) VALUES (0)"):
        server.execute(statement, database=database)
    flags = mariadb.mysql_conf_args(server, database, **{"heartbeat.interval": "1s"})
    job = Job("mysql_sync_database", ["--warehouse", warehouse, "--database", "lake", *flags],
              str(tmp_path / "job.log"))
    try:
        wait_published(warehouse, job)
        mariadb.workload(server, database, 1000)
        server.execute("UPDATE kinds SET label = NULL, tags = '', bits = 0 WHERE id % 10 = 0", database=database)
        document = assert_all_equal(verify(warehouse, flags), 3)
        assert all(t["not_compared"] == [] for t in document["tables"])
        assert_all_equal(verify_during(lambda i: server.execute(
            f"UPDATE orders SET qty = qty + 1 WHERE id % 13 = {i % 13}", database=database), warehouse, flags), 3)
        server.execute("SET STATEMENT sql_log_bin = 0 FOR UPDATE orders SET qty = 999 WHERE id = 5", database=database)
        assert_one_row_differs(verify(warehouse, flags), "lake.orders", 5, "qty")
    finally:
        job.stop()
