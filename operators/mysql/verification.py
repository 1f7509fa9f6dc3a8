"""``MySqlVerification``: the MySQL/MariaDB side of ``paimon-cdc verify`` and ``positions``
(``operators/cdc/verification.py``).

A read is one ``START TRANSACTION WITH CONSISTENT SNAPSHOT`` over every captured table, through
the job's ``SnapshotReader`` and ``MySqlTableMapping`` (values in the lake's types, as the job
converts them), at the snapshot's exact binlog position (MariaDB, Percona Server; on Oracle
MySQL the binlog's end right after the snapshot starts, which a re-read covers). The lag is
binlog bytes (``SHOW BINARY LOGS`` sizes across files), GTIDs per domain, and seconds: now minus
the commit time of the first captured transaction the lake lacks.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import pyarrow as pa

from operators.cdc.source_position import SourcePosition
from operators.cdc.verification import SourceLag, SourceRead, captured_tables
from operators.mysql import inspection, server_checks
from operators.mysql.binlog.connection import ServerSettings
from operators.mysql.binlog.gtid import GtidState
from operators.mysql.binlog.server_position import binary_logs, current_position
from operators.mysql.binlog.stream import BinlogStream
from operators.mysql.binlog.transaction import BinlogPosition
from operators.mysql.change_source import MySqlSourceFactory, insert_batch
from operators.mysql.snapshot_reader import SnapshotReader
from operators.mysql.source_config import derived_server_id
from operators.mysql.table_mapping import MySqlTableMapping

FIRST_MISSING_WAIT_S = 5.0


@dataclass(frozen=True)
class MySqlVerification:
    """The ``VerificationSource`` of a MySQL/MariaDB sync job."""

    factory: MySqlSourceFactory
    """The job's (``job_args.from_args``): the same tables, lake tables and source id."""

    @property
    def source_id(self) -> str:
        return self.factory.source_id

    def read(self) -> SourceRead:
        mappings = self._mappings()
        resources = ExitStack()
        reader = SnapshotReader(self.factory.config)
        resources.callback(reader.close)
        try:
            position = resources.enter_context(reader.consistent_snapshot()) or current_position(reader.conn)
        except BaseException:
            resources.close()
            raise
        tables = captured_tables((m.table.key, m.target) for m in mappings)
        return SourceRead(position.to_dict(), describe_binlog(position), tables, _batches(reader, mappings, resources))

    def _mappings(self) -> list[MySqlTableMapping]:
        config = self.factory.config
        conn = config.connect()
        try:
            zone = config.server_time_zone or server_checks.server_info(conn).time_zone
            return [MySqlTableMapping.of(t, self.factory.targets, self.factory.type_mapping, zone)
                    for t in inspection.list_tables(conn, config)]
        finally:
            conn.close()

    def reached(self, published: SourcePosition, position: dict[str, Any]) -> bool:
        binlog = published.state.get("binlog")
        return published.state.get("phase") == "stream" and binlog is not None \
            and BinlogPosition.from_dict(binlog).file_pos() >= BinlogPosition.from_dict(position).file_pos()

    def lag(self, published: Optional[SourcePosition]) -> SourceLag:
        conn = self.factory.config.connect()
        try:
            current, logs = current_position(conn), binary_logs(conn)
        finally:
            conn.close()
        binlog = published.state.get("binlog") if published else None
        if binlog is None:
            return SourceLag(describe_binlog(current), False)
        lake = BinlogPosition.from_dict(binlog)
        behind = gtids_behind(lake.gtid, current.gtid)
        caught_up = lake.file_pos() >= current.file_pos() and published.state.get("phase") == "stream"
        details = {"gtids_behind": ",".join(f"{d}:{n}" for d, n in behind.items()) or "none"}
        return SourceLag(describe_binlog(current), caught_up, binlog_bytes(lake, current, logs),
                         sum(behind.values()), 0.0 if caught_up else self._seconds_behind(lake), details)

    def _seconds_behind(self, lake: BinlogPosition) -> Optional[float]:
        """Now minus the commit time of the first transaction of a captured table after ``lake``
        (the binlog read from there as a replica of its own server id); None when none arrives
        within ``FIRST_MISSING_WAIT_S``."""
        config = self.factory.config
        settings = ServerSettings(config.hostname, config.port, config.username, config.password)
        stream = BinlogStream(settings, lake, config.matches, console_server_id(config.server_id), 1000,
                              config.connect_timeout_ms / 1000, 1 << 20)  # one transaction is read
        try:
            transactions = stream.poll(1, FIRST_MISSING_WAIT_S)
        finally:
            stream.close()
        return max(0.0, time.time() - transactions[0].timestamp_ms / 1000) if transactions else None

    def describe(self, state: dict[str, Any]) -> str:
        return describe(state)


def console_server_id(job_server_id: int) -> int:
    """The replica server id the console reads the binlog with: derived from the job's, never
    equal to it (the server would end the job's binlog connection)."""
    derived = derived_server_id("paimon-cdc console", job_server_id, "", "")
    return derived if derived != job_server_id else derived + 1


def describe(state: dict[str, Any]) -> str:
    """A published MySQL position: binlog file:pos and GTID (and whether the job's snapshot is
    still running)."""
    binlog = state.get("binlog")
    text = describe_binlog(BinlogPosition.from_dict(binlog)) if binlog else "no binlog position"
    return text if state.get("phase") == "stream" else text + " (snapshot in progress)"


def describe_binlog(position: BinlogPosition) -> str:
    return f"{position.file}:{position.pos}" + (f" GTID {position.gtid}" if position.gtid else "")


def binlog_bytes(start: BinlogPosition, end: BinlogPosition, logs: list[tuple[str, int]]) -> int:
    """Binlog bytes from ``start`` to ``end`` over the files of ``SHOW BINARY LOGS`` (name, size)."""
    first, last = start.file_pos()[0], end.file_pos()[0]
    total = 0
    for name, size in logs:
        number = BinlogPosition(name, 0).file_pos()[0]
        if first <= number <= last:
            total += max(0, (end.pos if number == last else size) - (start.pos if number == first else 0))
    return total


def gtids_behind(lake: str, current: str) -> dict[int, int]:
    """Per MariaDB GTID domain, how many sequence numbers the lake's GTID state is behind."""
    have = GtidState(lake).domains
    return {domain: seq - have.get(domain, (0, 0))[1] for domain, (_, seq) in GtidState(current).domains.items()
            if seq > have.get(domain, (0, 0))[1]}


def _batches(reader: SnapshotReader, mappings: list[MySqlTableMapping],
             resources: ExitStack) -> Iterator[tuple[str, pa.Table]]:
    """Every table's rows in the lake's form (the source's columns only), in the one snapshot."""
    with resources:
        for mapping in mappings:
            for columns in reader.table_rows(mapping.table):
                yield mapping.name, insert_batch(mapping, columns).rows().select(list(mapping.target.names))
