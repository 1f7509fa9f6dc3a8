"""postgres_sync_database / postgres_sync_table end to end: a private PostgreSQL server, the job
on a local mini-cluster (a child process in its own session, killed by the test), the lake read
through pypaimon and compared row by row with the source.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pypaimon
import pytest

from operators.postgres.local_server import LocalPostgres

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.slow

ORDERS = """CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(12,2),
    qty int, note text, placed timestamp(6))"""
EVENTS = "CREATE TABLE events (at timestamptz, message text)"


@pytest.fixture(scope="module")
def pg():
    server = LocalPostgres().start()
    yield server
    server.stop()


@pytest.fixture
def database(pg, request):
    name = "db_" + request.node.name.lower().replace("[", "_").replace("]", "")[:40]
    pg.execute(f"DROP DATABASE IF EXISTS {name}")
    pg.execute(f"CREATE DATABASE {name}")
    yield name
    for (slot,) in pg.execute("SELECT slot_name FROM pg_replication_slots WHERE database = %s", (name,)):
        pg.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    pg.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def conf_args(pg, database, slot="lake", **extra) -> list[str]:
    conf = {**pg.conf(database), "slot.name": slot, **extra}
    out = []
    for key, value in conf.items():
        out += ["--postgres_conf", f"{key}={value}"]
    return out


class Job:
    """A sync job in a child process; ``stop()`` kills its whole process group. Its Flink logs
    (with what the Python operators log) go to ``<log_path>.flink/``."""

    def __init__(self, name: str, args: list[str], log_path: str, env: dict | None = None):
        self.log = open(log_path, "ab")
        self.flink_log_dir = log_path + ".flink"
        env = {**(env or os.environ), "FLINK_LOG_DIR": self.flink_log_dir}
        command = [sys.executable, os.path.join(ROOT, "jobs", f"{name}.py"), *args,
                   "--flink_conf", "execution.checkpointing.interval=500ms",
                   "--flink_conf", "execution.checkpointing.min-pause=100ms",
                   "--flink_conf", "restart-strategy.fixed-delay.delay=200ms"]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True, cwd=ROOT, env=env)
        self.log_path = log_path

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.stop()

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.log.close()

    def output(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()[-6000:]

    def operator_log(self) -> str:
        """What the job's Python operators logged (the mini-cluster's python log)."""
        text = ""
        for name in sorted(os.listdir(self.flink_log_dir)) if os.path.isdir(self.flink_log_dir) else ():
            if "python" in name and name.endswith(".log"):
                with open(os.path.join(self.flink_log_dir, name), errors="replace") as f:
                    text += f.read()
        return text


def lake_rows(warehouse: str, table: str, keys: list[str]) -> list[dict]:
    catalog = pypaimon.CatalogFactory.create({"warehouse": warehouse})
    try:
        t = catalog.get_table(table)
    except Exception:
        return []
    rb = t.new_read_builder()
    rows = rb.new_read().to_arrow(rb.new_scan().plan().splits()).to_pylist()
    return sorted(rows, key=lambda r: tuple(r[k] for k in keys))


def source_rows(pg, database: str, table: str, keys: list[str]) -> list[dict]:
    import psycopg2
    import psycopg2.extras
    conn = psycopg2.connect(pg.dsn_for(database), options="-c TimeZone=UTC")
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(f"SELECT * FROM {table} ORDER BY {', '.join(keys)}")
            return [dict(r) for r in cur.fetchall()]
    finally:
        conn.close()


def normalise(rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        fixed = {}
        for k, v in row.items():
            if hasattr(v, "tzinfo") and v.tzinfo is not None:
                v = v.replace(tzinfo=None) - (v.utcoffset() or v.utcoffset())
            fixed[k] = v
        out.append(fixed)
    return out


def wait_equal(pg, database, warehouse, table, target, keys, job: Job, timeout=120.0, read_lake=lake_rows):
    """``read_lake(warehouse, target, keys)``: the lake's rows sorted by keys."""
    deadline = time.monotonic() + timeout
    while True:
        source = normalise(source_rows(pg, database, table, keys))
        lake = normalise(read_lake(warehouse, target, keys))
        if source == lake:
            return source
        if job.process.poll() is not None:
            pytest.fail(f"the job ended (code {job.process.returncode}):\n{job.output()}")
        if time.monotonic() > deadline:
            missing = [r for r in source if r not in lake][:3]
            extra = [r for r in lake if r not in source][:3]
            pytest.fail(f"{target}: lake != source after {timeout} s: {len(source)} vs {len(lake)} rows; "
                        f"missing {missing}, extra {extra}\n{job.output()}")
        time.sleep(1.0)


def wait_synced(pg, database, warehouse, job: Job, events_rows: int, timeout=120.0) -> None:
    """orders and events equal in source and lake; events (an append table) without duplicates."""
    wait_equal(pg, database, warehouse, "orders", "lake.orders", ["id"], job, timeout)
    events = wait_equal(pg, database, warehouse, "events", "lake.events", ["at", "message"], job, timeout)
    assert len(events) == events_rows


