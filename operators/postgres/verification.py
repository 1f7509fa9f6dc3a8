"""``PostgresVerification``: the PostgreSQL side of ``paimon-cdc verify`` and ``positions``
(``operators/cdc/verification.py``).

A read is what the sync job's snapshot is: a temporary slot's exported snapshot (the database
exactly as of its LSN) read by the job's ``SnapshotReader`` and converted by its
``TableMapping``, so values have the lake's types as the job writes them. The lag is WAL bytes
from the lake's LSN to ``pg_current_wal_lsn()``, beside the slot's ``confirmed_flush_lsn``, and
seconds from the commit time of the first transaction the lake lacks (peeked from a temporary
copy of the job's slot).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import psycopg2
import pyarrow as pa

from operators.cdc.errors import SourceNotReady
from operators.cdc.source_position import SourcePosition
from operators.cdc.verification import SourceLag, SourceRead, captured_tables
from operators.postgres import pgoutput
from operators.postgres import replication as repl
from operators.postgres.binary_copy import CopyColumns
from operators.postgres.change_source import PostgresSourceFactory
from operators.postgres.replication import SlotState, SourceTable
from operators.postgres.snapshot_reader import SnapshotReader
from operators.postgres.source_config import PostgresSourceConfig
from operators.postgres.table_mapping import TableMapping, table_mapping
from operators.postgres.types import TypeRegistry

LOG = logging.getLogger(__name__)

PEEK_MESSAGES = 10_000
"""Messages decoded at most when peeking for the first transaction the lake lacks."""


@dataclass(frozen=True)
class PostgresVerification:
    """The ``VerificationSource`` of a PostgreSQL sync job."""

    factory: PostgresSourceFactory
    """The job's (``job_args.from_args``): the same tables, lake tables and source id."""

    @property
    def source_id(self) -> str:
        return self.factory.source_id

    def read(self) -> SourceRead:
        config = self.factory.config
        conn = repl.connect(config)
        try:
            registry = TypeRegistry(conn)
            mapped = [(t, table_mapping(self.factory.targets, t, registry, config.database))
                      for t in repl.list_tables(conn, config)]
            reader = _snapshot_reader(self.factory)
        except BaseException:
            conn.close()
            raise
        tables = captured_tables((f"{t.schema}.{t.name}", m) for t, m in mapped)
        return SourceRead({"lsn": reader.lsn}, f"LSN {repl.format_lsn(reader.lsn)}", tables,
                          _batches(reader, mapped, config.chunk_size, conn))

    def reached(self, published: SourcePosition, position: dict[str, Any]) -> bool:
        return published.state.get("phase") == "stream" and published.state["lsn"] >= position["lsn"]

    def lag(self, published: Optional[SourcePosition]) -> SourceLag:
        config = self.factory.config
        conn = repl.connect(config)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_current_wal_lsn()::text")
                current = repl.parse_lsn(cur.fetchone()[0])
            slot = repl.slot_state(conn, config.slot)
            confirmed = slot.confirmed_flush_lsn if slot else None
            details = {"slot": config.slot,
                       "confirmed_flush_lsn": repl.format_lsn(confirmed) if confirmed is not None else "no such slot"}
            if published is None:
                return SourceLag(f"LSN {repl.format_lsn(current)}", False, details=details)
            behind = max(0, current - published.state["lsn"])
            caught_up = behind == 0 and published.state.get("phase") == "stream"
            seconds = 0.0 if caught_up else _seconds_behind(conn, config, slot, published.state["lsn"])
        finally:
            conn.close()
        return SourceLag(f"LSN {repl.format_lsn(current)}", caught_up, behind, None, seconds, details)

    def describe(self, state: dict[str, Any]) -> str:
        return describe(state)


def _seconds_behind(conn, config: PostgresSourceConfig, slot: Optional[SlotState], lake_lsn: int) -> Optional[float]:
    """Now minus the commit time of the first transaction after ``lake_lsn``, peeked (pgoutput's
    Begin messages) from a temporary copy of the job's slot, which holds every transaction the
    lake lacks; None without the slot, or when the copy cannot be made or shows none."""
    if slot is None:
        return None
    copy = f"{config.slot[:40]}_lag_{uuid.uuid4().hex[:8]}"
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_copy_logical_replication_slot(%s, %s, true)", (config.slot, copy))
            cur.execute("SELECT data FROM pg_logical_slot_peek_binary_changes(%s, NULL, %s, 'proto_version', '1',"
                        " 'publication_names', %s) WHERE get_byte(data, 0) = ascii('B')",
                        (copy, PEEK_MESSAGES, config.publication))
            begins = [pgoutput.decode(bytes(data)) for (data,) in cur.fetchall()]
            cur.execute("SELECT pg_drop_replication_slot(%s)", (copy,))
    except psycopg2.Error as e:
        LOG.info("seconds behind unknown: cannot peek at a copy of slot %s: %s", config.slot, e)
        return None
    missing = [b.commit_time_us for b in begins if b.final_lsn > lake_lsn]
    return max(0.0, time.time() - missing[0] / 1e6) if missing else None


def describe(state: dict[str, Any]) -> str:
    """A published PostgreSQL position: its LSN (and whether the job's snapshot is still running)."""
    text = f"LSN {repl.format_lsn(state.get('lsn', 0))}"
    return text if state.get("phase") == "stream" else text + " (snapshot in progress)"


def _snapshot_reader(factory: PostgresSourceFactory) -> SnapshotReader:
    """A reader in a new exported snapshot (a temporary slot's, dropped when it closes)."""
    try:
        exported = repl.export_snapshot(factory.config, "vrfy_" + uuid.uuid4().hex[:8])
    except psycopg2.Error as e:
        raise SourceNotReady(f"cannot take a consistent snapshot: {' '.join(str(e).split())} — the user needs the "
                             f"REPLICATION attribute and a free replication slot") from None
    try:
        return SnapshotReader.of(factory.config, exported)
    finally:
        exported.close()


def _batches(reader: SnapshotReader, mapped: list[tuple[SourceTable, TableMapping]], chunk_size: int,
             conn) -> Iterator[tuple[str, pa.Table]]:
    """Every table's rows in the lake's form (the source's columns only), chunk by chunk."""
    try:
        for table, mapping in mapped:
            for rows in _chunks(reader, table, mapping.copy_columns, chunk_size):
                yield mapping.target, mapping.batch_from_snapshot(rows).rows().select(list(mapping.names))
    finally:
        reader.close()
        conn.close()


def _chunks(reader: SnapshotReader, table: SourceTable, columns: CopyColumns, chunk_size: int) -> Iterator[pa.Table]:
    if not table.primary_keys:
        yield from reader.chunks_by_pages(table, columns)
        return
    after = None
    while True:
        rows, after = reader.chunk_by_key(table, columns, after, chunk_size)
        yield rows
        if after is None:
            return
