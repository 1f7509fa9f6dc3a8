"""``PostgresChangeSource``: what the PostgreSQL reader does, without Flink.

Phases: ``snapshot`` (tables read in chunks from an exported snapshot), then ``stream``
(pgoutput changes from the job's slot). ``step()`` does one bounded piece of work and returns
the events to send, in order: ``SchemaEvent``s and ``ChangeBatch``es (the contract of
``operators/cdc/source.py``). ``state`` is everything needed to continue (kept in Flink state and sent as
the source position at every checkpoint):

* ``lsn``: where the stream resumes (the end of the last transaction handed over, or the
  server's WAL end while the tables are quiet);
* ``tables``: per source table, ``done``/``after`` (snapshot progress: the last key handed
  over) and ``skip_until``: that table's changes in transactions committed before this LSN are
  already in its snapshot and are skipped.

Every snapshot is taken through a temporary slot that exports it together with its exact LSN,
after the job's permanent slot exists, so the stream covers everything after the snapshot:
exact for every table. A snapshot interrupted by a failure continues with a new exported
snapshot: a table with a primary key after its last key (the stream replays the table's
changes since its first snapshot, which converges), a table without one from the start (it
was handed over in one piece, so none of it was committed).

With ``scan.snapshot.parallelism`` > 1 the reader reads no rows of the snapshot itself: it hands
over splits (``next_splits``, see ``snapshot_split.py``) in the same order and with the same
state (``after`` is the end of the last split handed over), and streams only once every split is
in a completed checkpoint (``splits_read``): a change may then never overtake, on its way through
another subtask, the snapshot row it follows.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np
import psycopg2.errors

from operators.cdc.schema_event import SchemaEvent
from operators.cdc.source_position import SourcePosition, latest
from operators.cdc.source import Event, SnapshotProgress, SourceProgress, TablePosition, behind_ms
from operators.cdc.targets import Targets
from operators.postgres import replication as repl
from operators.postgres.change_decoder import ChangeDecoder, RowChanges, Transaction
from operators.postgres.pgoutput import Relation, Truncate
from operators.postgres.replication import SourceColumn, SourceTable
from operators.postgres.snapshot_reader import PAGES_PER_CHUNK, SnapshotReader
from operators.postgres.snapshot_split import PostgresSnapshotSplit, PostgresSplitReader
from operators.postgres.source_config import PostgresSourceConfig
from operators.postgres.table_mapping import TableMapping, table_mapping
from operators.postgres.text_values import TextValues
from operators.postgres.types import TypeRegistry
from paimon_py.data.row_kind import RowKind

LOG = logging.getLogger(__name__)


class PostgresChangeSource:
    def __init__(self, config: PostgresSourceConfig, targets: Targets, state: Optional[dict],
                 instance: str):
        """``instance``: unique per job submission; tags its connections, and connections left
        with that tag by a failed attempt are ended at start (see ``replication.connect``)."""
        self.config = config
        self.targets = targets
        self.state = state or {}
        self.instance = instance
        self.conn = repl.connect(config, application_name=instance)
        self.registry = TypeRegistry(self.conn)
        self.tables: dict[int, SourceTable] = {}
        self.mappings: dict[int, TableMapping] = {}
        self.snapshot: Optional[SnapshotReader] = None
        self.snapshot_name = ""
        """The snapshot exported for the split readers (parallel snapshot only)."""
        self.stream: Optional[repl.ReplicationStream] = None
        self.decoder = ChangeDecoder()
        self.last_activity = time.monotonic()
        self.rows_read: dict[str, int] = {}
        self.estimates: dict[str, int] = {}
        self.last_commit_ms = 0

    # --- start ---------------------------------------------------------------------------

    def start(self) -> list[Event]:
        """Connects, (re)creates what is missing and returns the schema events of all tables; a
        restart refuses to go on without the slot it resumes from (``check_slot_kept``)."""
        repl.end_own_connections(self.conn, self.config, self.instance)
        if self.state and self.config.startup_mode != "snapshot":
            repl.check_slot_kept(self.conn, self.config, self.state["lsn"])
        tables = repl.inspect_source(self.conn, self.config)
        repl.ensure_capture(self.conn, self.config, tables)
        if not self.state:
            self.state = self._initial_state(tables)
        events = [self._register(t) for t in tables]
        if self.state["phase"] == "snapshot":
            self._open_snapshot()
            pending = [t for t in tables if not self.state["tables"][_key(t)]["done"]]
            rows = repl.estimated_rows(self.conn, [t.oid for t in pending])
            self.estimates = {_key(t): rows.get(t.oid, -1) for t in pending}
        return events

    def _initial_state(self, tables: list[SourceTable]) -> dict:
        mode = self.config.startup_mode
        entries = {_key(t): {"done": mode == "latest-offset", "after": None, "skip_until": 0} for t in tables}
        lsn = self._current_wal_lsn() if mode == "latest-offset" else 0
        return {"phase": "stream" if mode == "latest-offset" else "snapshot", "lsn": lsn, "tables": entries}

    def _current_wal_lsn(self) -> int:
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_current_wal_lsn()::text")
            return repl.parse_lsn(cur.fetchone()[0])

    def _register(self, table: SourceTable) -> SchemaEvent:
        self.tables[table.oid] = table
        self.state["tables"].setdefault(_key(table), {"done": True, "after": None, "skip_until": 0})
        mapping = table_mapping(self.targets, table, self.registry, self.config.database)
        self.mappings[table.oid] = mapping
        return mapping.schema_event()

    def _open_snapshot(self) -> None:
        """A new exported snapshot for the tables not done yet (see the module docstring)."""
        exported = repl.export_snapshot(self.config, "snap_" + uuid.uuid4().hex[:8])
        try:
            self.snapshot = SnapshotReader.of(self.config, exported)
        finally:
            exported.close()
        if self.config.snapshot_parallelism > 1:
            self.snapshot_name = self.snapshot.export()
        for table in self.tables.values():
            entry = self.state["tables"][_key(table)]
            if not entry["done"] and (entry["after"] is None or not table.primary_keys):
                entry["after"], entry["skip_until"] = None, exported.lsn

    # --- work ----------------------------------------------------------------------------

    def step(self, poll_wait_s: float = 0.0) -> list[Event]:
        if self.state["phase"] == "snapshot":
            return self._snapshot_step()
        return self._stream_step(poll_wait_s)

    @property
    def snapshot_done(self) -> bool:
        return self.state["phase"] == "stream"

    def _snapshot_step(self) -> list[Event]:
        events = self.read_chunk()
        if events is None:
            self.splits_read()
            return []
        return events

    def read_chunk(self) -> Optional[list[Event]]:
        """The next chunk, read in the snapshot's own transaction (a table without a primary key
        in one piece: a checkpoint never falls inside it); None once every chunk is read or
        handed over as a split. The snapshot stays open (``splits_read`` ends it)."""
        for oid, table in self.tables.items():
            entry = self.state["tables"][_key(table)]
            if entry["done"]:
                continue
            if table.primary_keys:
                rows, entry["after"] = self.snapshot.chunk_by_key(table, self.mappings[oid].copy_columns,
                                                                  entry["after"], self.config.chunk_size)
                batches = [rows] if rows.num_rows else []
                entry["done"] = entry["after"] is None
            else:
                batches = [c for c in self.snapshot.chunks_by_pages(table, self.mappings[oid].copy_columns)
                           if c.num_rows]
                entry["done"] = True
            key = _key(table)
            self.rows_read[key] = self.rows_read.get(key, 0) + sum(rows.num_rows for rows in batches)
            return [self.mappings[oid].batch_from_snapshot(rows) for rows in batches]
        return None

    def next_splits(self, limit: Optional[int]) -> list[PostgresSnapshotSplit]:
        """Parallel snapshot: up to ``limit`` (None: all) more splits, tables in order; a table
        without a primary key all at once (see ``read_chunk``). [] once all are handed over."""
        splits: list[PostgresSnapshotSplit] = []
        for table in self.tables.values():
            entry = self.state["tables"][_key(table)]
            while not entry["done"] and (limit is None or len(splits) < limit):
                splits += self._split(table, entry)
        return splits

    def _split(self, table: SourceTable, entry: dict) -> list[PostgresSnapshotSplit]:
        entry_key = _key(table)
        if not table.primary_keys:
            entry["done"] = True
            return [PostgresSnapshotSplit(table, self.snapshot_name, first_page=first, pages=PAGES_PER_CHUNK)
                    for first in range(0, self.snapshot.page_count(table), PAGES_PER_CHUNK)]
        after = entry["after"]
        last = self.snapshot.split_end(table, after, self.config.chunk_size)
        entry["after"], entry["done"] = last, last is None
        if last is not None:  # the split's rows exactly; the last split's are not counted
            self.rows_read[entry_key] = self.rows_read.get(entry_key, 0) + self.config.chunk_size
        return [PostgresSnapshotSplit(table, self.snapshot_name, tuple(after) if after else None,
                                      tuple(last) if last else None)]

    def splits_read(self) -> None:
        """Every row of the snapshot is handed over (parallel snapshot: every split is in a
        completed checkpoint): ends the snapshot's transaction; the source streams from now on."""
        self.snapshot.close()
        self.snapshot = None
        self.state["phase"] = "stream"
        LOG.info("Snapshot of %d table(s) done; streaming from slot %s.", len(self.tables), self.config.slot)

    def snapshot_all(self) -> Iterator[Event]:
        """The whole (remaining) snapshot, for the bounded ``snapshot`` mode."""
        while self.state["phase"] == "snapshot":
            yield from self._snapshot_step()

    def _stream_step(self, wait_s: float) -> list[Event]:
        if self.stream is None:
            # From the slot's confirmed position (what the lake holds), not from ``lsn``: the
            # replication client confirms the server's WAL end by itself as soon as it has no
            # unconfirmed data, so a stream started at ``lsn`` after a restore would confirm the
            # changes of the restored, not yet committed checkpoint; if that commit then fails
            # for good, the next start would miss them. What was handed over is dropped instead.
            self.stream = repl.ReplicationStream(self.config, 0, self.instance).start()
        messages = self.stream.poll(self.config.poll_max_rows, wait_s)
        transactions = [t for t in self.decoder.feed_all([payload for _, payload in messages])
                        if self._not_handed_over(t)]
        events = self._events(transactions)
        complete = [t for t in transactions if t.complete]
        if complete:
            self.state["lsn"] = max(self.state["lsn"], complete[-1].end_lsn)
            self.last_commit_ms = complete[-1].commit_time_us // 1000
            self.last_activity = time.monotonic()
        elif not messages and not self.decoder.in_transaction:
            self.state["lsn"] = max(self.state["lsn"], self.stream.wal_end)
            self._heartbeat()
        return events

    def _not_handed_over(self, transaction: Transaction) -> bool:
        """False for a transaction handed over before a restart (the stream starts at the slot's
        confirmed position, which may lie before ``lsn``): it ends at or before ``lsn``. A part of
        an open transaction has no end yet; its commit record lies at or after ``lsn`` unless the
        whole transaction was handed over."""
        if transaction.complete:
            return transaction.end_lsn > self.state["lsn"]
        return transaction.commit_lsn >= self.state["lsn"]

    @property
    def mid_transaction(self) -> bool:
        """A part of a transaction is handed over and its commit is not: no checkpoint may fall here."""
        return self.decoder.parts_handed_over

    def _heartbeat(self) -> None:
        """While the captured tables are quiet, a tiny WAL record now and then, so the server's
        WAL end (and with it the slot) moves on even when nothing else writes."""
        if time.monotonic() - self.last_activity >= self.config.heartbeat_ms / 1000:
            with self.conn.cursor() as cur:
                cur.execute("SELECT pg_logical_emit_message(false, 'paimon-cdc-heartbeat', '')")
            self.last_activity = time.monotonic()

    def progress(self) -> SourceProgress:
        """The lag is the WAL between the last change handed over and the server's WAL end as the
        stream last heard it (every message and keepalive carries it): no query."""
        tables = tuple(SnapshotProgress(key, self.rows_read.get(key, 0), estimate, self.state["tables"][key]["done"])
                       for key, estimate in self.estimates.items())
        if self.stream is None or not self.stream.wal_end:
            return SourceProgress(self.snapshot_done, tables=tables)
        lag = max(0, self.stream.wal_end - self.state["lsn"])
        return SourceProgress(True, lag, behind_ms(lag, self.last_commit_ms, int(time.time() * 1000)), tables)

    def acknowledge(self, published: SourcePosition) -> None:
        if self.stream is not None:
            self.stream.acknowledge(published.state["lsn"])

    # --- transactions -> events ----------------------------------------------------------

    def _events(self, transactions: list[Transaction]) -> list[Event]:
        events: list[Event] = []
        open_batches: dict[int, list] = {}  # oid -> [mapping, columns, kinds, commit times]

        def flush(oid: int) -> None:
            mapping, columns, kinds, op_ts = open_batches.pop(oid)
            if kinds:
                events.append(mapping.batch_from_text([c.to_arrow() for c in columns], kinds, op_ts))

        for transaction in transactions:
            for segment in transaction.segments:
                if isinstance(segment, Truncate):
                    LOG.warning("TRUNCATE of relation(s) %s ignored: the lake keeps the rows (policy: "
                                "truncate is not replicated, as in Paimon CDC).", segment.relation_oids)
                    continue
                oid = segment.relation.oid
                if segment.schema_changed or oid not in self.mappings:
                    if oid in open_batches:
                        flush(oid)
                    event = self._relation_changed(segment.relation)
                    if event is None:
                        continue
                    events.append(event)
                if oid not in self.mappings or self._skipped(oid, transaction):
                    continue
                self._add_generated(oid, segment)
                self._resolve_toast(oid, segment)
                batch = open_batches.setdefault(oid, [self.mappings[oid], [TextValues() for _ in segment.columns], [], []])
                self._append(batch, segment, transaction.commit_time_us // 1000)
        for oid in list(open_batches):
            flush(oid)
        return events

    def _skipped(self, oid: int, transaction: Transaction) -> bool:
        entry = self.state["tables"].get(_key(self.tables[oid]))
        return entry is not None and transaction.commit_lsn < entry["skip_until"]

    def _append(self, batch: list, segment: RowChanges, op_ts_ms: int) -> None:
        mapping, columns, kinds, op_ts = batch
        if mapping.spec.primary_keys:
            for target, source in zip(columns, segment.columns):
                target.extend(source)
            kinds.extend(segment.kinds)
        else:  # append table: inserts only (see the README)
            keep = np.flatnonzero(np.array(segment.kinds, np.int8) == RowKind.INSERT)
            for target, source in zip(columns, segment.columns):
                target.extend(source.take(keep))
            kinds.extend([int(RowKind.INSERT)] * len(keep))
        op_ts.extend([op_ts_ms] * (len(kinds) - len(op_ts)))

    def _relation_changed(self, relation: Relation) -> Optional[SchemaEvent]:
        """A new or changed source table: a new mapping and its schema event. Generated columns,
        which pgoutput leaves out, follow the sent ones (their values are read by key)."""
        known = self.tables.get(relation.oid)
        if known is not None and (known.schema, known.name) != (relation.namespace, relation.name):
            _warn_renamed(known, relation, self.config.matches(relation.namespace, relation.name),
                          self.mappings[relation.oid].target)
        if not self.config.matches(relation.namespace, relation.name):
            return None
        nullable = {c.name: c.nullable for c in known.columns} if known else {}
        catalog = repl.describe_table(self.conn, relation.oid, relation.namespace, relation.name,
                                      relation.replica_identity)
        sent = {c.name for c in relation.columns}
        columns = tuple(SourceColumn(c.name, c.type_oid, c.type_modifier, nullable.get(c.name, True))
                        for c in relation.columns)
        columns += tuple(c for c in catalog.columns if c.generated and c.name not in sent)
        if known is None:
            keys = tuple(c.name for c in relation.columns if c.part_of_key)
        else:
            keys = known.primary_keys
            self._warn_column_drift(known, columns)
        table = SourceTable(relation.namespace, relation.name, relation.oid, columns, keys, relation.replica_identity)
        if known is None:
            if self.config.publish_schemas:  # the start-up check's rule, for a table created since
                repl.check_distinct_targets([*self.tables.values(), table], self.targets)
            LOG.info("New source table %s.%s picked up.", relation.namespace, relation.name)
        else:  # its replica identity may have changed since the start-up check
            repl.check_identity_covers(self.conn, table, self.mappings[relation.oid].spec.primary_keys)
        return self._register(table)

    def _warn_column_drift(self, known: SourceTable, columns: tuple[SourceColumn, ...]) -> None:
        """Says loudly where the lake cannot hold what the source shows: a dropped column (kept in
        the lake, NULL from now on, as in Paimon CDC), or a column added with a default that the
        rows already there take in the source but not in the lake."""
        names, old = {c.name for c in columns}, {c.name for c in known.columns}
        for name in sorted(old - names):
            LOG.warning("%s: column %s was dropped in the source; the lake keeps it, and rows written from now "
                        "on have NULL in it.", known.qualified, name)
        added = names - old
        for name in sorted(added & repl.columns_with_missing_values(self.conn, known.oid) if added else ()):
            LOG.warning("%s: column %s was added with a default that the existing rows take in the source; "
                        "in the lake they have NULL until they change (re-run the snapshot, or UPDATE them, to "
                        "backfill).", known.qualified, name)

    def _add_generated(self, oid: int, segment: RowChanges) -> None:
        """Generated columns of the mapping after the ones pgoutput sent: read by key."""
        unsent = len(self.mappings[oid].columns) - len(segment.relation.columns)
        if unsent and len(segment):
            segment.add_unsent_columns(unsent)

    def _resolve_toast(self, oid: int, segment: RowChanges) -> None:
        """Fetch unchanged TOASTed values the server did not send from the table, by key.

        A row no longer in the table was deleted or re-keyed by a later transaction, whose change
        follows in the stream and removes it from the lake: such a change is dropped (the lake
        keeps the row's previous version until then) rather than written with a wrong value.
        """
        if not segment.unchanged_toast:
            return
        table = self.tables[oid]
        if not table.primary_keys:
            raise repl.SourceNotReady(
                f"{table.qualified} has no primary key, so an unchanged large value (which PostgreSQL does not "
                f"send) cannot be looked up — "
                f"run ALTER TABLE {table.qualified} REPLICA IDENTITY FULL; or add a primary key")
        names = [c.name for c in table.columns]
        key_index = [names.index(k) for k in table.primary_keys]
        rows = sorted({row for row, _ in segment.unchanged_toast})
        wanted = sorted({column for _, column in segment.unchanged_toast})
        values = {i: segment.columns[i].to_list() for i in {*key_index, *wanted}}
        current = self._current_values(table, [[values[i][row] for i in key_index] for row in rows],
                                       [names[c] for c in wanted])
        pending = set(segment.unchanged_toast)
        gone = set()
        for row in rows:
            found = current.get(tuple(values[i][row] for i in key_index))
            if found is None:
                gone.add(row)
                continue
            for j, column in enumerate(wanted):
                if (row, column) in pending:
                    values[column][row] = found[j]
        for column in wanted:
            segment.columns[column] = TextValues(values[column])
        segment.unchanged_toast.clear()
        if gone:
            LOG.info("%s: %d change(s) with unchanged large values skipped: their rows are no longer in the "
                     "table, and the later change that removed them follows.", table.qualified, len(gone))
            segment.drop(gone)

    def _current_values(self, table: SourceTable, keys: list[list], columns: list[str]) -> dict[tuple, tuple]:
        """Primary key (as text) -> the current values (as text) of ``columns``, for the rows still
        there. A column dropped since the change reads as NULL (the lake keeps it: see
        ``_warn_column_drift``); a table dropped since has no rows."""
        try:
            return self._select_by_key(table, keys, columns)
        except psycopg2.errors.UndefinedTable:
            LOG.warning("%s was dropped: its pending changes with values PostgreSQL did not send are skipped.",
                        table.qualified)
            return {}
        except psycopg2.errors.UndefinedColumn:
            existing = {c.name for c in repl.describe_table(self.conn, table.oid, table.schema, table.name,
                                                            table.replica_identity).columns}
            return self._select_by_key(table, keys, [c if c in existing else None for c in columns])

    def _select_by_key(self, table: SourceTable, keys: list[list], columns: list[Optional[str]]) -> dict:
        key_list = ", ".join(f'"{k}"' for k in table.primary_keys)
        values = ", ".join("(" + ", ".join(["%s"] * len(table.primary_keys)) + ")" for _ in keys)
        select = ", ".join([*(f'"{k}"::text' for k in table.primary_keys),
                            *(f'"{c}"::text' if c is not None else "NULL" for c in columns)])
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT {select} FROM {table.qualified} WHERE ({key_list}) IN ({values})",
                        [v for key in keys for v in key])
            width = len(table.primary_keys)
            return {tuple(r[:width]): r[width:] for r in cur.fetchall()}

    def close(self) -> None:
        for resource in (self.stream, self.snapshot):
            if resource is not None:
                resource.close()
        self.conn.close()