def confirmed_lsn(pg, slot: str) -> int:
    rows = pg.execute("SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots WHERE slot_name = %s",
                      (slot,))
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def fill(pg, database, first: int, count: int) -> None:
    pg.execute(f"""INSERT INTO orders SELECT g, 'customer ' || (g % 97), (g * 1.25)::numeric(12,2), g % 13,
                   CASE WHEN g % 50 = 0 THEN repeat('large value ', 800) ELSE 'n' || g END,
                   '2024-01-01'::timestamp + g * interval '1 minute'
                   FROM generate_series({first}, {first + count - 1}) g""", database=database)
    pg.execute(f"INSERT INTO events SELECT '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second', 'e' || g"
               f" FROM generate_series({first}, {first + count - 1}) g", database=database)


def workload(pg, database, first: int) -> None:
    """Updates (a TOASTed column left unchanged, a primary-key change), deletes, inserts."""
    run = lambda sql: pg.execute(sql, database=database)  # noqa: E731
    run(f"UPDATE orders SET qty = qty + 100 WHERE id % 50 = 0 AND id < {first}")  # note stays TOASTed
    run(f"UPDATE orders SET id = id + 1000000 WHERE id = {first - 3}")
    run(f"DELETE FROM orders WHERE id % 7 = 0 AND id < {first}")
    run(f"UPDATE orders SET amount = amount * 2, placed = placed + interval '1 day' WHERE id % 11 = 0")
    fill(pg, database, first, 200)


def test_sync_database_snapshot_stream_schema_change_and_restart(pg, database, tmp_path):
    warehouse = str(tmp_path / "lake")
    pg.execute(ORDERS, database=database)
    pg.execute(EVENTS, database=database)
    fill(pg, database, 1, 3000)
    args = ["--warehouse", warehouse, "--database", "lake",
            *conf_args(pg, database, **{"scan.snapshot.chunk.size": "700"})]
    job = Job("postgres_sync_database", args, str(tmp_path / "job1.log"))
    try:
        wait_equal(pg, database, warehouse, "orders", "lake.orders", ["id"], job)
        start_lsn = confirmed_lsn(pg, "lake")
        workload(pg, database, 5000)
        pg.execute("ALTER TABLE orders ADD COLUMN region varchar(20)", database=database)
        pg.execute("ALTER TABLE orders ALTER COLUMN qty TYPE bigint", database=database)
        pg.execute("UPDATE orders SET region = 'r' || (id % 3) WHERE id % 5 = 0", database=database)
        pg.execute("CREATE TABLE late (k int PRIMARY KEY, v text)", database=database)
        pg.execute("INSERT INTO late SELECT g, 'v' || g FROM generate_series(1, 50) g", database=database)
        wait_synced(pg, database, warehouse, job, events_rows=3200)
        wait_equal(pg, database, warehouse, "late", "lake.late", ["k"], job)
        deadline = time.monotonic() + 30
        while confirmed_lsn(pg, "lake") <= start_lsn and time.monotonic() < deadline:
            time.sleep(0.5)
        assert confirmed_lsn(pg, "lake") > start_lsn, "the slot's confirmed LSN did not advance"
    finally:
        job.stop()
    # killed; changes while it is down; the same command again, no savepoint
    workload(pg, database, 9000)
    job = Job("postgres_sync_database", args, str(tmp_path / "job2.log"))
    try:
        wait_synced(pg, database, warehouse, job, events_rows=3400)
    finally:
        job.stop()


def test_snapshot_mode_is_bounded(pg, database, tmp_path):
    warehouse = str(tmp_path / "lake")
    pg.execute(ORDERS, database=database)
    pg.execute(EVENTS, database=database)
    fill(pg, database, 1, 1500)
    job = Job("postgres_sync_table", ["--warehouse", warehouse, "--database", "lake", "--table", "orders_copy",
                                      "--computed_column", "day=date_format(placed, 'yyyy-MM-dd')",
                                      "--metadata_column", "table_name,op_ts",
                                      *conf_args(pg, database, **{"table-name": "orders",
                                                                  "scan.startup.mode": "snapshot"})],
              str(tmp_path / "job.log"))
    code = job.wait(timeout=180)
    assert code == 0, job.output()
    assert pg.execute("SELECT slot_name FROM pg_replication_slots WHERE database = %s", (database,)) == [], \
        "the bounded mode reads no changes: it must leave no slot behind"
    lake = lake_rows(warehouse, "lake.orders_copy", ["id"])
    assert all(r["day"] == r["placed"].strftime("%Y-%m-%d") and r["table_name"] == "orders"
               and r["op_ts"].timestamp() == 0 for r in lake)
    extras = ("day", "table_name", "op_ts")
    assert normalise([{k: v for k, v in r.items() if k not in extras} for r in lake]) == \
        normalise(source_rows(pg, database, "orders", ["id"]))


