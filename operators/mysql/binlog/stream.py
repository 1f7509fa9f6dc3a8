"""``BinlogStream``: transactions of row changes and statements from the binlog, resumable from
the end of any transaction it returned, reconnecting on its own.

A transaction is returned once its end (Xid, COMMIT, or a statement outside BEGIN) has arrived;
one of more than ``PART_ROWS`` rows is returned in parts before that (``complete`` False on all
but the last, which comes even when no change is left for it), so the reader holds at most about
``PART_ROWS`` rows of it. ``position`` moves only at a transaction's end. A reconnect inside a
transaction reads it again from its start and drops the parts already returned (they are cut at
the same events again)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable, Optional, Union

import pymysql

from operators.cdc.errors import CdcError, SourceNotReady
from operators.cdc.prefetch import Prefetcher
from operators.mysql.binlog import events as ev
from operators.mysql.binlog.connection import BinlogConnection, ConnectionLost, ServerSettings
from operators.mysql.binlog.gtid import GtidState, MySqlGtidSet
from operators.mysql.binlog.rows import RowsBuilder, RowsDecoder, rows_event_body
from operators.mysql.binlog.server_position import gtid_at
from operators.mysql.binlog.table_map import parse_table_map, table_map_header
from operators.mysql.binlog.transaction import BinlogPosition, BinlogTransaction, RowsChange, Statement
from operators.mysql.source_table import MySqlTable

TableFilter = Callable[[str, str], bool]
UpdateBefore = Callable[[MySqlTable], Optional[frozenset[str]]]
MAX_TABLE_MAPS = 4096
RECONNECT_PAUSE_S = 0.5
PREFETCH_BYTES = 32 << 20
"""Binlog events read ahead of ``poll``, at most (``poll.prefetch.size``)."""
TAKE_EVENTS = 10_000
"""Events taken from the prefetch queue at a time."""
PART_ROWS = 100_000
"""Rows of a transaction returned as a part before its end has arrived."""


@dataclass
class OpenTransaction:
    gtid: Optional[ev.Gtid] = None
    begun: bool = False
    changes: list[Union[RowsChange, Statement]] = field(default_factory=list)
    builder: Optional[RowsBuilder] = None
    rows: int = 0
    """Rows in ``changes`` and ``builder`` (not yet returned)."""


class BinlogStream:
    """Reads the binlog from ``start`` (MariaDB: GTID mode when ``start.gtid`` is set, else
    file/position); ``table_filter(database, table)`` picks the tables whose rows are decoded.
    A ``Prefetcher`` reads the connection on a thread of its own, so the server streams on
    while the reader is between polls."""

    def __init__(self, settings: ServerSettings, start: BinlogPosition, table_filter: TableFilter = lambda d, t: True,
                 server_id: int = 5401, heartbeat_ms: int = 1000, connect_timeout: float = 30.0,
                 prefetch_bytes: int = PREFETCH_BYTES, update_before: UpdateBefore = lambda table: None) -> None:
        """``update_before``: the columns of a table's updates' old images to decode (None: all;
        ``RowsChange.whole_before`` gives the rest)."""
        self.settings = settings
        self.update_before = update_before
        self.position = start
        self.table_filter = table_filter
        self.server_id = server_id
        self.heartbeat_ms = heartbeat_ms
        self.connect_timeout = connect_timeout
        self.prefetch_bytes = prefetch_bytes
        self.conn: Optional[BinlogConnection] = None
        self.prefetcher: Optional[Prefetcher[bytes]] = None
        self.reconnects = 0
        self.parts_returned = 0
        """Parts of the open transaction returned so far (0: none is open in parts)."""
        self.parts_to_skip = 0
        """After a reconnect inside a transaction: its parts that are read again and dropped."""
        self.decoders: dict[bytes, Optional[RowsDecoder]] = {}
        self._connect()

    def _connect(self) -> None:
        deadline = time.monotonic() + self.connect_timeout
        while True:
            try:
                self._open()
                return
            except (ConnectionLost, pymysql.err.OperationalError, pymysql.err.InterfaceError, OSError) as e:
                self.close()
                if time.monotonic() > deadline:
                    raise ConnectionLost(f"cannot reach the binlog of {self.settings.host}:{self.settings.port} "
                                         f"for {self.connect_timeout:.0f} s: {e}") from e
                time.sleep(RECONNECT_PAUSE_S)

    def _open(self) -> None:
        conn = BinlogConnection(self.settings, self.server_id, self.heartbeat_ms, self.connect_timeout)
        self.conn = conn
        start = self.position
        gtid_mode = bool(start.gtid)
        self.gtids: Union[GtidState, MySqlGtidSet, None] = None
        if gtid_mode:
            self.gtids = GtidState(start.gtid) if conn.mariadb else MySqlGtidSet(start.gtid)
        elif conn.mariadb:
            known = gtid_at(conn.conn, start.file, start.pos)
            self.gtids = GtidState(known) if known is not None else None
        self.file = start.file
        self.crc_len = 4 if conn.checksum == "CRC32" else 0
        self.table_ids: dict[int, Optional[RowsDecoder]] = {}
        self.txn: Optional[OpenTransaction] = None
        self.pending: list[bytes] = []
        self.pending_at = 0
        conn.dump(start, gtid_mode)
        self.prefetcher = Prefetcher(conn.read, _event_size, self.prefetch_bytes, f"prefetch binlog {self.server_id}")

    @property
    def mid_transaction(self) -> bool:
        """A part of a transaction is returned and its end is not."""
        return self.parts_returned > 0

    def poll(self, max_rows: int, wait_s: float) -> list[BinlogTransaction]:
        """Transactions (or parts) with changes, until ``max_rows`` rows or no more events have
        arrived; waits up to ``wait_s`` for the first. ``position`` moves past every transaction
        whose end was seen."""
        out: list[BinlogTransaction] = []
        rows = 0
        deadline = time.monotonic() + wait_s
        while rows < max_rows:
            if self.pending_at >= len(self.pending):
                if not self._fill(0 if out else max(0.0, deadline - time.monotonic())):
                    if out or time.monotonic() >= deadline:
                        break
                    continue
            event = self.pending[self.pending_at]
            self.pending_at += 1
            done = self._handle(event)
            if done is not None:
                out.append(done)
                rows += sum(len(c) for c in done.changes if isinstance(c, RowsChange))
        return out

    def _fill(self, timeout: float) -> bool:
        """Takes the events the prefetch thread has read into ``pending``; on a lost connection
        reconnects from ``position`` (the open transaction is read again, without the parts
        already returned)."""
        try:
            self.pending, self.pending_at = self.prefetcher.take(TAKE_EVENTS, timeout), 0
        except (ConnectionLost, ConnectionError, OSError):
            self.reconnects += 1
            self.parts_to_skip = self.parts_returned
            self.close()
            self._connect()
            return False
        return bool(self.pending)

    def _handle(self, event: bytes) -> Optional[BinlogTransaction]:
        timestamp, etype, server_id, _, next_pos, _ = ev.HEADER.unpack_from(event, 0)
        if etype == ev.FORMAT_DESCRIPTION:
            self.crc_len = ev.checksum_length(event)
        if etype != ev.HEARTBEAT:
            ev.verify_checksum(event, self.crc_len)
        if etype in ev.ROWS_KIND:
            return self._rows(event, etype, timestamp, next_pos)
        elif etype == ev.TABLE_MAP:
            self._table_map(event)
        elif etype == ev.XID or etype == ev.XA_PREPARE:
            return self._end(timestamp, next_pos)
        elif etype == ev.QUERY:
            return self._query(event, timestamp, next_pos)
        elif etype == ev.MARIADB_GTID:
            self.txn = OpenTransaction(ev.parse_mariadb_gtid(event, server_id))
        elif etype == ev.MYSQL_GTID:
            self.txn = OpenTransaction(ev.parse_mysql_gtid(event))
        elif etype == ev.ROTATE:
            self._rotate(event, timestamp)
        elif etype == ev.HEARTBEAT:
            self._heartbeat(event, next_pos)
        elif etype not in ev.IGNORED and etype != ev.FORMAT_DESCRIPTION:
            ev.refuse(etype)
            if self.txn is not None:
                raise CdcError(f"binlog event type {etype:#x} inside a transaction at {self.file}:{next_pos} is "
                               f"unknown to the decoder — upgrade the job or report the server version")
        return None

    def _rotate(self, event: bytes, timestamp: int) -> None:
        self.file, pos = ev.parse_rotate(event, self.crc_len)
        if timestamp and self.txn is None:
            self.position = replace(self.position, file=self.file, pos=pos)

    def _heartbeat(self, event: bytes, next_pos: int) -> None:
        name = ev.parse_heartbeat(event, self.crc_len) or self.file
        if self.txn is None and next_pos:
            candidate = replace(self.position, file=name, pos=next_pos)
            if candidate.file_pos() > self.position.file_pos():
                self.position = candidate

    def _query(self, event: bytes, timestamp: int, next_pos: int) -> Optional[BinlogTransaction]:
        query = ev.parse_query(event, self.crc_len)
        word = query.sql.lstrip()[:9].upper()
        if word.startswith("BEGIN") or word.startswith("XA START"):
            self.txn = self.txn or OpenTransaction()
            self.txn.begun = True
            return None
        if word.startswith(("COMMIT", "ROLLBACK", "XA ")):
            return self._end(timestamp, next_pos) if self.txn is not None else None
        self.txn = self.txn or OpenTransaction()
        self._close_rows()
        self.txn.changes.append(Statement(query.schema, query.sql))
        return None if self.txn.begun else self._end(timestamp, next_pos)

    def _table_map(self, event: bytes) -> None:
        key = event[ev.HEADER_LEN:len(event) - self.crc_len]
        if key not in self.decoders:
            if len(self.decoders) > MAX_TABLE_MAPS:
                self.decoders.clear()
            table_id, db, name, _ = table_map_header(event)
            decoder = None
            if self.table_filter(db, name):
                table_map = parse_table_map(event, self.crc_len, self.conn.collations, self.conn.mariadb)
                if not table_map.has_names:
                    raise SourceNotReady(f"the binlog's TABLE_MAP of {db}.{name} has no column names "
                                         f"(binlog_row_metadata was not FULL when it was written) — SET GLOBAL "
                                         f"binlog_row_metadata=FULL (and in my.cnf), then start from a new snapshot")
                decoder = RowsDecoder(table_map, self.update_before(table_map.table))
            self.decoders[key] = decoder
        self.table_ids[int.from_bytes(key[:6], "little")] = self.decoders[key]

    def _rows(self, event: bytes, etype: int, timestamp: int, next_pos: int) -> Optional[BinlogTransaction]:
        table_id = int.from_bytes(event[ev.HEADER_LEN:ev.HEADER_LEN + 6], "little")
        if table_id not in self.table_ids:
            raise CdcError(f"rows event for table id {table_id} without a TABLE_MAP at {self.file}")
        decoder = self.table_ids[table_id]
        if decoder is None:
            return None
        _, start = rows_event_body(event, etype)
        txn = self.txn = self.txn or OpenTransaction()
        builder = txn.builder
        if builder is None or builder.decoder is not decoder or builder.kind != ev.ROWS_KIND[etype]:
            self._close_rows()
            builder = txn.builder = RowsBuilder(decoder, etype)
        txn.rows += builder.add(event, start, len(event) - self.crc_len)
        return self._part(timestamp, next_pos) if txn.rows >= PART_ROWS else None

    def _part(self, timestamp: int, next_pos: int) -> Optional[BinlogTransaction]:
        """The open transaction's changes so far, as a part (None when it was returned before a
        reconnect). Its ``end`` lies inside the transaction: after every earlier transaction's end
        and not after this one's, which is all a snapshot chunk's position is compared with."""
        self._close_rows()
        txn = self.txn
        part = BinlogTransaction(txn.changes, BinlogPosition(self.file, next_pos), txn.gtid.text if txn.gtid else "",
                                 timestamp * 1000, complete=False)
        txn.changes, txn.rows = [], 0
        if self.parts_to_skip:
            self.parts_to_skip -= 1
            return None
        self.parts_returned += 1
        return part

    def _close_rows(self) -> None:
        if self.txn is not None and self.txn.builder is not None:
            self.txn.changes.append(self.txn.builder.finish())
            self.txn.builder = None

    def _end(self, timestamp: int, next_pos: int) -> Optional[BinlogTransaction]:
        self._close_rows()
        txn, self.txn = self.txn or OpenTransaction(), None
        if self.parts_to_skip:
            raise CdcError(f"the transaction ending at {self.file}:{next_pos} was read again after a reconnect and "
                           f"is shorter than before — the binlog changed under the job; start from a new snapshot")
        in_parts, self.parts_returned = self.parts_returned > 0, 0
        gtid = txn.gtid
        if gtid is not None and isinstance(self.gtids, GtidState):
            self.gtids.update(gtid.domain, gtid.server, gtid.seq)
        elif gtid is not None and isinstance(self.gtids, MySqlGtidSet):
            self.gtids.add(gtid.sid, gtid.seq)
        self.position = BinlogPosition(self.file, next_pos, self.gtids.render() if self.gtids else "")
        if not txn.changes and not in_parts:
            return None
        return BinlogTransaction(txn.changes, self.position, gtid.text if gtid else "", timestamp * 1000)

    def close(self) -> None:
        if self.prefetcher is not None:
            self.prefetcher.close()
            self.prefetcher = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _event_size(event: bytes) -> int:
    """Bytes a queued event costs: its own and the ``bytes`` object's."""
    return len(event) + 40
