"""The PostgreSQL side of change capture: server checks, tables, publication, slots, and the
``pgoutput`` replication stream (psycopg2's replication connection).

Every problem a user can fix is raised as ``SourceNotReady`` with what to change.
"""

from __future__ import annotations

import logging
import select
import time
from dataclasses import dataclass
from typing import Iterable, Optional

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from operators.cdc.errors import SourceNotReady
from operators.cdc.prefetch import Prefetcher
from operators.cdc.targets import Targets
from operators.postgres.source_config import PostgresSourceConfig

LOG = logging.getLogger(__name__)

READ_BATCH = 1000
"""Messages the prefetch thread reads before it hands them to the queue."""
COALESCE_S = 0.05
"""After a read that found fewer than ``READ_BATCH`` messages, the prefetch thread waits this long
before reading again, so that messages gather in the sockets. A reader that takes each message as
it arrives makes the walsender pay for every one of them: draining a backlog of 1M changes cost the
walsender 5-7 CPU-s read eagerly, 3.1-3.9 with this pause (and the reader 1.4-2.0 CPU-s instead of
2.2-3.3); a quiet stream's messages wait at most this long."""

SESSION_OPTIONS = "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=postgres -c extra_float_digits=3"
"""Session settings under which text values (COPY and pgoutput) have one fixed form."""


