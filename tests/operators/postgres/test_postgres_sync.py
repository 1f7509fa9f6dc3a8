"""postgres_sync_database / postgres_sync_table end to end: the session's PostgreSQL server
(``postgres_server``, a fresh ``database`` per test), the job
on a local mini-cluster (a child process in its own session, killed by the test), the lake read
through pypaimon and compared row by row with the source.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from operators.postgres.local_server import LocalPostgres
from tests.support.jobs import password_in_file
from tests.support.paths import ROOT
from tests.support.postgres import (EVENTS, ORDERS, Job, conf_args, confirmed_lsn, fill, lake_rows, normalise,
                                    source_rows, wait_equal, workload)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def wait_synced(postgres_server, database, warehouse, job: Job, events_rows: int, timeout=120.0) -> None:
    """orders and events equal in source and lake; events (an append table) without duplicates."""
    wait_equal(postgres_server, database, warehouse, "orders", "lake.orders", ["id"], job, timeout)
    events = wait_equal(postgres_server, database, warehouse, "events", "lake.events", ["at", "message"], job, timeout)
    assert len(events) == events_rows


def test_sync_database_snapshot_stream_schema_change_and_restart(postgres_server, database, tmp_path):
    warehouse = str(tmp_path / "lake")
    postgres_server.execute(ORDERS, database=database)
    postgres_server.execute(EVENTS, database=database)
    fill(postgres_server, database, 1, 3000)
    args = ["--warehouse", warehouse, "--database", "lake",
            *conf_args(postgres_server, database, **{"scan.snapshot.chunk.size": "700"})]
    job = Job("postgres_sync_database", args, str(tmp_path / "job1.log"))
    try:
        wait_equal(postgres_server, database, warehouse, "orders", "lake.orders", ["id"], job)
        start_lsn = confirmed_lsn(postgres_server, "lake")
        workload(postgres_server, database, 5000)
        postgres_server.execute("ALTER TABLE orders ADD COLUMN region varchar(20)", database=database)
        postgres_server.execute("ALTER TABLE orders ALTER COLUMN qty TYPE bigint", database=database)
        postgres_server.execute("UPDATE orders SET region = 'r' || (id % 3) WHERE id % 5 = 0", database=database)
        postgres_server.execute("CREATE TABLE late (k int PRIMARY KEY, v text)", database=database)
        postgres_server.execute("INSERT INTO late SELECT g, 'v' || g FROM generate_series(1, 50) g", database=database)
        wait_synced(postgres_server, database, warehouse, job, events_rows=3200)
        wait_equal(postgres_server, database, warehouse, "late", "lake.late", ["k"], job)
        wait_until(lambda: confirmed_lsn(postgres_server, "lake") > start_lsn, 30,
                   "the slot's confirmed LSN to advance")
        # stopped as a service manager stops it: SIGTERM, every process of the job gone, no traceback
        assert job.terminate(timeout=60) == 128 + signal.SIGTERM, job.output()
        assert job.left_behind == [], "a process of the job outlived it"
        assert "Traceback" not in job.output(), job.output()
    finally:
        job.stop()
    # stopped; changes while it is down; the same command again, no savepoint
    workload(postgres_server, database, 9000)
    job = Job("postgres_sync_database", args, str(tmp_path / "job2.log"))
    try:
        wait_synced(postgres_server, database, warehouse, job, events_rows=3400)
    finally:
        job.stop()


def test_snapshot_mode_is_bounded(postgres_server, database, tmp_path):
    """Also: the password given as a file (``password.file``) is nowhere in the command line or output."""
    warehouse = str(tmp_path / "lake")
    postgres_server.execute(ORDERS, database=database)
    postgres_server.execute(EVENTS, database=database)
    fill(postgres_server, database, 1, 1500)
    conf, password = password_in_file(conf_args(postgres_server, database, **{
        "table-name": "orders", "scan.startup.mode": "snapshot"}), str(tmp_path))
    args = ["--warehouse", warehouse, "--database", "lake", "--table", "orders_copy",
            "--computed_column", "day=date_format(placed, 'yyyy-MM-dd')", "--metadata_column", "table_name,op_ts",
            *conf]
    job = Job("postgres_sync_table", args, str(tmp_path / "job.log"))
    code = job.wait(timeout=180)
    assert code == 0, job.output()
    assert not [a for a in args if a.startswith("password=")] and f"password={password}" not in job.output()
    assert job.left_behind == [], "a process of the job outlived it"
    slots = postgres_server.execute("SELECT slot_name FROM pg_replication_slots WHERE database = %s", (database,))
    assert slots == [], "the bounded mode reads no changes: it must leave no slot behind"
    lake = lake_rows(warehouse, "lake.orders_copy", ["id"])
    assert all(r["day"] == r["placed"].strftime("%Y-%m-%d") and r["table_name"] == "orders"
               and r["op_ts"].timestamp() == 0 for r in lake)
    extras = ("day", "table_name", "op_ts")
    assert normalise([{k: v for k, v in r.items() if k not in extras} for r in lake]) == \
        normalise(source_rows(postgres_server, database, "orders", ["id"]))


def test_failures_during_snapshot_and_streaming_restore_from_checkpoints(postgres_server, database, tmp_path):
    warehouse = str(tmp_path / "lake")
    postgres_server.execute(ORDERS, database=database)
    postgres_server.execute(EVENTS, database=database)
    fill(postgres_server, database, 1, 4000)
    args = ["--warehouse", warehouse, "--database", "lake", "--failure_dir", str(tmp_path / "failures"),
            "--fail", "reader:after-emit:3", "--fail", "writer:after-flush:6", "--fail", "reader:after-emit:60",
            *conf_args(postgres_server, database, **{"scan.snapshot.chunk.size": "300"})]
    job = Job("postgres_sync_database", args, str(tmp_path / "job.log"))
    try:
        workload(postgres_server, database, 6000)
        wait_equal(postgres_server, database, warehouse, "orders", "lake.orders", ["id"], job, timeout=180)
        deadline = time.monotonic() + 90  # the third failure point fires while streaming
        while len(os.listdir(tmp_path / "failures")) < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
        workload(postgres_server, database, 7000)
        wait_synced(postgres_server, database, warehouse, job, events_rows=4400, timeout=180)
    finally:
        job.stop()
    assert len(os.listdir(tmp_path / "failures")) == 3, job.output()


def test_misconfigured_server_and_bad_options_fail_fast(tmp_path):
    # a private server, not postgres_server: wal_level=replica is the misconfiguration under test
    with LocalPostgres(settings={"wal_level": "replica"}) as server:
        result = subprocess.run(
            [sys.executable, os.path.join(ROOT, "jobs", "postgres_sync_database.py"), "--warehouse",
             str(tmp_path / "lake"), "--database", "lake", *conf_args(server, "postgres")],
            capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert result.returncode != 0
        assert "wal_level = logical" in result.stderr, result.stderr[-3000:]
        result = subprocess.run(
            [sys.executable, os.path.join(ROOT, "jobs", "postgres_sync_table.py"), "--warehouse",
             str(tmp_path / "lake"), "--database", "lake", "--table", "t",
             *conf_args(server, "postgres", **{"scan.startup.mode": "earliest", "table-name": "t"})],
            capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert "scan.startup.mode=earliest is unknown — use one of initial, latest-offset, snapshot" in result.stderr


def test_killed_during_snapshot_resumes_without_savepoint(postgres_server, database, tmp_path):
    warehouse = str(tmp_path / "lake")
    postgres_server.execute(ORDERS, database=database)
    postgres_server.execute(EVENTS, database=database)
    fill(postgres_server, database, 1, 12000)
    args = ["--warehouse", warehouse, "--database", "lake", "--ticks_per_second", "4",
            *conf_args(postgres_server, database, **{"scan.snapshot.chunk.size": "400"})]
    job = Job("postgres_sync_database", args, str(tmp_path / "job1.log"))
    try:
        wait_until(lambda: lake_rows(warehouse, "lake.orders", ["id"]), 120, "the first rows in the lake", job.output)
        assert 0 < len(lake_rows(warehouse, "lake.orders", ["id"])) < 12000, job.output()
    finally:
        job.stop()
    workload(postgres_server, database, 20000)
    job = Job("postgres_sync_database", args, str(tmp_path / "job2.log"))  # the same command
    try:
        wait_synced(postgres_server, database, warehouse, job, events_rows=12200, timeout=180)
    finally:
        job.stop()


def test_quiet_tables_do_not_pin_wal(postgres_server, database, tmp_path):
    warehouse = str(tmp_path / "lake")
    postgres_server.execute(ORDERS, database=database)
    postgres_server.execute(EVENTS, database=database)
    fill(postgres_server, database, 1, 100)
    postgres_server.execute("CREATE SCHEMA other; CREATE TABLE other.noise (x int)", database=database)
    job = Job("postgres_sync_table", ["--warehouse", warehouse, "--database", "lake", "--table", "orders",
                                      *conf_args(postgres_server, database, **{"table-name": "orders"})],
              str(tmp_path / "job.log"))
    try:
        wait_equal(postgres_server, database, warehouse, "orders", "lake.orders", ["id"], job)
        # the captured table stays quiet; a table the job does not capture writes WAL
        postgres_server.execute("INSERT INTO other.noise SELECT generate_series(1, 200000)", database=database)
        target = int(postgres_server.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")[0][0])
        wait_until(lambda: confirmed_lsn(postgres_server, "lake") >= target, 60, "the slot to confirm past the noise",
                   job.output)
    finally:
        job.stop()


def _run_sync_table(server, database, tmp_path, **conf) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "jobs", "postgres_sync_table.py"), "--warehouse",
         str(tmp_path / "lake"), "--database", "lake", "--table", "t",
         *conf_args(server, database, **{"table-name": "orders", **conf})],
        capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_missing_privilege_and_busy_slot_fail_fast(postgres_server, database, tmp_path):
    import psycopg2
    import psycopg2.extras
    postgres_server.execute(ORDERS, database=database)
    postgres_server.execute("CREATE ROLE reader LOGIN PASSWORD 'pw' NOREPLICATION")
    try:
        result = _run_sync_table(postgres_server, database, tmp_path, username="reader", password="pw")
        assert result.returncode != 0
        assert "ALTER ROLE reader WITH REPLICATION" in result.stderr, result.stderr[-3000:]
    finally:
        postgres_server.execute("DROP ROLE reader")
    postgres_server.execute("SELECT pg_create_logical_replication_slot('busy', 'pgoutput')", database=database)
    conn = psycopg2.connect(postgres_server.dsn_for(database),
                            connection_factory=psycopg2.extras.LogicalReplicationConnection)
    try:
        cur = conn.cursor()
        cur.start_replication(slot_name="busy", decode=False,
                              options={"proto_version": "1", "publication_names": "none"})
        result = _run_sync_table(postgres_server, database, tmp_path, **{"slot.name": "busy"})
        assert result.returncode != 0
        assert "Slot busy is in use by server process" in result.stderr, result.stderr[-3000:]
    finally:
        conn.close()
