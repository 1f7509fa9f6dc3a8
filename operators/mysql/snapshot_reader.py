"""``SnapshotReader``: reads tables in chunks, each in its own consistent snapshot with the exact
binlog position of that snapshot (MariaDB and Percona Server; docs/mysql.md §1.1).

A chunk is ``START TRANSACTION WITH CONSISTENT SNAPSHOT``, ``SHOW STATUS LIKE
'binlog_snapshot_%'`` (the position of exactly that snapshot), ``BINLOG_GTID_POS`` (its GTID
state) and one query ``WHERE (k1, k2) > (last key) ORDER BY k1, k2 LIMIT n``. A change the binlog
carries after that position is newer than the chunk; one before it is in the chunk already.

Speed: pymysql decodes rows in Python at ~50k rows/s. Instead the server formats the chunk as one
CSV value (``GROUP_CONCAT`` of a line per row, in key order) and pyarrow's C++ CSV reader parses
it; values are sent in forms that parse exactly (``operators/mysql/snapshot_sql.py``), and become
the canonical arrays (``operators/mysql/canonical.py``) with vectorised casts.

Servers whose consistent snapshots have no binlog position (Oracle MySQL) get Flink CDC's
low/high watermark method instead (``operators/mysql/backfill.py``): the binlog's end is read
before and after the chunk's query, and the table's changes in between are replayed onto the
chunk, whose position is then the high watermark. A table without a chunk key is read again
until no change of it falls between its watermarks.

Exactness of the chunk key: chunks follow the server's order (its collations), so any key
works, but the key must be unique and NOT NULL (rows with equal keys across a chunk boundary
or NULL keys would be skipped): the primary key by default; an override
(``scan.incremental.snapshot.chunk.key-column``) must be a unique NOT NULL column. TIME keys with
negative fractions are not resumable exactly (pymysql's text of such values is wrong).
"""

from __future__ import annotations

import io
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from operators.cdc.errors import CdcError
from operators.mysql.backfill import backfill
from operators.mysql.binlog.connection import ServerSettings
from operators.mysql.binlog.server_position import current_position
from operators.mysql.binlog.stream import BinlogStream
from operators.mysql.binlog.transaction import BinlogPosition, RowsChange
from operators.mysql.canonical import canonical_arrow_type
from operators.mysql.snapshot_progress import order_safe
from operators.mysql.snapshot_sql import csv_line, csv_type, quote_name, to_canonical
from operators.mysql.source_config import InvalidSourceOption, MySqlSourceConfig
from operators.mysql.source_table import MySqlTable

BACKFILL_PREFETCH_BYTES = 1 << 20
"""A chunk's backfill reads a short range of the binlog: little to read ahead (and throw away)."""

WHOLE_TABLE_BATCH_ROWS = 100_000


@dataclass
class SnapshotChunk:
    columns: list[pa.Array]
    """Canonical arrays, one per column of the table, in its column order."""
    last_key: Optional[tuple]
    """The chunk key of the last row (resume after it); None when the table is exhausted."""
    position: BinlogPosition
    """The binlog position of the chunk's snapshot."""

    @property
    def num_rows(self) -> int:
        return len(self.columns[0]) if self.columns else 0


def chunk_key(table: MySqlTable, config: MySqlSourceConfig) -> tuple[str, ...]:
    """The columns to chunk ``table`` by: ``scan.incremental.snapshot.chunk.key-column`` when set,
    else the primary key; empty when there is neither (read it with ``whole_table``)."""
    column = config.chunk_key_column
    if column is None:
        return table.primary_keys
    if column not in {c.name for c in table.columns}:
        raise InvalidSourceOption(f"scan.incremental.snapshot.chunk.key-column={column} is not a column of "
                                  f"{table.key} — name one of its unique NOT NULL columns")
    return (column,)


WATERMARK_ATTEMPTS = 20
"""Reads of a table without a chunk key before giving up on a quiet moment (watermark method)."""


