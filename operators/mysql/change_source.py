"""``MySqlChangeSource``: what the MySQL/MariaDB reader does, without Flink.

Phases: ``snapshot`` (each table read in chunks by key, every chunk in its own consistent
snapshot with its exact binlog position: ``operators/mysql/snapshot_progress.py``), then
``stream`` (the binlog from the position taken when the job first started, every change checked
against the chunk that holds its key until the stream has passed the table's last chunk).
``step()`` does one bounded piece of work and returns the events to send, in order
(``operators/cdc/source.py``). ``state`` is everything needed to continue exactly:

* ``binlog``: where the stream resumes (the end of the last whole transaction handed over or
  passed, or where the heartbeats say the binlog ends while nothing happens; a large transaction
  is handed over in parts, and this moves only after its last);
* ``tables``: per source table, its ``TableProgress`` (snapshot chunks and their positions).

Row changes are decoded straight into Arrow columns and handed over per table and poll; the
schema of every row is the one its TABLE_MAP event describes, so an ALTER TABLE reaches the lake
before the first row that needs it. Tables without a primary key become append tables: their
inserts are replicated, their updates and deletes are not (as in the PostgreSQL source).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from operators.cdc.change_batch import ChangeBatch
from operators.cdc.errors import SourceNotReady
from operators.cdc.schema_event import SchemaEvent
from operators.cdc.source import Event, SnapshotProgress, SourceProgress, TablePosition, behind_ms
from operators.cdc.source_position import SourcePosition, latest
from operators.cdc.targets import Targets
from operators.cdc.upsert import UpsertTables
from operators.mysql import inspection, server_checks
from operators.mysql.binlog.connection import ServerSettings
from operators.mysql.binlog.server_position import bytes_after, current_position, first_position, position_at_time
from operators.mysql.binlog.stream import BinlogStream
from operators.mysql.binlog.transaction import BinlogPosition, BinlogTransaction, RowsChange, Statement
from operators.mysql.canonical import canonical_arrow_type
from operators.mysql.snapshot_progress import TableProgress, order_safe
from operators.mysql.snapshot_reader import SnapshotReader, chunk_key
from operators.mysql.source_config import MySqlSourceConfig, TypeMapping
from operators.mysql.source_table import MySqlTable
from operators.mysql.table_mapping import MySqlTableMapping, reconcile
from paimon_py.data.row_kind import RowKind

LOG = logging.getLogger(__name__)

_INSERT, _DELETE = int(RowKind.INSERT), int(RowKind.DELETE)
_BEFORE, _AFTER = int(RowKind.UPDATE_BEFORE), int(RowKind.UPDATE_AFTER)

_DML = re.compile(r"^\s*(?:/\*.*?\*/\s*)*(INSERT|REPLACE|UPDATE|DELETE|LOAD\s+DATA)\b"
                  r"(?:\s+(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|QUICK|IGNORE|INTO|FROM|LOCAL|INFILE\s+'[^']*'))*"
                  r"\s+`?(\w+)`?(?:\.`?(\w+)`?)?", re.IGNORECASE | re.DOTALL)


class MySqlChangeSource:
    def __init__(self, config: MySqlSourceConfig, targets: Targets, type_mapping: TypeMapping,
                 state: Optional[dict], instance: str, exact_snapshot_positions: Optional[bool] = None,
                 upserts: Optional[UpsertTables] = None):
        """``exact_snapshot_positions``: see ``SnapshotReader`` (None: ask the server); ``upserts``:
        the target tables whose updates leave out the ``-U`` row."""
        self.config = config
        self.exact_snapshot_positions = exact_snapshot_positions
        self.targets = targets
        self.upserts = upserts or UpsertTables(None)
        self.type_mapping = type_mapping
        self.instance = instance
        self.conn = config.connect()
        self.zone = config.server_time_zone or server_checks.server_info(self.conn).time_zone
        self.phase = "snapshot"
        self.binlog: Optional[BinlogPosition] = None
        self.table_progress: dict[str, TableProgress] = {}
        self.mappings: dict[str, MySqlTableMapping] = {}
        self.excluded: set[str] = set()
        self.snapshot: Optional[SnapshotReader] = None
        self.stream: Optional[BinlogStream] = None
        self.rows_read: dict[str, int] = {}
        self.estimates: dict[str, int] = {}
        self.last_change_ms = 0
        self.open_before_start: Optional[bool] = None
        """For a transaction in parts under the ``timestamp`` start: whether its first part was
        older than the start (its later parts follow that decision)."""
        if state:
            self._restore(state)

    # --- state ---------------------------------------------------------------------------

    @property
    def state(self) -> dict:
        return {"phase": self.phase, "binlog": self.binlog.to_dict() if self.binlog else None,
                "tables": {key: p.to_json() for key, p in self.table_progress.items()}}

    def _restore(self, state: dict) -> None:
        self.phase = state["phase"]
        self.binlog = BinlogPosition.from_dict(state["binlog"]) if state.get("binlog") else None
        self.table_progress = {key: TableProgress.from_json(p) for key, p in state["tables"].items()}

    @property
    def snapshot_done(self) -> bool:
        return self.phase == "stream"

    @property
    def mid_transaction(self) -> bool:
        """A part of a large transaction is handed over and its end is not: no checkpoint may fall here."""
        return self.stream is not None and self.stream.mid_transaction

    # --- start ---------------------------------------------------------------------------

    def start(self) -> list[Event]:
        """Inspects the matched tables; a first start fixes the binlog position to stream from."""
        tables = inspection.list_tables(self.conn, self.config)
        if self.binlog is None:
            self._initial_state()
        events = [self._register(t) for t in tables]
        if self.phase == "snapshot":
            self.snapshot = SnapshotReader(self.config, self.exact_snapshot_positions)
            self.estimates = {t.key: inspection.estimated_rows(self.conn, t) for t in tables
                              if not self.table_progress[t.key].done}
        return events

    def _initial_state(self) -> None:
        mode = self.config.startup_mode
        if mode in ("initial", "snapshot", "latest-offset"):
            self.binlog = current_position(self.conn)
        elif mode == "earliest-offset":
            self.binlog = first_position(self.conn)
        elif mode == "timestamp":
            self.binlog = position_at_time(self.conn, self._server_settings(), self.config.server_id,
                                           self.config.startup_timestamp_ms // 1000)
        else:
            offset = self.config.specific_offset
            self.binlog = BinlogPosition(offset.file or "", offset.pos or 4, offset.gtid_set or "")
        self.phase = "snapshot" if mode in ("initial", "snapshot") else "stream"

    def _register(self, table: MySqlTable, new: bool = False) -> SchemaEvent:
        if table.key not in self.table_progress:
            self.table_progress[table.key] = TableProgress(done=new or self.phase == "stream",
                                                     order_safe=self._order_safe(table))
        mapping = MySqlTableMapping.of(table, self.targets, self.type_mapping, self.zone)
        self.mappings[table.key] = mapping
        return mapping.target.schema_event()

    def _order_safe(self, table: MySqlTable) -> bool:
        keys = chunk_key(table, self.config)
        types = {c.name: canonical_arrow_type(c.type) for c in table.columns}
        return bool(keys) and order_safe([types[k] for k in keys])

    # --- snapshot ------------------------------------------------------------------------

    def step(self, poll_wait_s: float = 0.0) -> list[Event]:
        if self.phase == "snapshot":
            return self._snapshot_step()
        return self._stream_step(poll_wait_s)

    def _snapshot_step(self) -> list[Event]:
        for key, mapping in self.mappings.items():
            progress = self.table_progress[key]
            if progress.done:
                continue
            table = mapping.table
            keys = chunk_key(table, self.config)
            if keys:
                chunks = [self.snapshot.chunk(table, keys, progress.after, self.config.chunk_size)]
            else:  # one piece: a checkpoint never falls inside it
                chunks = list(self.snapshot.whole_table(table))
            progress.add_chunk(chunks[-1].last_key if chunks else None,
                               (chunks[-1].position if chunks else current_position(self.conn)).file_pos())
            self.rows_read[key] = self.rows_read.get(key, 0) + sum(chunk.num_rows for chunk in chunks)
            return [insert_batch(mapping, chunk.columns) for chunk in chunks if chunk.num_rows]
        self._end_snapshot()
        return []

    def _end_snapshot(self) -> None:
        if self.snapshot is not None:
            self.snapshot.close()
            self.snapshot = None
        self.phase = "stream"
        LOG.info("Snapshot of %d table(s) done; streaming the binlog from %s:%d.", len(self.mappings),
                 self.binlog.file, self.binlog.pos)

    def snapshot_all(self) -> Iterator[Event]:
        """The whole (remaining) snapshot, for the bounded ``snapshot`` mode."""
        while self.phase == "snapshot":
            yield from self._snapshot_step()

    # --- stream --------------------------------------------------------------------------

    def _server_settings(self) -> ServerSettings:
        return ServerSettings(self.config.hostname, self.config.port, self.config.username, self.config.password)

    def _update_before(self, table: MySqlTable) -> Optional[frozenset[str]]:
        """The columns of an update's old image the job uses: a table that writes upserts needs
        only its lake key's, to see whether the key moved (``_update_rows`` decodes the whole old
        image again when it did); None: every column."""
        mapping = self.mappings.get(table.key)
        if mapping is None or not mapping.keyed:
            return None
        target = mapping.target
        return frozenset(target.spec.primary_keys) if self.upserts(target.target, target.spec) else None

    def _stream_step(self, wait_s: float) -> list[Event]:
        if self.stream is None:
            self.stream = BinlogStream(self._server_settings(), self.binlog, self._captured, self.config.server_id,
                                       self.config.heartbeat_ms, self.config.connect_timeout_ms / 1000,
                                       self.config.prefetch_bytes, self._update_before)
        transactions = self.stream.poll(self.config.poll_max_rows, wait_s)
        events = self._events(transactions)
        self.binlog = self.stream.position
        if transactions:
            self.last_change_ms = transactions[-1].timestamp_ms
        return events

    def _captured(self, database: str, table: str) -> bool:
        key = f"{database}.{table}"
        if key in self.mappings:
            return True
        if key in self.excluded or not self.config.matches(database, table):
            return False
        if not inspection.is_captured_type(self.conn, database, table):
            self.excluded.add(key)
            return False
        return True

    def _events(self, transactions: list[BinlogTransaction]) -> list[Event]:
        batches = _Batches()
        events: list[Event] = []
        for transaction in transactions:
            if self._before_start(transaction):
                continue
            end = transaction.end.file_pos()
            for change in transaction.changes:
                if isinstance(change, Statement):
                    self._statement(change)
                    continue
                event = self._schema_of(change, batches)
                if event is not None:
                    events.append(batches.flush(change.table.key))
                    events.append(event)
                self._add(change, end, transaction.timestamp_ms, batches)
        events.extend(batches.flush_all())
        return [e for e in events if e is not None]

    def _before_start(self, transaction: BinlogTransaction) -> bool:
        """Older than the ``timestamp`` start (the binlog keeps whole seconds: a transaction of the
        start's second is handed over). A transaction in parts is decided by its first part, so it
        is handed over whole or not at all."""
        before = self.open_before_start
        if before is None:
            start_ts = self.config.startup_timestamp_ms and self.config.startup_timestamp_ms // 1000 * 1000
            before = bool(start_ts) and transaction.timestamp_ms < start_ts
        self.open_before_start = None if transaction.complete else before
        return before

    def _schema_of(self, change: RowsChange, batches: "_Batches") -> Optional[SchemaEvent]:
        """The new schema event when this TABLE_MAP shows a new table or a changed one."""
        key = change.table.key
        mapping = self.mappings.get(key)
        if mapping is None:
            LOG.info("New source table %s picked up.", change.table.qualified)
            return self._register(change.table, new=True)
        logged = reconcile(mapping.table, change.table)
        if logged.columns == mapping.table.columns:
            change.table = mapping.table
            return None
        self._warn_dropped(mapping.table, logged)
        change.table = logged
        return self._register(logged)

    def _warn_dropped(self, known: MySqlTable, logged: MySqlTable) -> None:
        names = {c.name for c in logged.columns}
        for column in known.columns:
            if column.name not in names:
                LOG.warning("%s: column %s was dropped (or renamed) in the source; the lake keeps it, and rows "
                            "written from now on have NULL in it.", known.qualified, column.name)

    def _add(self, change: RowsChange, end: tuple[int, int], timestamp_ms: int, batches: "_Batches") -> None:
        mapping = self.mappings[change.table.key]
        progress = self.table_progress[change.table.key]
        if not mapping.keyed and change.kind != "insert":
            return
        if change.kind == "update":
            target = mapping.target
            columns, row_kinds = _update_rows(change, target.spec.primary_keys, self.upserts(target.target, target.spec))
        else:
            columns = change.after if change.kind == "insert" else change.before
            kind = _INSERT if change.kind == "insert" else _DELETE
            row_kinds = pa.array(np.full(len(change), kind, np.int8))
        keep = self._keep(mapping, progress, columns, end)
        if keep is not None:
            columns = [c.filter(keep) for c in columns]
            row_kinds = row_kinds.filter(keep)
        if len(row_kinds):
            batches.add(mapping, columns, row_kinds, timestamp_ms)

    def _keep(self, mapping: MySqlTableMapping, progress: TableProgress, columns: list[pa.Array],
              end: tuple[int, int]) -> Optional[pa.Array]:
        """Which rows are not in the lake yet (None: all of them). Only keys that Python orders as
        the server does are looked up per row; otherwise one answer holds for the whole change."""
        if progress.settled(end) and progress.skip_until is None:
            return None
        keys = chunk_key(mapping.table, self.config) if mapping.keyed and progress.order_safe else ()
        if not keys:
            return pa.array(np.full(len(columns[0]), not progress.in_lake(None, end)))
        names = [c.name for c in mapping.table.columns]
        key_columns = [columns[names.index(k)].to_pylist() for k in keys]
        return pa.array([not progress.in_lake(key, end) for key in zip(*key_columns)])

    def _statement(self, statement: Statement) -> None:
        """DML logged as a statement cannot be replicated: stop with the fix. DDL that the lake
        does not follow is logged."""
        match = _DML.match(statement.sql)
        if match:
            database, table = (match.group(2), match.group(3)) if match.group(3) else (statement.schema,
                                                                                       match.group(2))
            if database and self.config.matches(database, table):
                raise SourceNotReady(
                    f"a change of {database}.{table} was logged as a statement, not as rows (a session ran with "
                    f"binlog_format STATEMENT or MIXED) — run SET GLOBAL binlog_format=ROW, make every client "
                    f"session use ROW, and start the job again with a new snapshot")
            return
        text = " ".join(statement.sql.split())[:200]
        if re.match(r"(TRUNCATE|DROP\s+TABLE|RENAME\s+TABLE|CREATE\s+OR\s+REPLACE\s+TABLE)", text, re.IGNORECASE):
            LOG.warning("Statement not replicated (policy, as in Paimon CDC: the lake keeps its rows): %s", text)

    def progress(self) -> SourceProgress:
        """The lag is the binlog the server holds after the stream's position (``SHOW BINARY LOGS``)."""
        tables = tuple(SnapshotProgress(key, self.rows_read.get(key, 0), estimate, self.table_progress[key].done)
                       for key, estimate in self.estimates.items())
        if self.stream is None:
            return SourceProgress(self.snapshot_done, tables=tables)
        lag = bytes_after(self.conn, self.stream.position)
        return SourceProgress(True, lag, behind_ms(lag, self.last_change_ms, int(time.time() * 1000)), tables)

    def acknowledge(self, published: SourcePosition) -> None:
        """The server keeps its binlog by retention, not per reader: nothing to tell it."""

    def close(self) -> None:
        for resource in (self.stream, self.snapshot):
            if resource is not None:
                resource.close()
        self.conn.close()


def insert_batch(mapping: MySqlTableMapping, columns: list[pa.Array]) -> ChangeBatch:
    """Snapshot rows (canonical arrays, one per column) as a batch of inserts (``op_ts`` 0, as in Paimon)."""
    rows = len(columns[0]) if columns else 0
    return mapping.batch(columns, pa.array(np.zeros(rows, np.int8)), pa.array(np.zeros(rows, np.int64)))


def _update_rows(change: RowsChange, keys: tuple[str, ...], upsert: bool) -> tuple[list[pa.Array], pa.Array]:
    """An update's rows in order: ``-U old, +U new`` per updated row, or ``-D old, +I new`` when
    the update moved the primary key (as Paimon CDC writes them); for an ``upsert`` table
    (``operators/cdc/upsert.py``) ``+U new`` alone where the key stayed."""
    n = len(change)
    names = [c.name for c in change.table.columns]
    moved = np.zeros(n, bool)
    for key in keys:
        i = names.index(key)
        moved |= pc.fill_null(pc.not_equal(change.before[i], change.after[i]), True).to_numpy(zero_copy_only=False)
    if upsert and not moved.any():
        return list(change.after), pa.array(np.full(n, _AFTER, np.int8))
    old = change.whole_before()
    kinds = np.empty(2 * n, np.int8)
    kinds[0::2] = np.where(moved, _DELETE, _BEFORE)
    kinds[1::2] = np.where(moved, _INSERT, _AFTER)
    order = np.column_stack([np.arange(n), np.arange(n) + n]).ravel()
    if upsert:
        keep = kinds != _BEFORE
        order, kinds = order[keep], kinds[keep]
    columns = [pa.concat_arrays([before, after]).take(pa.array(order))
               for before, after in zip(old, change.after)]
    return columns, pa.array(kinds)


class _Batches:
    """Row changes of one poll gathered per table, handed over as one batch per table."""

    def __init__(self):
        self.open: dict[str, tuple[MySqlTableMapping, list, list, list]] = {}

    def add(self, mapping: MySqlTableMapping, columns: list[pa.Array], kinds: pa.Array, timestamp_ms: int) -> None:
        _, parts, kind_parts, times = self.open.setdefault(mapping.table.key, (mapping, [], [], []))
        parts.append(columns)
        kind_parts.append(kinds)
        times.append(np.full(len(kinds), timestamp_ms, np.int64))

    def flush(self, key: str):
        if key not in self.open:
            return None
        mapping, parts, kind_parts, times = self.open.pop(key)
        columns = [pa.concat_arrays(list(c)) for c in zip(*parts)]
        return mapping.batch(columns, pa.concat_arrays(kind_parts), pa.array(np.concatenate(times)))

    def flush_all(self) -> list:
        return [self.flush(key) for key in list(self.open)]


@dataclass(frozen=True)
class MySqlSourceFactory:
    """What a MySQL job ships to the reader (``ChangeSourceFactory``)."""

    config: MySqlSourceConfig
    targets: Targets
    type_mapping: TypeMapping
    exact_snapshot_positions: Optional[bool] = None
    """False: the low/high watermark snapshot even where the server reports positions (tests)."""
    lake: Optional[dict[str, str]] = None
    """The job's catalog options: which target tables take updates without ``-U``
    (``UpsertTables``); None: every table gets them."""

    @property
    def source_id(self) -> str:
        return self.config.source_id

    @property
    def bounded(self) -> bool:
        return self.config.startup_mode == "snapshot"

    def open(self, state: Optional[dict], instance: str) -> MySqlChangeSource:
        return MySqlChangeSource(self.config, self.targets, self.type_mapping, state, instance,
                                 self.exact_snapshot_positions, UpsertTables(self.lake))

    def resume_state(self, published: SourcePosition, table_position: TablePosition) -> dict:
        """Per table, a later position in its lake table's latest snapshot wins (a crash between
        two tables' commits of one checkpoint): that table skips what the later position covers."""
        state = published.state
        for key, entry in state["tables"].items():
            database, name = key.split(".", 1)
            newer = latest(published, table_position(self.targets.name_of(database, name)))
            if newer is published:
                continue
            progress = TableProgress.from_json(newer.state["tables"].get(key, entry))
            if newer.state.get("binlog"):
                progress.skip_until = max(progress.skip_until or (0, 0),
                                          BinlogPosition.from_dict(newer.state["binlog"]).file_pos())
            state["tables"][key] = progress.to_json()
        return state