def test_failures_during_snapshot_and_streaming_restore_from_checkpoints(pg, database, tmp_path):
    warehouse = str(tmp_path / "lake")
    pg.execute(ORDERS, database=database)
    pg.execute(EVENTS, database=database)
    fill(pg, database, 1, 4000)
    args = ["--warehouse", warehouse, "--database", "lake", "--failure_dir", str(tmp_path / "failures"),
            "--fail", "reader:after-emit:3", "--fail", "writer:after-flush:6", "--fail", "reader:after-emit:60",
            *conf_args(pg, database, **{"scan.snapshot.chunk.size": "300"})]
    job = Job("postgres_sync_database", args, str(tmp_path / "job.log"))
    try:
        workload(pg, database, 6000)
        wait_equal(pg, database, warehouse, "orders", "lake.orders", ["id"], job, timeout=180)
        deadline = time.monotonic() + 90  # the third failure point fires while streaming
        while len(os.listdir(tmp_path / "failures")) < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
        workload(pg, database, 7000)
        wait_synced(pg, database, warehouse, job, events_rows=4400, timeout=180)
    finally:
        job.stop()
    assert len(os.listdir(tmp_path / "failures")) == 3, job.output()


def test_misconfigured_server_and_bad_options_fail_fast(tmp_path):
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


def test_killed_during_snapshot_resumes_without_savepoint(pg, database, tmp_path):
    warehouse = str(tmp_path / "lake")
    pg.execute(ORDERS, database=database)
    pg.execute(EVENTS, database=database)
    fill(pg, database, 1, 12000)
    args = ["--warehouse", warehouse, "--database", "lake", "--ticks_per_second", "4",
            *conf_args(pg, database, **{"scan.snapshot.chunk.size": "400"})]
    job = Job("postgres_sync_database", args, str(tmp_path / "job1.log"))
    try:
        deadline = time.monotonic() + 120
        while not 0 < len(lake_rows(warehouse, "lake.orders", ["id"])) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert 0 < len(lake_rows(warehouse, "lake.orders", ["id"])) < 12000, job.output()
    finally:
        job.stop()
    workload(pg, database, 20000)
    job = Job("postgres_sync_database", args, str(tmp_path / "job2.log"))  # the same command
    try:
        wait_synced(pg, database, warehouse, job, events_rows=12200, timeout=180)
    finally:
        job.stop()


def test_quiet_tables_do_not_pin_wal(pg, database, tmp_path):
    warehouse = str(tmp_path / "lake")
    pg.execute(ORDERS, database=database)
    pg.execute(EVENTS, database=database)
    fill(pg, database, 1, 100)
    pg.execute("CREATE SCHEMA other; CREATE TABLE other.noise (x int)", database=database)
    job = Job("postgres_sync_table", ["--warehouse", warehouse, "--database", "lake", "--table", "orders",
                                      *conf_args(pg, database, **{"table-name": "orders"})],
              str(tmp_path / "job.log"))
    try:
        wait_equal(pg, database, warehouse, "orders", "lake.orders", ["id"], job)
        # the captured table stays quiet; a table the job does not capture writes WAL
        pg.execute("INSERT INTO other.noise SELECT generate_series(1, 200000)", database=database)
        target = int(pg.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")[0][0])
        deadline = time.monotonic() + 60
        while confirmed_lsn(pg, "lake") < target and time.monotonic() < deadline:
            time.sleep(0.5)
        assert confirmed_lsn(pg, "lake") >= target, job.output()
    finally:
        job.stop()


def _run_sync_table(server, database, tmp_path, **conf) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "jobs", "postgres_sync_table.py"), "--warehouse",
         str(tmp_path / "lake"), "--database", "lake", "--table", "t",
         *conf_args(server, database, **{"table-name": "orders", **conf})],
        capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_missing_privilege_and_busy_slot_fail_fast(pg, database, tmp_path):
    import psycopg2
    import psycopg2.extras
    pg.execute(ORDERS, database=database)
    pg.execute("CREATE ROLE reader LOGIN PASSWORD 'pw' NOREPLICATION")
    try:
        result = _run_sync_table(pg, database, tmp_path, username="reader", password="pw")
        assert result.returncode != 0
        assert "ALTER ROLE reader WITH REPLICATION" in result.stderr, result.stderr[-3000:]
    finally:
        pg.execute("DROP ROLE reader")
    pg.execute("SELECT pg_create_logical_replication_slot('busy', 'pgoutput')", database=database)
    conn = psycopg2.connect(pg.dsn_for(database), connection_factory=psycopg2.extras.LogicalReplicationConnection)
    try:
        cur = conn.cursor()
        cur.start_replication(slot_name="busy", decode=False,
                              options={"proto_version": "1", "publication_names": "none"})
        result = _run_sync_table(pg, database, tmp_path, **{"slot.name": "busy"})
        assert result.returncode != 0
        assert "Slot busy is in use by server process" in result.stderr, result.stderr[-3000:]
    finally:
        conn.close()
