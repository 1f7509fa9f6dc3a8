"""Helpers of the MySQL/MariaDB tests: a fresh database on the session's private MariaDB
(``fresh_mysql_database``, behind the ``mysql_database`` fixture of tests/conftest.py), the
job's ``--mysql_conf`` flags (``mysql_conf_args``), the shop tables and their workload
(``ORDERS``, ``EVENTS``, ``fill``, ``shop``, ``workload``) the comparison of a source table with its
lake table (``source_rows``, ``wait_equal``, ``wait_synced``) and binlog positions as numbers
(``published_binlog``, ``server_binlog``).

The server is ``operators.mysql.local_server.LocalMariaDB`` (fixture ``mariadb_server``).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

from operators.mysql.local_server import LocalMariaDB
from tests.support.jobs import Job, lake_rows, published, wait_rows_equal


def mysql_database_name(test_name: str) -> str:
    """A database name for a test: ``t_`` and the test's name, shortened to MariaDB's 64."""
    return ("t_" + re.sub(r"[^a-z0-9_]", "_", test_name.lower()))[:64]


@contextmanager
def fresh_mysql_database(server: LocalMariaDB, name: str) -> Iterator[str]:
    server.execute(f"DROP DATABASE IF EXISTS `{name}`")
    server.execute(f"CREATE DATABASE `{name}`")
    try:
        yield name
    finally:
        server.execute(f"DROP DATABASE IF EXISTS `{name}`")


def mysql_conf_args(server: LocalMariaDB, database: str, **extra: str) -> list[str]:
    conf = {**server.conf(database), **extra}
    out = []
    for key, value in conf.items():
        out += ["--mysql_conf", f"{key}={value}"]
    return out


# --- the shop tables and their workload -----------------------------------------------------------

ORDERS = """CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(64) NOT NULL, amount DECIMAL(12,2),
    qty INT, note TEXT, placed DATETIME(6))"""
EVENTS = "CREATE TABLE events (at DATETIME(6), message VARCHAR(100))"
"""A table without a primary key: an append table in the lake."""


def fill(server: LocalMariaDB, database: str, first: int, count: int) -> None:
    """``count`` orders and events from id ``first`` (one transaction each)."""
    last = first + count - 1
    server.execute(f"""INSERT INTO orders (id, customer, amount, qty, note, placed) SELECT seq, CONCAT('customer ', seq % 97), seq * 1.25, seq % 13,
                       IF(seq % 50 = 0, REPEAT('large value ', 800), CONCAT('n', seq)),
                       TIMESTAMP('2024-01-01') + INTERVAL seq MINUTE FROM seq_{first}_to_{last}""", database=database)
    server.execute(f"""INSERT INTO events (at, message) SELECT TIMESTAMP('2024-01-01') + INTERVAL seq SECOND, CONCAT('e', seq)
                       FROM seq_{first}_to_{last}""", database=database)


def workload(server: LocalMariaDB, database: str, first: int) -> None:
    """Updates, a primary-key change, deletes, a multi-table transaction, a rolled-back one, inserts."""
    run = lambda sql: server.execute(sql, database=database)  # noqa: E731
    run(f"UPDATE orders SET qty = qty + 100 WHERE id % 50 = 0 AND id < {first}")
    run(f"UPDATE orders SET id = id + 1000000 WHERE id = {first - 3}")
    run(f"DELETE FROM orders WHERE id % 7 = 0 AND id < {first}")
    run("UPDATE orders SET amount = amount * 2, placed = placed + INTERVAL 1 DAY WHERE id % 11 = 0")
    conn = server.connect(database)
    try:
        with conn.cursor() as cur:
            for rollback in (False, True):
                conn.begin()
                cur.execute(f"UPDATE orders SET note = 'in a transaction' WHERE id = {first - 5}")
                cur.execute("INSERT INTO events VALUES ('2030-01-01 00:00:00', %s)",
                            ("rolled back" if rollback else "multi-table",))
                conn.rollback() if rollback else conn.commit()
    finally:
        conn.close()
    fill(server, database, first, 200)


def source_rows(server: LocalMariaDB, database: str, table: str, keys: list[str]) -> list[dict]:
    conn = server.connect(database)
    try:
        with conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
            cur.execute(f"SELECT * FROM `{table}`")
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, row)) for row in cur.fetchall()]
            return sorted(rows, key=lambda r: tuple(r[k] for k in keys))  # as lake_rows: Python's order
    finally:
        conn.close()


def wait_equal(server: LocalMariaDB, database: str, warehouse: str, table: str, target: str, keys: list[str],
               job: Job, timeout: float = 120.0) -> list[dict]:
    """The source table and the lake table equal row by row (pypaimon reads the lake; columns the
    source no longer has are left out)."""
    def lake() -> list[dict]:
        rows = lake_rows(warehouse, target, keys)
        columns = [d[0] for d in _columns(server, database, table)]
        return [{c: row.get(c) for c in columns} for row in rows]
    return wait_rows_equal(lambda: source_rows(server, database, table, keys), lake, target, job, timeout)


def _columns(server: LocalMariaDB, database: str, table: str) -> list[tuple]:
    return server.execute("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND "
                          "TABLE_NAME = %s ORDER BY ORDINAL_POSITION", (database, table))


def wait_synced(server: LocalMariaDB, database: str, warehouse: str, job: Job, events_rows: int,
                timeout: float = 120.0) -> None:
    """orders and events equal in source and lake; events (an append table) without duplicates."""
    wait_equal(server, database, warehouse, "orders", "lake.orders", ["id"], job, timeout)
    events = wait_equal(server, database, warehouse, "events", "lake.events", ["at", "message"], job, timeout)
    assert len(events) == events_rows


def shop(server: LocalMariaDB, database: str, rows: int) -> None:
    """The orders and events tables with ``rows`` rows each."""
    server.execute(ORDERS, database=database)
    server.execute(EVENTS, database=database)
    fill(server, database, 1, rows)


def binlog_ordinal(file: str, pos: int) -> int:
    """A binlog position as one number that grows with it: file number * 2^32 + offset."""
    return (int(file.rsplit(".", 1)[1]) << 32) + int(pos)


def published_binlog(warehouse: str) -> int:
    """The binlog position the job published under ``warehouse`` (``binlog_ordinal``)."""
    binlog = published(warehouse)["binlog"]
    return binlog_ordinal(binlog["file"], binlog["pos"])


def server_binlog(server: LocalMariaDB) -> int:
    """The server's binlog end (``binlog_ordinal``)."""
    file, pos = server.execute("SHOW MASTER STATUS")[0][:2]
    return binlog_ordinal(file, pos)
