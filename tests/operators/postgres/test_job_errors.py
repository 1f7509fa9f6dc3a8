"""Bad input to the sync jobs, as a new user would give it: each case ends with exit code 2 and one
line ``error: <what> — <how to fix>`` on stderr (no traceback), and nothing is created: no lake
table, no replication slot, no publication. A private PostgreSQL server (and one with
``wal_level=replica``) started and stopped by this module.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from operators.postgres.job_args import from_args
from operators.postgres.local_server import LocalPostgres
from tests.support.jobs import Case, assert_refused
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

DATABASE = "shop"


@pytest.fixture(scope="module")
def pg():
    # A private server, not the session's shared one: the checks below assert that no slot and no
    # publication exists anywhere on the server, and the module creates a role of its own.
    server = LocalPostgres().start()
    server.execute(f"CREATE DATABASE {DATABASE}")
    server.execute("CREATE TABLE orders (id bigint PRIMARY KEY, v int, note text)", database=DATABASE)
    server.execute("CREATE TABLE events (at timestamptz, message text)", database=DATABASE)
    server.execute("CREATE TABLE shapes (id int PRIMARY KEY, p point)", database=DATABASE)
    server.execute("CREATE TABLE tagged (id int PRIMARY KEY, code text NOT NULL);"
                   " CREATE UNIQUE INDEX tagged_code ON tagged (code);"
                   " ALTER TABLE tagged REPLICA IDENTITY USING INDEX tagged_code", database=DATABASE)
    server.execute("CREATE SCHEMA sales; CREATE TABLE sales.orders (id bigint PRIMARY KEY)", database=DATABASE)
    server.execute("CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY)", database=DATABASE)
    server.execute("CREATE ROLE reader LOGIN PASSWORD 'pw' NOREPLICATION")
    yield server
    server.stop()


CASES = {
    "unknown source option": Case("postgres_sync_database", [], {"slot.nmae": "x"},
                                  "slot.nmae is not a --postgres_conf option — known: hostname, port, "),
    "bad startup mode": Case("postgres_sync_database", [], {"scan.startup.mode": "earliest"},
                             "scan.startup.mode=earliest is unknown — use one of initial, latest-offset, snapshot"),
    "bad chunk size": Case("postgres_sync_database", [], {"scan.snapshot.chunk.size": "many"},
                           "scan.snapshot.chunk.size=many is not an integer — give a whole number"),
    "no split readers": Case("postgres_sync_database", [], {"scan.snapshot.parallelism": "0"},
                             "scan.snapshot.parallelism=0 is too small — give at least 1"),
    "password twice": Case("postgres_sync_database", [], {"password.file": "/dev/null"},
                           "password and password.file are both set — give only one of them"),
    "unknown flag": Case("postgres_sync_database", ["--tabel_conf", "bucket=2"], {},
                         "unrecognized arguments: --tabel_conf bucket=2 — see postgres_sync_database --help"),
    "missing flag": Case("postgres_sync_table", [], {"table-name": "orders"},
                         "the following arguments are required: --table — see postgres_sync_table --help"),
    "bad type mapping": Case("postgres_sync_database", ["--type_mapping", "to-strings"], {},
                             "--type_mapping to-strings: unknown — use one of to-string"),
    "bad regex": Case("postgres_sync_database", ["--excluding_tables", "(orders"], {},
                      "--excluding_tables (orders: not a valid regex"),
    "bad metadata column": Case("postgres_sync_database", ["--metadata_column", "op_time"], {},
                                "--metadata_column op_time: unknown — use one of table_name, database_name, "
                                "schema_name, op_ts"),
    "bad computed column": Case("postgres_sync_table", ["--table", "t", "--computed_column", "d=decade(v)"],
                                {"table-name": "orders"},
                                "--computed_column 'd=decade(v)': unknown function decade — use one of date_format"),
    "unknown catalog option": Case("postgres_sync_database", ["--catalog_conf", "s3.acces-key=k"], {},
                                   "s3.acces-key is not a --catalog_conf option — known: warehouse, metastore"),
    "unsafe flink setting": Case("postgres_sync_database", ["--flink_conf", "execution.checkpointing.mode=AT_LEAST_ONCE"],
                                 {}, "execution.checkpointing.mode AT_LEAST_ONCE a writer may flush after its barrier "
                                     "and records could be committed twice or lost — set "
                                     "execution.checkpointing.mode=EXACTLY_ONCE"),
    "refused connection": Case("postgres_sync_database", [], {"port": "1"},
                               "— check hostname and port in --postgres_conf, and that the server accepts TCP connections"),
    "wrong password": Case("postgres_sync_database", [], {"password": "wrong"},
                           'password authentication failed for user "postgres" — check username and password in '
                           '--postgres_conf'),
    "missing privilege": Case("postgres_sync_database", [], {"username": "reader", "password": "pw"},
                              "user reader may not stream changes — run ALTER ROLE reader WITH REPLICATION; as a superuser"),
    "unsupported type": Case("postgres_sync_table", ["--table", "shapes"], {"table-name": "shapes"},
                             "column 'p' has PostgreSQL type point, which has no Paimon type — use --type_mapping "
                             "to-string"),
    "no primary key": Case("postgres_sync_table", ["--table", "ev"], {"table-name": "events"},
                           "source table public.events has no primary key — pass --primary_keys"),
    "bad table option": Case("postgres_sync_database", ["--table_conf", "merge-engine=newest"], {},
                             "table lake.events: merge-engine=newest is unknown — use one of deduplicate, partial-update, "
                             "aggregation, first-row"),
    "bad bucket key": Case("postgres_sync_table", ["--table", "t", "--table_conf", "bucket-key=nope"],
                           {"table-name": "orders"},
                           "table lake.t: Option 'bucket-key' requires a fixed bucket count; set 'bucket' > 0. — fix "
                           "--table_conf (or the existing table)"),
    "row tracking with a primary key": Case("postgres_sync_table", ["--table", "t", "--table_conf",
                                                                    "row-tracking.enabled=true"],
                                            {"table-name": "orders"},
                                            "table lake.t: Cannot define primary-key for row tracking table. — fix "
                                            "--table_conf (or the existing table)"),
    "same table name in two schemas": Case(
        "postgres_sync_database", [], {"schema-name": "public|sales"},
        "public.orders and sales.orders would both be written into lake.orders — match one schema with "
        "--postgres_conf schema-name, or run a job per schema with its own --table_prefix"),
    "unlogged table": Case(
        "postgres_sync_table", ["--table", "t"], {"table-name": "scratch"},
        '"public"."scratch" is UNLOGGED, so PostgreSQL does not replicate its changes — run ALTER TABLE '
        '"public"."scratch" SET LOGGED; or leave it out of the matched tables (table-name, --excluding_tables)'),
    "identity index without the lake key": Case(
        "postgres_sync_table", ["--table", "t"], {"table-name": "tagged"},
        '"public"."tagged": its replica identity index lacks the lake\'s primary key column(s) id, so PostgreSQL '
        'would send deletes and key changes without them — run ALTER TABLE "public"."tagged" REPLICA IDENTITY FULL;'),
    "lake key outside the primary key": Case(
        "postgres_sync_table", ["--table", "t", "--primary_keys", "id,note"], {"table-name": "orders"},
        '"public"."orders": its primary key (the default replica identity) lacks the lake\'s primary key column(s) '
        'note, so PostgreSQL would send deletes and key changes without them — run ALTER TABLE "public"."orders" '
        'REPLICA IDENTITY FULL;'),
}


def run(pg: LocalPostgres, case: Case, warehouse: str, slot: str) -> subprocess.CompletedProcess:
    conf = {**pg.conf(DATABASE), "slot.name": slot, **case.conf}
    if case.job == "postgres_sync_database":
        conf.setdefault("table-name", "orders|events")
    args = [a for k, v in conf.items() for a in ("--postgres_conf", f"{k}={v}")]
    return subprocess.run([sys.executable, os.path.join(ROOT, "jobs", f"{case.job}.py"), "--warehouse", warehouse,
                           "--database", "lake", *case.flags, *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PAIMON_CDC_LOG_DIR": os.path.dirname(warehouse)})


def assert_nothing_created(pg: LocalPostgres, warehouse: str) -> None:
    tables = [d for d in os.listdir(warehouse)] if os.path.isdir(warehouse) else []
    assert not [d for d in tables if d.endswith(".db")], tables
    assert pg.execute("SELECT slot_name FROM pg_replication_slots") == []
    assert pg.execute("SELECT pubname FROM pg_publication", database=DATABASE) == []


@pytest.mark.parametrize("name", list(CASES))
def test_refused_with_one_line_and_nothing_created(pg, tmp_path, name):
    case = CASES[name]
    warehouse = str(tmp_path / "lake")
    result = run(pg, case, warehouse, "s_" + name.replace(" ", "_"))
    assert_refused(result, case.expected)
    assert_nothing_created(pg, warehouse)
    with open(tmp_path / "client.log") as log:
        assert "Traceback" in log.read(), "the traceback goes to the client log"
    assert not re.search(r"\bpw\b", result.stdout + result.stderr), "the reader's password is never shown"


def test_a_server_without_logical_decoding(tmp_path):
    with LocalPostgres(settings={"wal_level": "replica"}) as server:
        server.execute(f"CREATE DATABASE {DATABASE}")
        server.execute("CREATE TABLE orders (id bigint PRIMARY KEY)", database=DATABASE)
        warehouse = str(tmp_path / "lake")
        result = run(server, Case("postgres_sync_database", []), warehouse, "lake")
        assert_refused(result, "wal_level is 'replica' — set wal_level = logical in postgresql.conf")
        assert_nothing_created(server, warehouse)


def test_database_wide_buckets_leave_append_tables_unbucketed(pg, tmp_path):
    """``--table_conf bucket=2`` shapes the primary-key tables; a table without a primary key
    becomes an append table without buckets, said once at start (bounded run: it ends)."""
    warehouse = str(tmp_path / "lake")
    pg.execute("INSERT INTO orders VALUES (1, 1, 'a') ON CONFLICT DO NOTHING", database=DATABASE)
    pg.execute("INSERT INTO events VALUES (now(), 'e')", database=DATABASE)
    result = run(pg, Case("postgres_sync_database", ["--table_conf", "bucket=2"],
                          {"scan.startup.mode": "snapshot"}), warehouse, "buckets")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("lake.events: the source table has no primary key") == 1, result.stdout[-3000:]
    import paimon_py
    catalog = paimon_py.CatalogFactory.create({"warehouse": warehouse})
    assert catalog.get_table("lake.orders").schema.options["bucket"] == "2"
    assert catalog.get_table("lake.events").schema.options["bucket"] == "-1"


def test_row_tracking_append_table(pg, tmp_path):
    """``--table_conf row-tracking.enabled=true`` on a table without a primary key: its rows get
    row ids from 0 and the committing snapshot as sequence number, read alike by pypaimon."""
    warehouse = str(tmp_path / "lake")
    pg.execute("INSERT INTO events VALUES (now(), 'r1'), (now(), 'r2')", database=DATABASE)
    result = run(pg, Case("postgres_sync_database", ["--table_conf", "row-tracking.enabled=true"],
                          {"scan.startup.mode": "snapshot", "table-name": "events"}), warehouse, "tracking")
    assert result.returncode == 0, result.stderr[-3000:]
    import paimon_py
    import pypaimon
    count = pg.execute("SELECT count(*) FROM events", database=DATABASE)[0][0]
    for library in (paimon_py, pypaimon):
        table = library.CatalogFactory.create({"warehouse": warehouse}).get_table("lake.events")
        rb = table.new_read_builder().with_projection(["message", "_ROW_ID", "_SEQUENCE_NUMBER"])
        rows = rb.new_read().to_arrow(rb.new_scan().plan().splits()).to_pylist()
        assert sorted(r["_ROW_ID"] for r in rows) == list(range(count)), library.__name__
        assert {r["_SEQUENCE_NUMBER"] for r in rows} == {1}, library.__name__


def test_a_replica_identity_holding_the_lake_key_is_accepted(pg, tmp_path):
    """The check behind the two identity cases passes where the identity covers the lake key: an
    identity index that is the lake key, and the whole row (FULL) under any lake key."""
    pg.execute("CREATE TABLE tagged_full (id int PRIMARY KEY, code text NOT NULL); "
               "ALTER TABLE tagged_full REPLICA IDENTITY FULL", database=DATABASE)
    for table, keys in (("tagged", "code"), ("tagged_full", "code")):
        conf = {**pg.conf(DATABASE), "table-name": table, "slot.name": "accepted"}
        source = from_args(["--warehouse", str(tmp_path / "lake"), "--database", "lake", "--table", "t",
                            "--primary_keys", keys, *[a for k, v in conf.items() for a in ("--postgres_conf", f"{k}={v}")]],
                           database_sync=False)
        plan = source.preparation.check()
        assert [e.table for e in plan.schema_events] == ["lake.t"]
    assert not os.path.exists(tmp_path / "lake" / "lake.db")
    assert pg.execute("SELECT slot_name FROM pg_replication_slots WHERE slot_name = 'accepted'") == []
    assert pg.execute("SELECT pubname FROM pg_publication WHERE pubname = 'accepted_pub'", database=DATABASE) == []
