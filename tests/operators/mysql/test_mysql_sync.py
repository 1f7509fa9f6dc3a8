"""mysql_sync_database / mysql_sync_table end to end: the session's private MariaDB
(``mariadb_server``, a fresh ``mysql_database`` per test; a test that restarts or misconfigures a
server starts its own), the job on a local mini-cluster (a child process, killed by the test),
the lake read through pypaimon and compared row by row with the source.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from operators.cdc.source_position import POSITIONS_DIRECTORY
from operators.mysql.local_server import LocalMariaDB
from tests.support.jobs import Job, assert_refused, lake_rows, password_in_file
from tests.support.mariadb import (EVENTS, ORDERS, fill, fresh_mysql_database, mysql_conf_args, shop,
                                   source_rows, wait_equal, wait_synced, workload)
from tests.support.paths import ROOT
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def test_sync_database_snapshot_stream_schema_change_and_restart(mariadb_server, mysql_database, tmp_path):
    server, database, warehouse = mariadb_server, mysql_database, str(tmp_path / "lake")
    shop(server, database, 3000)
    args = ["--warehouse", warehouse, "--database", "lake",
            *mysql_conf_args(server, database, **{"scan.incremental.snapshot.chunk.size": "700"})]
    job = Job("mysql_sync_database", args, str(tmp_path / "job1.log"))
    try:
        wait_equal(server, database, warehouse, "orders", "lake.orders", ["id"], job)
        workload(server, database, 5000)
        server.execute("ALTER TABLE orders ADD COLUMN region VARCHAR(20)", database=database)
        server.execute("ALTER TABLE orders MODIFY qty BIGINT", database=database)
        server.execute("UPDATE orders SET region = CONCAT('r', id % 3) WHERE id % 5 = 0", database=database)
        server.execute("CREATE TABLE late (k INT PRIMARY KEY, v TEXT)", database=database)
        server.execute("INSERT INTO late SELECT seq, CONCAT('v', seq) FROM seq_1_to_50", database=database)
        wait_synced(server, database, warehouse, job, events_rows=3201)
        wait_equal(server, database, warehouse, "late", "lake.late", ["k"], job)
    finally:
        job.stop()
    # killed; changes while it is down; the same command again, no savepoint
    workload(server, database, 9000)
    job = Job("mysql_sync_database", args, str(tmp_path / "job2.log"))
    try:
        wait_synced(server, database, warehouse, job, events_rows=3402)
    finally:
        job.stop()


def test_snapshot_mode_is_bounded(mariadb_server, mysql_database, tmp_path):
    """Also: the password given as a file (``password.file``) is nowhere in the command line or output."""
    server, database, warehouse = mariadb_server, mysql_database, str(tmp_path / "lake")
    shop(server, database, 1500)
    conf, password = password_in_file(mysql_conf_args(server, database, **{
        "table-name": "orders", "scan.startup.mode": "snapshot", "scan.incremental.snapshot.chunk.size": "400"}),
        str(tmp_path))
    args = ["--warehouse", warehouse, "--database", "lake", "--table", "orders_copy",
            "--computed_column", "day=date_format(placed, 'yyyy-MM-dd')",
            "--metadata_column", "table_name,database_name,op_ts", *conf]
    job = Job("mysql_sync_table", args, str(tmp_path / "job.log"))
    code = job.wait(timeout=180)
    assert code == 0, job.output()
    assert not [a for a in args if a.startswith("password=")] and f"password={password}" not in job.output()
    lake = lake_rows(warehouse, "lake.orders_copy", ["id"])
    assert all(r["day"] == r["placed"].strftime("%Y-%m-%d") and r["table_name"] == "orders"
               and r["database_name"] == database and r["op_ts"].timestamp() == 0 for r in lake)
    extras = ("day", "table_name", "database_name", "op_ts")
    assert [{k: v for k, v in r.items() if k not in extras} for r in lake] == \
        source_rows(server, database, "orders", ["id"])


def test_failures_during_snapshot_and_streaming_restore_from_checkpoints(mariadb_server, mysql_database, tmp_path):
    """Injected failures in the reader and the writer, restored from checkpoints, into tables with
    deletion vectors (pypaimon reads them without merging)."""
    server, database, warehouse = mariadb_server, mysql_database, str(tmp_path / "lake")
    shop(server, database, 4000)
    args = ["--warehouse", warehouse, "--database", "lake", "--failure_dir", str(tmp_path / "failures"),
            "--fail", "reader:after-emit:3", "--fail", "writer:after-flush:6", "--fail", "reader:after-emit:60",
            "--table_conf", "deletion-vectors.enabled=true",  # the lake read through deletion vectors
            *mysql_conf_args(server, database, **{"scan.incremental.snapshot.chunk.size": "300"})]
    job = Job("mysql_sync_database", args, str(tmp_path / "job.log"))
    try:
        workload(server, database, 6000)
        wait_equal(server, database, warehouse, "orders", "lake.orders", ["id"], job, timeout=180)
        deadline = time.monotonic() + 90  # the third failure point fires while streaming
        while len(os.listdir(tmp_path / "failures")) < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
        workload(server, database, 7000)
        wait_synced(server, database, warehouse, job, events_rows=4402, timeout=180)
    finally:
        job.stop()
    assert len(os.listdir(tmp_path / "failures")) == 3, job.output()


def test_killed_during_snapshot_while_rows_change_resumes_exactly(mariadb_server, mysql_database, tmp_path):
    """Small chunks and slow ticks: the job is killed with part of the snapshot committed while
    rows of chunks already read and of chunks still to read change; the same command again."""
    server, database, warehouse = mariadb_server, mysql_database, str(tmp_path / "lake")
    shop(server, database, 12000)
    args = ["--warehouse", warehouse, "--database", "lake", "--ticks_per_second", "4",
            *mysql_conf_args(server, database, **{"scan.incremental.snapshot.chunk.size": "500"})]
    job = Job("mysql_sync_database", args, str(tmp_path / "job1.log"))
    try:
        deadline = time.monotonic() + 120
        while len(lake_rows(warehouse, "lake.orders", ["id"])) < 2000:
            assert time.monotonic() < deadline and job.process.poll() is None, job.output()
            server.execute("UPDATE orders SET qty = qty + 1 WHERE id % 97 = 0", database=database)
            time.sleep(0.3)
        server.execute("UPDATE orders SET id = id + 100000 WHERE id IN (10, 11000)", database=database)
        server.execute("DELETE FROM orders WHERE id IN (20, 11020)", database=database)
    finally:
        job.stop()
    workload(server, database, 20000)
    job = Job("mysql_sync_database", args, str(tmp_path / "job2.log"))
    try:
        wait_synced(server, database, warehouse, job, events_rows=12201, timeout=240)
    finally:
        job.stop()


def test_server_restarted_under_the_running_job(tmp_path):
    """A private server (this test restarts it): the job reconnects and loses nothing."""
    with LocalMariaDB() as server, fresh_mysql_database(server, "shop") as database:
        warehouse = str(tmp_path / "lake")
        shop(server, database, 500)
        job = Job("mysql_sync_database", ["--warehouse", warehouse, "--database", "lake",
                                          *mysql_conf_args(server, database, **{"connect.timeout": "60s"})],
                  str(tmp_path / "job.log"))
        try:
            wait_synced(server, database, warehouse, job, events_rows=500)
            server.restart()
            workload(server, database, 1000)
            wait_synced(server, database, warehouse, job, events_rows=701)
        finally:
            job.stop()


def test_shards_merge_into_one_table(mariadb_server, tmp_path):
    """Two databases with an ``orders`` table each: mysql_sync_database merges them into one lake
    table (``--merge_shards`` defaults to true, as in Paimon)."""
    warehouse = str(tmp_path / "lake")
    with fresh_mysql_database(mariadb_server, "shard_1") as one, fresh_mysql_database(mariadb_server, "shard_2") as two:
        for database, first in ((one, 1), (two, 100001)):
            mariadb_server.execute(ORDERS, database=database)
            mariadb_server.execute(EVENTS, database=database)
            fill(mariadb_server, database, first, 300)
        merged = Job("mysql_sync_database", ["--warehouse", warehouse, "--database", "lake",
                                             *mysql_conf_args(mariadb_server, "shard_[12]",
                                                              **{"table-name": "orders"})],
                     str(tmp_path / "merged.log"))
        try:
            mariadb_server.execute("UPDATE orders SET qty = 99 WHERE id = 100005", database=two)
            deadline = time.monotonic() + 120
            want = sorted(source_rows(mariadb_server, one, "orders", ["id"])
                          + source_rows(mariadb_server, two, "orders", ["id"]), key=lambda r: r["id"])
            while [{k: r[k] for k in want[0]} for r in lake_rows(warehouse, "lake.orders", ["id"])] != want:
                assert time.monotonic() < deadline and merged.process.poll() is None, merged.output()
                time.sleep(1)
        finally:
            merged.stop()


def test_a_purged_position_is_refused_at_restart(tmp_path):
    """A private server (this test purges its binlogs): the job stopped, the binlog it would
    resume from purged, the same command refused with the fix, nothing lost silently."""
    with LocalMariaDB() as server, fresh_mysql_database(server, "shop") as database:
        warehouse = str(tmp_path / "lake")
        shop(server, database, 200)
        args = ["--warehouse", warehouse, "--database", "lake", *mysql_conf_args(server, database)]
        job = Job("mysql_sync_database", args, str(tmp_path / "job1.log"))
        try:
            wait_synced(server, database, warehouse, job, events_rows=200)
            positions = os.path.join(warehouse, POSITIONS_DIRECTORY)
            wait_until(lambda: os.path.isdir(positions) and os.listdir(positions), 60, "a published position")
        finally:
            job.stop()
        workload(server, database, 1000)
        server.execute("FLUSH BINARY LOGS")
        newest = server.execute("SHOW BINARY LOGS")[-1][0]

        def purged() -> bool:  # the server keeps a binlog until its checkpoint event is written
            server.execute(f"PURGE BINARY LOGS TO '{newest}'")
            return len(server.execute("SHOW BINARY LOGS")) == 1
        wait_until(purged, 30, "the old binlogs to be purged")
        result = subprocess.run([sys.executable, os.path.join(ROOT, "jobs", "mysql_sync_database.py"), *args],
                                capture_output=True, text=True, timeout=120, cwd=ROOT,
                                env={**os.environ, "PAIMON_CDC_LOG_DIR": str(tmp_path)})
        assert_refused(result, "— restart the job with a new snapshot (scan.startup.mode=initial, a fresh target) and "
                               "keep binlogs longer")
        assert "purged" in result.stderr


def test_dml_logged_as_a_statement_stops_the_job(mariadb_server, mysql_database, tmp_path):
    """A session that logs an INSERT of a captured table as a statement (binlog_format=STATEMENT):
    the rows cannot be read from the binlog, so the job stops and says why."""
    server, database, warehouse = mariadb_server, mysql_database, str(tmp_path / "lake")
    shop(server, database, 10)
    job = Job("mysql_sync_database", ["--warehouse", warehouse, "--database", "lake",
                                      "--flink_conf", "restart-strategy.fixed-delay.attempts=1",
                                      *mysql_conf_args(server, database)], str(tmp_path / "job.log"))
    try:
        wait_equal(server, database, warehouse, "orders", "lake.orders", ["id"], job)
        conn = server.connect(database)
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION binlog_format = 'STATEMENT'")
                cur.execute("INSERT INTO orders (id, customer) VALUES (777, 'statement')")
        finally:
            conn.close()
        assert job.process.wait(timeout=120) != 0
        assert "logged as a statement" in job.output() + job.operator_log(), job.output()
    finally:
        job.stop()