def _warn_renamed(known: SourceTable, relation: Relation, matched: bool, target: str) -> None:
    """RENAME TABLE is not replicated (as in Paimon CDC): the lake table keeps its rows."""
    then = ("its changes go to the lake table of the new name from now on, which holds only the rows changed "
            "after the rename (a new snapshot into a fresh target copies them all)" if matched else
            "the new name is not matched, so its changes are no longer captured")
    LOG.warning("%s was renamed to %s.%s: %s keeps the rows it has; %s.", known.qualified, relation.namespace,
                relation.name, target, then)


def _key(table: SourceTable) -> str:
    return f"{table.schema}.{table.name}"


@dataclass(frozen=True)
class PostgresSourceFactory:
    """What a PostgreSQL job ships to the reader (``ChangeSourceFactory``)."""

    config: PostgresSourceConfig
    targets: Targets

    @property
    def source_id(self) -> str:
        return self.config.source_id

    @property
    def bounded(self) -> bool:
        return self.config.startup_mode == "snapshot"

    @property
    def snapshot_parallelism(self) -> int:
        """``scan.snapshot.parallelism``; 1 for ``latest-offset``, which reads no snapshot (no idle
        split readers in its topology)."""
        return 1 if self.config.startup_mode == "latest-offset" else self.config.snapshot_parallelism

    def open(self, state: Optional[dict], instance: str) -> PostgresChangeSource:
        return PostgresChangeSource(self.config, self.targets, state, instance)

    def split_reader(self, instance: str) -> PostgresSplitReader:
        return PostgresSplitReader(self.config, self.targets, instance)

    def resume_state(self, published: SourcePosition, table_position: TablePosition) -> dict:
        """Per table, a later position in its lake table's latest snapshot wins (a crash between
        two tables' commits of one checkpoint); its table then skips what that position covers."""
        state = published.state
        for key, entry in state["tables"].items():
            schema, name = key.split(".", 1)
            newer = latest(published, table_position(self.targets.name_of(schema, name)))
            if newer is not published:
                state["tables"][key] = newer.state["tables"].get(key, entry)
                state["tables"][key]["skip_until"] = max(state["tables"][key]["skip_until"], newer.state["lsn"])
        return state