def format_lsn(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def parse_lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def connect(config: PostgresSourceConfig, replication: bool = False, application_name: str = "paimon-cdc"):
    """``application_name`` tags the job's connections, so a restarted job recognises (and ends)
    the replication connection its failed attempt may have left behind."""
    kwargs = {"connection_factory": psycopg2.extras.LogicalReplicationConnection} if replication else {}
    try:
        conn = psycopg2.connect(config.dsn(options=SESSION_OPTIONS, application_name=application_name), **kwargs)
    except psycopg2.OperationalError as e:
        text = " ".join(str(e).split())
        raise SourceNotReady(f"cannot connect to PostgreSQL at {config.hostname}:{config.port} database "
                             f"{config.database} as {config.username}: {text} — {_connect_hint(text)}") from None
    if not replication:
        conn.autocommit = True
    return conn


def _connect_hint(text: str) -> str:
    if "replication" in text and "pg_hba" in text:
        return ("allow replication connections for this user in pg_hba.conf (a 'host replication <user> "
                "<address> scram-sha-256' line) and reload")
    if "password" in text or "authentication" in text:
        return "check username and password in --postgres_conf"
    if "does not exist" in text:
        return "check database-name and username in --postgres_conf"
    return "check hostname and port in --postgres_conf, and that the server accepts TCP connections"


# --- server checks --------------------------------------------------------------------------

def check_server(conn, config: PostgresSourceConfig) -> None:
    """wal_level, free slots and wal senders, the REPLICATION attribute, the slot's owner."""
    with conn.cursor() as cur:
        cur.execute("SELECT current_setting('wal_level'), current_setting('max_replication_slots')::int,"
                    " current_setting('max_wal_senders')::int,"
                    " (SELECT count(*) FROM pg_replication_slots),"
                    " (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user),"
                    " current_setting('server_version_num')::int")
        wal_level, max_slots, max_senders, used_slots, can_replicate, version = cur.fetchone()
        if version < 100000:
            raise SourceNotReady("this server is older than PostgreSQL 10 — use PostgreSQL 10 or newer (pgoutput logical decoding)")
        if wal_level != "logical":
            raise SourceNotReady(f"wal_level is '{wal_level}' — set wal_level = logical in postgresql.conf "
                                 f"(or ALTER SYSTEM SET wal_level = logical) and restart PostgreSQL")
        if not can_replicate:
            raise SourceNotReady(f"user {config.username} may not stream changes — run "
                                 f"ALTER ROLE {config.username} WITH REPLICATION; as a superuser")
        slot = slot_state(conn, config.slot)
        if slot is None and used_slots >= max_slots:
            raise SourceNotReady(f"all {max_slots} replication slots are in use (max_replication_slots) — "
                                 f"raise max_replication_slots and restart, or drop an unused slot "
                                 f"with SELECT pg_drop_replication_slot('<name>')")
        if max_senders < 1:
            raise SourceNotReady("max_wal_senders is 0 — set it to at least 1 and restart PostgreSQL")
        if slot is not None:
            _check_slot(slot, config)


@dataclass
class SlotState:
    plugin: str
    database: str
    active_pid: Optional[int]
    confirmed_flush_lsn: Optional[int]
    restart_lsn: Optional[int]


def slot_state(conn, slot: str) -> Optional[SlotState]:
    with conn.cursor() as cur:
        cur.execute("SELECT plugin, database, active_pid, confirmed_flush_lsn::text, restart_lsn::text"
                    " FROM pg_replication_slots WHERE slot_name = %s", (slot,))
        row = cur.fetchone()
    if row is None:
        return None
    plugin, database, pid, confirmed, restart = row
    return SlotState(plugin, database, pid, parse_lsn(confirmed) if confirmed else None,
                     parse_lsn(restart) if restart else None)


def end_own_connections(conn, config: PostgresSourceConfig, application_name: str,
                        timeout_s: float = 15.0) -> None:
    """Ends the other connections tagged ``application_name`` (a failed attempt of this job may
    have left its replication stream and its snapshot transaction open) and waits until the
    slot is free."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = %s AND pid <> pg_backend_pid()", (application_name,))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = slot_state(conn, config.slot)
        if state is None or state.active_pid is None:
            return
        time.sleep(0.1)


def _check_slot(slot: SlotState, config: PostgresSourceConfig) -> None:
    if slot.plugin != "pgoutput":
        raise SourceNotReady(f"slot {config.slot} uses the plugin {slot.plugin}, not pgoutput — choose "
                             f"another slot.name or drop it (SELECT pg_drop_replication_slot('{config.slot}'))")
    if slot.database != config.database:
        raise SourceNotReady(f"slot {config.slot} belongs to database {slot.database}, not "
                             f"{config.database} — choose another slot.name")
    if slot.active_pid is not None:
        raise SourceNotReady(f"Slot {config.slot} is in use by server process {slot.active_pid} (another "
                             f"consumer, or a job that is still running) — stop it, or choose another "
                             f"slot.name")


def check_slot_kept(conn, config: PostgresSourceConfig, lsn: int) -> None:
    """Refuses to resume from ``lsn`` when the job's slot, which kept the changes since then, is
    gone (dropped) or invalidated (the server removed WAL it needed): PostgreSQL would otherwise
    stream from a new slot's start, silently skipping what happened in between."""
    with conn.cursor() as cur:  # wal_status: PostgreSQL 13+
        cur.execute("SELECT to_jsonb(s) ->> 'wal_status' FROM pg_replication_slots s WHERE slot_name = %s",
                    (config.slot,))
        row = cur.fetchone()
    gone = f"so the changes after LSN {format_lsn(lsn)} that the lake has not received are gone"
    fix = ("start again with a new slot.name: the job takes a new snapshot, which its primary-key tables "
           "converge to (drop the lake tables without a primary key first: their rows would repeat)")
    if row is None:
        raise SourceNotReady(f"slot {config.slot} no longer exists (it was dropped), {gone} — {fix}")
    if row[0] == "lost":
        raise SourceNotReady(f"slot {config.slot} was invalidated: the server removed WAL it still needed "
                             f"(max_slot_wal_keep_size), {gone} — {fix}; raise max_slot_wal_keep_size")


# --- tables and publication -----------------------------------------------------------------

@dataclass(frozen=True)
class SourceColumn:
    name: str
    type_oid: int
    type_modifier: int
    nullable: bool
    generated: bool = False
    """A generated (stored) column: pgoutput does not send its values (PostgreSQL < 18)."""


@dataclass(frozen=True)
class SourceTable:
    schema: str
    name: str
    oid: int
    columns: tuple[SourceColumn, ...]
    primary_keys: tuple[str, ...]
    replica_identity: str  # d(efault) n(othing) f(ull) i(ndex)

    @property
    def qualified(self) -> str:
        return f'"{self.schema}"."{self.name}"'


def list_tables(conn, config: PostgresSourceConfig) -> list[SourceTable]:
    """Ordinary and partitioned tables matching schema-name and table-name."""
    with conn.cursor() as cur:
        cur.execute("SELECT c.oid, n.nspname, c.relname, c.relreplident FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
                    " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                    " AND n.nspname NOT LIKE 'pg_toast%%' ORDER BY n.nspname, c.relname")
        rows = [r for r in cur.fetchall() if config.matches(r[1], r[2])]
    return [describe_table(conn, oid, schema, name, ident) for oid, schema, name, ident in rows]


def describe_table(conn, oid: int, schema: str, name: str, replica_identity: str) -> SourceTable:
    with conn.cursor() as cur:
        cur.execute("SELECT attname, atttypid, atttypmod, NOT attnotnull, attgenerated <> '' FROM pg_attribute"
                    " WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (oid,))
        columns = tuple(SourceColumn(*row) for row in cur.fetchall())
        cur.execute("SELECT a.attname FROM pg_index i JOIN LATERAL unnest(i.indkey) WITH ORDINALITY"
                    " AS k(attnum, ord) ON true JOIN pg_attribute a ON a.attrelid = i.indrelid"
                    " AND a.attnum = k.attnum WHERE i.indrelid = %s AND i.indisprimary ORDER BY k.ord",
                    (oid,))
        keys = tuple(r[0] for r in cur.fetchall())
    generated = [c.name for c in columns if c.generated]
    if generated and not keys:
        LOG.warning('"%s"."%s": generated column(s) %s left out of the lake: PostgreSQL does not replicate '
                    'their values, and a table without a primary key cannot look them up.', schema, name,
                    ", ".join(generated))
        columns = tuple(c for c in columns if not c.generated)
    return SourceTable(schema, name, oid, columns, keys, replica_identity)


def check_identity_covers(conn, table: SourceTable, lake_keys: tuple[str, ...]) -> None:
    """A table whose updates and deletes PostgreSQL replicates must send the lake's primary key
    in their old rows: its replica identity (the primary key by default, a unique index, or the
    whole row) must include every lake key column, else deletes and key changes could not reach
    the lake. A table without an identity replicates inserts only (the server refuses its
    updates and deletes), so it needs nothing."""
    if not lake_keys or table.replica_identity in ("f", "n"):
        return
    if table.replica_identity == "i":
        with conn.cursor() as cur:
            cur.execute("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                        " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s AND i.indisreplident", (table.oid,))
            identity, what = {r[0] for r in cur.fetchall()}, "its replica identity index"
    else:
        identity, what = set(table.primary_keys), "its primary key (the default replica identity)"
    missing = [k for k in lake_keys if k not in identity]
    if identity and missing:
        raise SourceNotReady(
            f"{table.qualified}: {what} lacks the lake's primary key column(s) {', '.join(missing)}, so "
            f"PostgreSQL would send deletes and key changes without them — run ALTER TABLE {table.qualified} "
            f"REPLICA IDENTITY FULL; (or make the lake key the table's replica identity)")


def check_distinct_targets(tables: Iterable[SourceTable], targets: Targets) -> None:
    """postgres_sync_database names a lake table after its source table alone: tables of one name
    in two matched schemas would be written into one lake table, their keys colliding."""
    sources: dict[str, set[str]] = {}
    for table in tables:
        sources.setdefault(targets.name_of(table.schema, table.name), set()).add(f"{table.schema}.{table.name}")
    for target, names in sources.items():
        if len(names) > 1:
            raise SourceNotReady(
                f"{' and '.join(sorted(names))} would both be written into {target} — match one schema with "
                f"--postgres_conf schema-name, or run a job per schema with its own --table_prefix")


def estimated_rows(conn, oids: list[int]) -> dict[int, int]:
    """Rows per table from the statistics (``reltuples``; pages / 100 bytes a row when the table
    was never analysed)."""
    if not oids:
        return {}
    with conn.cursor() as cur:
        cur.execute("SELECT oid, CASE WHEN reltuples > 0 THEN reltuples::bigint ELSE pg_relation_size(oid) / 100 END"
                    " FROM pg_class WHERE oid = ANY(%s)", (list(oids),))
        return {oid: int(rows) for oid, rows in cur.fetchall()}


def columns_with_missing_values(conn, oid: int) -> set[str]:
    """Columns added with a default that the rows already there take without being rewritten."""
    with conn.cursor() as cur:
        cur.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s AND atthasmissing AND NOT attisdropped",
                    (oid,))
        return {r[0] for r in cur.fetchall()}


def check_select_privilege(conn, tables: list[SourceTable], username: str) -> None:
    with conn.cursor() as cur:
        for table in tables:
            cur.execute("SELECT has_table_privilege(%s, %s, 'SELECT')", (username, table.oid))
            if not cur.fetchone()[0]:
                raise SourceNotReady(f"user {username} may not read {table.qualified} (the initial snapshot reads it) — run GRANT "
                                     f"SELECT ON {table.qualified} TO {username};")


def inspect_source(conn, config: PostgresSourceConfig) -> list[SourceTable]:
    """Server checks, then the matched tables (checked readable and logged)."""
    check_server(conn, config)
    tables = list_tables(conn, config)
    check_select_privilege(conn, tables, config.username)
    check_logged(conn, tables)
    return tables


def check_logged(conn, tables: list[SourceTable]) -> None:
    """An UNLOGGED table writes no WAL, so logical replication cannot carry its changes (and a
    publication cannot hold it): refused rather than snapshotted and then never updated."""
    if not tables:
        return
    with conn.cursor() as cur:
        cur.execute("SELECT oid FROM pg_class WHERE relpersistence = 'u' AND oid = ANY(%s)", ([t.oid for t in tables],))
        unlogged = {oid for (oid,) in cur.fetchall()}
    for table in tables:
        if table.oid in unlogged:
            raise SourceNotReady(
                f"{table.qualified} is UNLOGGED, so PostgreSQL does not replicate its changes — run ALTER TABLE "
                f"{table.qualified} SET LOGGED; or leave it out of the matched tables (table-name, --excluding_tables)")


def ensure_capture(conn, config: PostgresSourceConfig, tables: list[SourceTable]) -> None:
    """The publication, and the slot unless in the bounded ``snapshot`` mode (it reads no
    changes, and an unread slot would pin WAL)."""
    ensure_publication(conn, config, tables)
    if config.startup_mode != "snapshot" and slot_state(conn, config.slot) is None:
        create_slot(config)


def ensure_publication(conn, config: PostgresSourceConfig, tables: list[SourceTable]) -> None:
    """Creates the publication when missing: for the matched schemas (PostgreSQL 15+, so tables
    created later are included) when ``config.publish_schemas``, else for the matched tables;
    adds matched tables that a table-list publication lacks. Partitioned tables publish their
    partitions' changes as their own (``publish_via_partition_root``), so an existing publication
    without it is refused when a matched table is partitioned."""
    via_root = conn.server_version >= 130000
    with conn.cursor() as cur:
        cur.execute(f"SELECT puballtables, {'pubviaroot' if via_root else 'true'} FROM pg_publication "
                    "WHERE pubname = %s", (config.publication,))
        row = cur.fetchone()
        try:
            if row is None:
                cur.execute(_create_publication_sql(conn, config, tables)
                            + (" WITH (publish_via_partition_root = true)" if via_root else ""))
                return
            if not row[1]:
                _refuse_partitioned(cur, config, tables)
            if not row[0]:
                cur.execute("SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = %s",
                            (config.publication,))
                present = set(cur.fetchall())
                missing = [t for t in tables if (t.schema, t.name) not in present]
                if missing:
                    cur.execute(f'ALTER PUBLICATION "{config.publication}" ADD TABLE '
                                + ", ".join(t.qualified for t in missing))
        except psycopg2.errors.InsufficientPrivilege as e:
            raise SourceNotReady(
                f"cannot create or change publication {config.publication}: {str(e).strip()} — create it as "
                f"a superuser or the tables' owner, e.g. CREATE PUBLICATION {config.publication} FOR TABLE "
                f"{', '.join(t.qualified for t in tables) or '...'}; then start the job again") from None


def _refuse_partitioned(cur, config: PostgresSourceConfig, tables: list[SourceTable]) -> None:
    if not tables:
        return
    cur.execute("SELECT oid FROM pg_class WHERE relkind = 'p' AND oid = ANY(%s)", ([t.oid for t in tables],))
    partitioned = {oid for (oid,) in cur.fetchall()}
    names = [t.qualified for t in tables if t.oid in partitioned]
    if names:
        raise SourceNotReady(
            f"publication {config.publication} sends the changes of {', '.join(names)} as changes of its "
            f"partitions — run ALTER PUBLICATION \"{config.publication}\" SET (publish_via_partition_root = true); "
            f"then start the job again")


def _create_publication_sql(conn, config: PostgresSourceConfig, tables: list[SourceTable]) -> str:
    name = config.publication
    if config.publish_schemas and conn.server_version >= 150000:
        with conn.cursor() as cur:
            cur.execute("SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog',"
                        " 'information_schema') AND nspname NOT LIKE 'pg_toast%%' AND nspname NOT LIKE 'pg_temp%%'")
            schemas = sorted(s for (s,) in cur.fetchall() if config.matches_schema(s))
        if schemas:
            return f'CREATE PUBLICATION "{name}" FOR TABLES IN SCHEMA ' + ", ".join(f'"{s}"' for s in schemas)
    if not tables:
        raise SourceNotReady(f"no table in database {config.database} matches schema-name="
                             f"{config.schema_pattern} and table-name={config.table_pattern} — check the patterns")
    return f'CREATE PUBLICATION "{name}" FOR TABLE ' + ", ".join(t.qualified for t in tables)


# --- slots and the stream -------------------------------------------------------------------

def create_slot(config: PostgresSourceConfig) -> int:
    """Creates the job's permanent slot (no snapshot); returns its consistent point."""
    conn = connect(config, replication=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE_REPLICATION_SLOT "{config.slot}" LOGICAL pgoutput NOEXPORT_SNAPSHOT')
            return parse_lsn(cur.fetchone()[1])
    finally:
        conn.close()


@dataclass
class ExportedSnapshot:
    """A temporary slot's exported snapshot: the database exactly as of ``lsn``. Valid while
    ``connection`` stays open and idle; import it before closing (``SnapshotReader``)."""

    lsn: int
    name: str
    connection: object

    def close(self) -> None:
        self.connection.close()


def export_snapshot(config: PostgresSourceConfig, slot_suffix: str) -> ExportedSnapshot:
    conn = connect(config, replication=True)
    with conn.cursor() as cur:
        cur.execute(f'CREATE_REPLICATION_SLOT "{config.slot}_{slot_suffix}" TEMPORARY LOGICAL pgoutput'
                    f' EXPORT_SNAPSHOT')
        _, lsn, name, _ = cur.fetchone()
    return ExportedSnapshot(parse_lsn(lsn), name, conn)


@dataclass
class ReplicationStream:
    """The slot's pgoutput messages from a start LSN; ``poll`` returns raw payloads. A
    ``Prefetcher`` reads the connection on a thread of its own (every use of the connection after
    ``start`` is on that thread, acknowledgements included), so the walsender streams on while the
    reader is between polls."""

    config: PostgresSourceConfig
    start_lsn: int
    application_name: str = "paimon-cdc"
    conn: object = None
    cursor: object = None
    flushed: int = 0
    acknowledged: int = 0
    prefetcher: Optional[Prefetcher] = None
    short_read: bool = False
    """The last read found fewer than ``READ_BATCH`` messages (the next waits ``COALESCE_S``)."""

    def start(self) -> "ReplicationStream":
        self.conn = connect(self.config, replication=True, application_name=self.application_name)
        self.cursor = self.conn.cursor()
        try:
            self.cursor.start_replication(
                slot_name=self.config.slot, decode=False, start_lsn=self.start_lsn, status_interval=10,
                options={"proto_version": "1", "publication_names": self.config.publication})
        except psycopg2.Error as e:
            raise SourceNotReady(f"cannot stream from slot {self.config.slot}: {str(e).strip()} — check the slot and the user's "
                                 f"REPLICATION privilege") from None
        self.prefetcher = Prefetcher(self._read, _message_size, self.config.prefetch_bytes,
                                     f"prefetch {self.config.slot}", lambda: self.cursor.wal_end)
        return self

    @property
    def wal_end(self) -> int:
        """The server's sent position as of the last keepalive or message before the last poll
        that took every message read (pgoutput's WAL end fields carry what the walsender has sent)."""
        return self.prefetcher.mark or 0

    def poll(self, max_messages: int, max_wait_s: float) -> list[tuple[int, bytes]]:
        """Up to ``max_messages`` (data_start LSN, payload) pairs, waiting at most ``max_wait_s``
        for the first one."""
        return self.prefetcher.take(max_messages, max_wait_s)

    def acknowledge(self, lsn: int) -> None:
        """Tells the server everything before ``lsn`` is safe: it may release that WAL (sent by
        the prefetch thread within ``READ_WAIT_S``)."""
        self.acknowledged = max(self.acknowledged, lsn)

    def _read(self, timeout: float) -> list[tuple[int, bytes]]:
        """On the prefetch thread: the acknowledgement, if new, then the messages that have arrived,
        waiting up to ``timeout`` when there are none."""
        lsn = self.acknowledged
        if lsn > self.flushed:
            self.cursor.send_feedback(write_lsn=lsn, flush_lsn=lsn, apply_lsn=lsn, force=True)
            LOG.info("Confirmed %s to slot %s (was %s).", format_lsn(lsn), self.config.slot, format_lsn(self.flushed))
            self.flushed = lsn
        if self.short_read:
            time.sleep(COALESCE_S)
        out = []
        while len(out) < READ_BATCH:
            message = self.cursor.read_message()
            if message is None:
                break
            out.append((message.data_start, message.payload))
        self.short_read = 0 < len(out) < READ_BATCH
        if not out:
            select.select([self.conn], [], [], timeout)
        return out

    def close(self) -> None:
        if self.prefetcher is not None:
            self.prefetcher.close()
            self.prefetcher = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _message_size(message: tuple[int, bytes]) -> int:
    """Bytes a queued message costs: its payload and the Python objects around it."""
    return len(message[1]) + 120
