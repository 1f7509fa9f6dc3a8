"""``SourceDriver``: what the source contract suite (``tests/operators/cdc/test_source_contract.py``) needs
from a database, so that one suite checks every source.

A driver owns one empty database for one test. It creates the suite's two tables, changes their
rows (also inside a transaction, committed or rolled back), adds columns, builds the source's
``SourcePreparation`` for them and reads their current rows back. The suite uses two shapes:

* a table with a primary key: ``id`` (integer, the key), ``name`` (text), ``qty`` (integer);
* a table without one: ``seq`` (integer), ``message`` (text); the suite only inserts into it
  (a source turns a table without a key into an append table: updates and deletes of it are
  not replicated).

Columns added by ``add_column`` are nullable text. Values are Python ``int``/``str``/``None``
both ways (what ``ChangeBatch.rows().to_pylist()`` gives for these columns).

``PostgresDriver`` and ``MySqlDriver`` (on MariaDB) implement it.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import ContextManager, Iterator, Optional, Protocol

import psycopg2
import psycopg2.extras

from operators.cdc.source import SourcePreparation
from operators.cdc.targets import database_targets
from operators.mysql.change_source import MySqlSourceFactory
from operators.mysql.job_args import MySqlPreparation
from operators.mysql.source_config import MySqlSourceConfig
from operators.mysql.types import TypeMapping
from operators.postgres.job_args import PostgresPreparation
from operators.postgres.change_source import PostgresSourceFactory
from operators.postgres.source_config import PostgresSourceConfig

LAKE_DATABASE = "lake"
"""The lake database every driver maps its tables into (``lake.<table>``)."""


class RowWriter(Protocol):
    """Row changes, in autocommit (the driver) or inside one transaction (``transaction()``)."""

    def insert(self, table: str, rows: list[dict]) -> None: ...

    def update(self, table: str, key: int, values: dict) -> None:
        """Sets ``values`` (column -> value) in the row of the keyed table whose id is ``key``."""

    def delete(self, table: str, key: int) -> None: ...

    def change_key(self, table: str, old: int, new: int) -> None:
        """Moves the keyed table's row ``old`` to primary key ``new`` (an UPDATE of the key)."""


class SourceDriver(RowWriter, Protocol):
    name: str
    retains_log: bool
    """True when the server keeps its change log for the source until acknowledged
    (PostgreSQL: the replication slot); then ``confirmed_position`` reports how far."""

    def create_keyed_table(self, table: str) -> None: ...

    def create_append_table(self, table: str) -> None: ...

    def add_column(self, table: str, column: str) -> None:
        """ALTER TABLE ... ADD COLUMN (nullable text, no default)."""

    def transaction(self, rollback: bool = False) -> ContextManager[RowWriter]:
        """One transaction: committed at the end of the ``with`` block, or rolled back."""

    def preparation(self, tables: list[str], chunk_size: Optional[int] = None,
                    bounded: bool = False) -> SourcePreparation:
        """The source for ``tables`` (each into ``lake.<table>``): ``chunk_size`` rows per snapshot
        chunk; ``bounded``: the startup mode that reads the tables once and ends. Every call
        of one driver describes the same change stream (the same slot, for PostgreSQL)."""

    def target(self, table: str) -> str:
        """The lake table ``table`` goes to."""

    def rows(self, table: str) -> list[dict]:
        """The table's current rows (column -> value), in no particular order."""

    def confirmed_position(self) -> Optional[int]:
        """How far the server has been told the source's changes are safe (None: it retains
        nothing for the source); comparable with ``state_position``."""

    def state_position(self, state: dict) -> int:
        """Where a source ``state`` stands in the change log (comparable with the above)."""

    def close(self) -> None:
        """Closes the driver's own connections (the test's fixtures drop the database)."""


# --- PostgreSQL ---------------------------------------------------------------------------------

