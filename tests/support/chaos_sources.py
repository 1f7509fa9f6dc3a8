"""The chaos suite's sources: what the driver (``tests/support/chaos.py``) needs of PostgreSQL or
MariaDB, behind one shape (``ChaosSource``): the tables and their initial rows, connections for
the workload, the sync job and its flags (a small snapshot chunk, so that the snapshot lasts
long enough to be killed), the source's rows in the lake's form, and where the database stands
against the lake's committed position (``position_check``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import psycopg2

from tests.support import mariadb, postgres
from tests.support.chaos_workload import TABLES, fill_statements
from tests.support.jobs import published

DATABASE = "chaos"
"""The lake database the job writes (``chaos.accounts``, ``chaos.orders``, ``chaos.events``)."""
SLOT = "chaos"


@dataclass
class ChaosSource:
    """One source database of a chaos run (``postgres_source`` / ``mariadb_source`` build it)."""
    name: str
    job: str
    server: object
    database: str
    series: Callable[[int, int], str]
    chunk_option: str
    conf_args: Callable[[], list[str]]
    connect: Callable[[], object]
    rows: Callable[[str, list[str]], list[dict]]
    target: Callable[[str], int]
    """The position to be reached, given the warehouse: PostgreSQL: the lake's committed LSN
    (the published position); MariaDB: the server's binlog end."""
    follower: Callable[[str], int]
    """What must reach it within three checkpoints: PostgreSQL: the slot's confirmed_flush_lsn
    (the server may release WAL up to there); MariaDB: the lake's committed binlog position."""
    follower_is_lake: bool
    """MariaDB: ``follower`` is the lake's position; PostgreSQL: it is the slot's, which must
    never pass the lake's (the server would drop WAL the lake does not hold)."""

    def setup(self, orders: int) -> None:
        for ddl in TABLES.values():
            self.server.execute(ddl, database=self.database)
        for sql in fill_statements(self.series, orders):
            self.server.execute(sql, database=self.database)

    def job_args(self, warehouse: str, chunk: int, ticks_per_second: float) -> list[str]:
        return ["--warehouse", warehouse, "--database", DATABASE, "--writer_parallelism", "2",
                "--ticks_per_second", str(ticks_per_second), *self.conf_args(),
                self.conf_flag, f"{self.chunk_option}={chunk}"]

    @property
    def conf_flag(self) -> str:
        return "--postgres_conf" if self.name == "postgres" else "--mysql_conf"


SPLIT_READERS = {"scan.snapshot.parallelism": "2"}
"""PostgreSQL's snapshot is read by two split readers here: on the standalone cluster they are
processes of their own, which the kills take down with the rest."""


def postgres_source(server, database: str) -> ChaosSource:
    def connect():
        return psycopg2.connect(server.dsn_for(database))

    def rows(table: str, keys: list[str]) -> list[dict]:
        return postgres.normalise(postgres.source_rows(server, database, table, keys))

    return ChaosSource("postgres", "postgres_sync_database", server, database,
                       lambda first, last: f"generate_series({first}, {last}) AS s(seq)", "scan.snapshot.chunk.size",
                       lambda: postgres.conf_args(server, database, slot=SLOT, **SPLIT_READERS), connect, rows,
                       lambda warehouse: int(published(warehouse)["lsn"]),
                       lambda _: postgres.confirmed_lsn(server, SLOT), False)


def mariadb_source(server, database: str) -> ChaosSource:
    def connect():
        conn = server.connect(database)
        conn.autocommit(False)
        return conn

    def rows(table: str, keys: list[str]) -> list[dict]:
        return mariadb.source_rows(server, database, table, keys)

    return ChaosSource("mariadb", "mysql_sync_database", server, database,
                       lambda first, last: f"seq_{first}_to_{last}", "scan.incremental.snapshot.chunk.size",
                       lambda: mariadb.mysql_conf_args(server, database), connect, rows,
                       lambda _: mariadb.server_binlog(server),
                       lambda warehouse: mariadb.published_binlog(warehouse), True)