class SnapshotReader:
    def __init__(self, config: MySqlSourceConfig, exact_positions: Optional[bool] = None):
        """``exact_positions``: whether consistent snapshots report their binlog position (None:
        ask the server; False: the watermark method, also on MariaDB)."""
        self.config = config
        self.conn = config.connect()
        with self.conn.cursor() as cur:
            cur.execute("SET SESSION group_concat_max_len = @@max_allowed_packet")
            cur.execute("SELECT @@group_concat_max_len")
            self.max_value_bytes = int(cur.fetchone()[0])
            if exact_positions is None:
                cur.execute("SHOW GLOBAL STATUS LIKE 'binlog_snapshot_file'")
                exact_positions = cur.fetchone() is not None
        self.exact_positions = exact_positions

    def chunk(self, table: MySqlTable, key_columns: Sequence[str], after: Optional[tuple],
              limit: int) -> SnapshotChunk:
        """Up to ``limit`` rows with a key above ``after`` (all from the start when None), in key
        order. A chunk longer than ``group_concat_max_len`` (= ``max_allowed_packet``) is cut by the
        server: it is read again with half the limit."""
        low = None if self.exact_positions else current_position(self.conn)
        order = ", ".join(quote_name(k) for k in key_columns)
        where, params = "", None
        if after is not None:
            where = f" WHERE ({order}) > ({', '.join(['%s'] * len(after))})"
            params = list(after)
        names = [c.name for c in table.columns]
        by_max = len(key_columns) == 1 and order_safe([canonical_arrow_type(table.columns[names.index(
            key_columns[0])].type)])
        # the lines in key order only when the last key must be the last line's (a second sort)
        line_order = "" if by_max else f" ORDER BY {order}"
        while True:
            rows = (f"SELECT {csv_line(table)} AS `paimon$line`, {order} FROM {table.qualified}{where}"
                    f" ORDER BY {order} LIMIT {int(limit)}")
            query = (f"SELECT GROUP_CONCAT(`paimon$line`{line_order} SEPARATOR '\\n') FROM ({rows}) AS chunk")
            data, position, truncated = self._read_value(query, params)
            if not truncated or limit == 1:
                break
            limit = max(1, limit // 2)
        columns = parse_lines(data, table)
        count = len(columns[0]) if columns else 0
        last_key = None
        if count == limit and by_max:
            last_key = (pc.max(columns[names.index(key_columns[0])]).as_py(),)
        elif count == limit:
            last_key = tuple(columns[names.index(k)][count - 1].as_py() for k in key_columns)
        if low is not None:
            position = current_position(self.conn)
            columns = backfill(columns, table, key_columns, after, last_key, self._changes(table, low, position))
        return SnapshotChunk(columns, last_key, position)

    def whole_table(self, table: MySqlTable,
                    batch_rows: int = WHOLE_TABLE_BATCH_ROWS) -> Iterator[SnapshotChunk]:
        """A table without a usable chunk key, from one snapshot, in batches of ``batch_rows``:
        every batch has the same position and ``last_key`` None (there is nothing to resume by; a
        restored job reads the table again). Rows are streamed one per packet (slower than
        ``chunk``)."""
        if not self.exact_positions:
            yield from self._quiet_whole_table(table, batch_rows)
            return
        with self.consistent_snapshot() as position:
            for columns in self.table_rows(table, batch_rows):
                yield SnapshotChunk(columns, None, position)

    @contextmanager
    def consistent_snapshot(self) -> Iterator[Optional[BinlogPosition]]:
        """One consistent snapshot for the reads inside (``table_rows``): its binlog position
        where the server reports it (``exact_positions``), else None."""
        position = self._begin_snapshot()
        try:
            yield position
        finally:
            self._end_snapshot()

    def table_rows(self, table: MySqlTable, batch_rows: int = WHOLE_TABLE_BATCH_ROWS) -> Iterator[list[pa.Array]]:
        """All rows of ``table`` in the current snapshot, as canonical arrays in batches of
        ``batch_rows`` rows (streamed one row per packet)."""
        with self.conn.cursor(_unbuffered_cursor()) as cur:
            cur.execute(f"SELECT {csv_line(table)} FROM {table.qualified}")
            while True:
                lines = cur.fetchmany(batch_rows)
                if not lines:
                    return
                yield parse_lines(b"\n".join(line for line, in lines), table)

    def _read_value(self, query: str, params: Optional[list]) -> tuple[bytes, Optional[BinlogPosition], bool]:
        position = self._begin_snapshot()
        try:
            with self.conn.cursor() as cur:
                cur.execute(query, params)
                data = cur.fetchone()[0] or b""
        finally:
            self._end_snapshot()
        return data, position, len(data) >= self.max_value_bytes

    def _quiet_whole_table(self, table: MySqlTable, batch_rows: int) -> Iterator[SnapshotChunk]:
        """The watermark method for a table without a chunk key: read whole until no change of
        the table falls between the watermarks (there is no key to replay changes by)."""
        for _ in range(WATERMARK_ATTEMPTS):
            low = current_position(self.conn)
            self._begin_snapshot()
            try:
                with self.conn.cursor(_unbuffered_cursor()) as cur:
                    cur.execute(f"SELECT {csv_line(table)} FROM {table.qualified}")
                    lines = [line for line, in cur.fetchall()]
            finally:
                self._end_snapshot()
            high = current_position(self.conn)
            if high.file_pos() == low.file_pos() or not self._changes(table, low, high):
                for start in range(0, len(lines), batch_rows):
                    yield SnapshotChunk(parse_lines(b"\n".join(lines[start:start + batch_rows]), table), None, high)
                return
        raise CdcError(f"{table.key} changed during each of {WATERMARK_ATTEMPTS} reads and has no key to replay "
                       f"its changes by — give it a primary key or scan.incremental.snapshot.chunk.key-column")

    def _changes(self, table: MySqlTable, low: BinlogPosition, high: BinlogPosition) -> list[RowsChange]:
        """The binlog's row changes of ``table`` from ``low`` to ``high``, in order."""
        if high.file_pos() <= low.file_pos():
            return []
        config = self.config
        settings = ServerSettings(config.hostname, config.port, config.username, config.password)
        stream = BinlogStream(settings, low, lambda database, name: (database, name) == (table.database, table.name),
                              config.server_id, 200, config.connect_timeout_ms / 1000, BACKFILL_PREFETCH_BYTES)
        changes: list[RowsChange] = []
        deadline = time.monotonic() + config.connect_timeout_ms / 1000 + 60
        try:
            while stream.position.file_pos() < high.file_pos():
                if time.monotonic() > deadline:
                    raise CdcError(f"the binlog between {low.file}:{low.pos} and {high.file}:{high.pos} did not "
                                   f"arrive in time — the job restarts and reads the chunk again")
                for transaction in stream.poll(config.poll_max_rows, 0.2):
                    changes += [c for c in transaction.changes if isinstance(c, RowsChange)]
        finally:
            stream.close()
        if any([c.name for c in change.table.columns] != [c.name for c in table.columns] for change in changes):
            raise CdcError(f"{table.key} changed its columns while a snapshot chunk was read — the job restarts "
                           f"and reads the chunk again")
        return changes

    def _begin_snapshot(self) -> Optional[BinlogPosition]:
        """Starts a chunk's snapshot; its binlog position where the server reports it."""
        with self.conn.cursor() as cur:
            cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            if not self.exact_positions:
                return None
            cur.execute("SHOW STATUS LIKE 'binlog_snapshot_%'")
            status = dict(cur.fetchall())
            file, pos = status["Binlog_snapshot_file"], int(status["Binlog_snapshot_position"])
            cur.execute("SELECT BINLOG_GTID_POS(%s, %s)", (file, pos))
            gtid = cur.fetchone()[0] or ""
        return BinlogPosition(file, pos, gtid)

    def _end_snapshot(self) -> None:
        with self.conn.cursor() as cur:
            cur.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


def parse_lines(data: bytes, table: MySqlTable) -> list[pa.Array]:
    """The CSV lines of ``snapshot_sql.csv_line`` as canonical arrays."""
    names = [f"c{i}" for i in range(len(table.columns))]
    types = [csv_type(c.type) for c in table.columns]
    if not data:
        parsed = [pa.array([], t) for t in types]
    else:
        result = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types=dict(zip(names, types)), null_values=[""],
                                                 strings_can_be_null=True, quoted_strings_can_be_null=False))
        parsed = [result.column(i).combine_chunks() for i in range(len(names))]
    return [to_canonical(array, column.type) for array, column in zip(parsed, table.columns)]


def _unbuffered_cursor():
    import pymysql.cursors
    return pymysql.cursors.SSCursor
