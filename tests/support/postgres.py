"""Helpers of the PostgreSQL tests, around the sync job of ``tests/support/jobs.py``
(``conf_args``, ``source_rows``, ``normalise``, ``wait_equal``,
``confirmed_lsn``), the ``orders``/``events`` tables and their workload (``ORDERS``, ``EVENTS``,
``fill``, ``shop``, ``workload``), a fresh database on a server (``fresh_database``,
behind the ``database`` fixture of tests/conftest.py) and a temporary pgoutput slot (``change_stream``).

The server is ``operators.postgres.local_server.LocalPostgres`` (fixture ``postgres_server``).
"""

from __future__ import annotations

import re
import select
import time
import uuid
from contextlib import contextmanager
from typing import Iterator

import psycopg2
import psycopg2.extras

from operators.postgres import pgoutput
from operators.postgres.local_server import LocalPostgres
from operators.postgres.replication import SESSION_OPTIONS
from tests.support.jobs import Job, lake_rows, wait_rows_equal
from tests.support.waiting import wait_until


ORDERS = """CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(12,2),
    qty int, note text, placed timestamp(6))"""
EVENTS = "CREATE TABLE events (at timestamptz, message text)"


def conf_args(pg, database, slot="lake", **extra) -> list[str]:
    conf = {**pg.conf(database), "slot.name": slot, **extra}
    out = []
    for key, value in conf.items():
        out += ["--postgres_conf", f"{key}={value}"]
    return out


def source_rows(pg, database: str, table: str, keys: list[str]) -> list[dict]:
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
    return wait_rows_equal(lambda: normalise(source_rows(pg, database, table, keys)),
                           lambda: normalise(read_lake(warehouse, target, keys)), target, job, timeout)


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


def shop(pg, database, rows: int) -> None:
    """The ``orders`` and ``events`` tables, ``rows`` rows each."""
    pg.execute(ORDERS, database=database)
    pg.execute(EVENTS, database=database)
    fill(pg, database, 1, rows)


def workload(pg, database, first: int) -> None:
    """Updates (a TOASTed column left unchanged, a primary-key change), deletes, inserts."""
    run = lambda sql: pg.execute(sql, database=database)  # noqa: E731
    run(f"UPDATE orders SET qty = qty + 100 WHERE id % 50 = 0 AND id < {first}")  # note stays TOASTed
    run(f"UPDATE orders SET id = id + 1000000 WHERE id = {first - 3}")
    run(f"DELETE FROM orders WHERE id % 7 = 0 AND id < {first}")
    run("UPDATE orders SET amount = amount * 2, placed = placed + interval '1 day' WHERE id % 11 = 0")
    fill(pg, database, first, 200)


def database_name(test_name: str) -> str:
    """A database name for a test: ``db_`` and the test's name, as a plain SQL identifier."""
    return "db_" + re.sub(r"[^a-z0-9_]", "_", test_name.lower().replace("[", "_").replace("]", ""))[:40]


def drop_slots(server: LocalPostgres, database: str) -> None:
    """Drops the replication slots of ``database`` (a slot in use: its walsender ends first)."""
    for (slot,) in server.execute("SELECT slot_name FROM pg_replication_slots WHERE database = %s", (database,)):
        server.execute("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
                       "WHERE slot_name = %s AND active_pid IS NOT NULL", (slot,))
        wait_until(lambda: server.execute("SELECT active_pid IS NULL FROM pg_replication_slots WHERE slot_name = %s",
                                          (slot,)) in ([], [(True,)]), 30, f"slot {slot} to be released")
        server.execute("SELECT pg_drop_replication_slot(%s)", (slot,))


@contextmanager
def fresh_database(server: LocalPostgres, name: str) -> Iterator[str]:
    """``name`` created empty on ``server`` (dropped first if a previous run left it); afterwards
    its replication slots and the database itself are dropped (slots and databases are
    server-wide: the next test must not find them)."""
    server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    server.execute(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        drop_slots(server, name)
        server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- pgoutput ---------------------------------------------------------------------------------

class ChangeStream:
    """Decoded messages of a temporary pgoutput slot created when it opens."""

    def __init__(self, cursor, conn):
        self.cursor, self.conn = cursor, conn

    def transactions(self, count: int, timeout_s: float = 10.0) -> list[list[pgoutput.Message]]:
        """The next ``count`` transactions, each from Begin to Commit."""
        out: list[list[pgoutput.Message]] = []
        current: list[pgoutput.Message] = []
        deadline = time.monotonic() + timeout_s
        while len(out) < count:
            message = self.cursor.read_message()
            if message is None:
                assert time.monotonic() < deadline, f"only {len(out)} of {count} transactions arrived"
                select.select([self.conn], [], [], 0.2)
                continue
            current.append(pgoutput.decode(message.payload))
            if isinstance(current[-1], pgoutput.Commit):
                out.append(current)
                current = []
        return out


@contextmanager
def change_stream(server: LocalPostgres, messages: bool = False, database: str = "postgres",
                  publication: str = "pub") -> Iterator[ChangeStream]:
    """The messages of a temporary pgoutput slot (protocol version 1) on ``database`` for
    ``publication``."""
    conn = psycopg2.connect(server.dsn_for(database), options=SESSION_OPTIONS,
                            connection_factory=psycopg2.extras.LogicalReplicationConnection)
    try:
        cursor = conn.cursor()
        slot = "test_" + uuid.uuid4().hex[:12]
        cursor.execute(f"CREATE_REPLICATION_SLOT {slot} TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT")
        options = {"proto_version": "1", "publication_names": publication}
        if messages:
            options["messages"] = "true"
        cursor.start_replication(slot_name=slot, decode=False, options=options)
        yield ChangeStream(cursor, conn)
    finally:
        conn.close()