class _PostgresWriter:
    """``RowWriter`` over one psycopg2 cursor."""

    def __init__(self, cursor):
        self.cursor = cursor

    def insert(self, table: str, rows: list[dict]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        psycopg2.extras.execute_values(
            self.cursor, f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES %s',
            [tuple(row[c] for c in columns) for row in rows])

    def update(self, table: str, key: int, values: dict) -> None:
        assignments = ", ".join(f'"{c}" = %s' for c in values)
        self.cursor.execute(f'UPDATE "{table}" SET {assignments} WHERE id = %s', [*values.values(), key])

    def delete(self, table: str, key: int) -> None:
        self.cursor.execute(f'DELETE FROM "{table}" WHERE id = %s', (key,))

    def change_key(self, table: str, old: int, new: int) -> None:
        self.cursor.execute(f'UPDATE "{table}" SET id = %s WHERE id = %s', (new, old))


class PostgresDriver(_PostgresWriter):
    """The PostgreSQL source on a test's database of the session's ``LocalPostgres``."""

    name = "postgres"
    retains_log = True

    def __init__(self, server, database: str):
        """``server``: the ``postgres_server`` fixture; ``database``: the ``database`` fixture,
        whose teardown drops the slot this driver's source creates."""
        self.server = server
        self.database = database
        self.slot = "contract_" + uuid.uuid4().hex[:12]
        self.conn = psycopg2.connect(server.dsn_for(database))
        self.conn.autocommit = True
        super().__init__(self.conn.cursor())

    def close(self) -> None:
        self.conn.close()

    def create_keyed_table(self, table: str) -> None:
        self.cursor.execute(f'CREATE TABLE "{table}" (id integer PRIMARY KEY, name text, qty integer)')

    def create_append_table(self, table: str) -> None:
        self.cursor.execute(f'CREATE TABLE "{table}" (seq integer, message text)')

    def add_column(self, table: str, column: str) -> None:
        self.cursor.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" text')

    @contextmanager
    def transaction(self, rollback: bool = False) -> Iterator[RowWriter]:
        conn = psycopg2.connect(self.server.dsn_for(self.database))
        try:
            with conn.cursor() as cursor:
                yield _PostgresWriter(cursor)
            conn.rollback() if rollback else conn.commit()
        finally:
            conn.close()

    def preparation(self, tables: list[str], chunk_size: Optional[int] = None,
                    bounded: bool = False) -> SourcePreparation:
        options = {**self.server.conf(self.database), "slot.name": self.slot,
                   "table-name": "|".join(tables)}
        if chunk_size is not None:
            options["scan.snapshot.chunk.size"] = str(chunk_size)
        if bounded:
            options["scan.startup.mode"] = "snapshot"
        config = PostgresSourceConfig.parse(options, table_required=True)
        return PostgresPreparation(PostgresSourceFactory(config, database_targets(LAKE_DATABASE, "", "", {})))

    def target(self, table: str) -> str:
        return f"{LAKE_DATABASE}.{table}"

    def rows(self, table: str) -> list[dict]:
        with self.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
            cursor.execute(f'SELECT * FROM "{table}"')
            return [dict(r) for r in cursor.fetchall()]

    def confirmed_position(self) -> Optional[int]:
        rows = self.server.execute("SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots"
                                   " WHERE slot_name = %s", (self.slot,))
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def state_position(self, state: dict) -> int:
        return int(state["lsn"])


# --- MySQL / MariaDB ------------------------------------------------------------------------------

class _MySqlWriter:
    """``RowWriter`` over one pymysql cursor."""

    def __init__(self, cursor):
        self.cursor = cursor

    def insert(self, table: str, rows: list[dict]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        marks = ", ".join(["%s"] * len(columns))
        self.cursor.executemany(f"INSERT INTO `{table}` ({', '.join(f'`{c}`' for c in columns)}) VALUES ({marks})",
                                [tuple(row[c] for c in columns) for row in rows])

    def update(self, table: str, key: int, values: dict) -> None:
        assignments = ", ".join(f"`{c}` = %s" for c in values)
        self.cursor.execute(f"UPDATE `{table}` SET {assignments} WHERE id = %s", [*values.values(), key])

    def delete(self, table: str, key: int) -> None:
        self.cursor.execute(f"DELETE FROM `{table}` WHERE id = %s", (key,))

    def change_key(self, table: str, old: int, new: int) -> None:
        self.cursor.execute(f"UPDATE `{table}` SET id = %s WHERE id = %s", (new, old))


class MySqlDriver(_MySqlWriter):
    """The MySQL source on a test's database of the session's ``LocalMariaDB``. The binlog is the
    server's, kept by retention, not per source: ``retains_log`` is False."""

    name = "mysql"
    retains_log = False

    def __init__(self, server, database: str, watermarks: bool = False):
        """``server``: the ``mariadb_server`` fixture; ``database``: the ``mysql_database`` fixture;
        ``watermarks``: snapshot chunks by Flink CDC's low/high watermark method (what Oracle MySQL
        gets) instead of MariaDB's snapshot positions."""
        self.server = server
        self.database = database
        self.watermarks = watermarks
        self.conn = server.connect(database)
        super().__init__(self.conn.cursor())

    def close(self) -> None:
        self.conn.close()

    def create_keyed_table(self, table: str) -> None:
        self.cursor.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY, name TEXT, qty INT)")

    def create_append_table(self, table: str) -> None:
        self.cursor.execute(f"CREATE TABLE `{table}` (seq INT, message TEXT)")

    def add_column(self, table: str, column: str) -> None:
        self.cursor.execute(f"ALTER TABLE `{table}` ADD COLUMN `{column}` TEXT")

    @contextmanager
    def transaction(self, rollback: bool = False) -> Iterator[RowWriter]:
        conn = self.server.connect(self.database)
        try:
            conn.begin()
            with conn.cursor() as cursor:
                yield _MySqlWriter(cursor)
            conn.rollback() if rollback else conn.commit()
        finally:
            conn.close()

    def preparation(self, tables: list[str], chunk_size: Optional[int] = None,
                    bounded: bool = False) -> SourcePreparation:
        options = {**self.server.conf(self.database), "table-name": "|".join(tables)}
        if chunk_size is not None:
            options["scan.incremental.snapshot.chunk.size"] = str(chunk_size)
        if bounded:
            options["scan.startup.mode"] = "snapshot"
        config = MySqlSourceConfig.parse(options, table_required=True)
        factory = MySqlSourceFactory(config, database_targets(LAKE_DATABASE, "", "", {}), TypeMapping(),
                                     False if self.watermarks else None)
        return MySqlPreparation(factory, None)

    def target(self, table: str) -> str:
        return f"{LAKE_DATABASE}.{table}"

    def rows(self, table: str) -> list[dict]:
        with self.conn.cursor() as cursor:
            cursor.execute(f"SELECT * FROM `{table}`")
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def confirmed_position(self) -> Optional[int]:
        return None

    def state_position(self, state: dict) -> int:
        file_number, offset = state["binlog"]["file"].rsplit(".", 1)[-1], state["binlog"]["pos"]
        return int(file_number) << 40 | int(offset)
