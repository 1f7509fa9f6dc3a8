"""Binlog event framing (v4 header, checksums) and the small events: format description,
rotate, query, xid, GTIDs, heartbeat; the event types that are refused."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Optional

from operators.cdc.errors import SourceNotReady

HEADER = struct.Struct("<IBIIIH")
HEADER_LEN = 19

QUERY, STOP, ROTATE, INTVAR, FORMAT_DESCRIPTION, XID = 0x02, 0x03, 0x04, 0x05, 0x0F, 0x10
RAND, USER_VAR, TABLE_MAP, HEARTBEAT, IGNORABLE, ROWS_QUERY = 0x0D, 0x0E, 0x13, 0x1B, 0x1C, 0x1D
WRITE_V1, UPDATE_V1, DELETE_V1, WRITE_V2, UPDATE_V2, DELETE_V2 = 0x17, 0x18, 0x19, 0x1E, 0x1F, 0x20
MYSQL_GTID, ANONYMOUS_GTID, PREVIOUS_GTIDS, XA_PREPARE, HEARTBEAT_V2 = 0x21, 0x22, 0x23, 0x26, 0x29
PARTIAL_UPDATE_ROWS, TRANSACTION_PAYLOAD = 0x27, 0x28
ANNOTATE_ROWS, BINLOG_CHECKPOINT, MARIADB_GTID, GTID_LIST, START_ENCRYPTION = 0xA0, 0xA1, 0xA2, 0xA3, 0xA4

ROWS_KIND = {WRITE_V1: "insert", WRITE_V2: "insert", UPDATE_V1: "update", UPDATE_V2: "update",
             DELETE_V1: "delete", DELETE_V2: "delete"}
IGNORED = frozenset({STOP, INTVAR, RAND, USER_VAR, IGNORABLE, ROWS_QUERY, PREVIOUS_GTIDS, ANNOTATE_ROWS,
                     BINLOG_CHECKPOINT, GTID_LIST, START_ENCRYPTION, ANONYMOUS_GTID, 0x24, 0x25})
"""Events that carry nothing the stream needs (session variables of statement-based logging,
annotations, checkpoints, the GTID lists at a file's start, MySQL's anonymous GTIDs)."""

MARIADB_FL_STANDALONE = 1

REFUSED = {
    **{t: "the binlog is compressed (MariaDB log_bin_compress=ON) — SET GLOBAL log_bin_compress=OFF "
          "(and in my.cnf), then restart the job from a new snapshot" for t in range(0xA5, 0xAC)},
    TRANSACTION_PAYLOAD: "the binlog holds compressed transactions (binlog_transaction_compression=ON) — "
                         "SET GLOBAL binlog_transaction_compression=OFF, then restart from a new snapshot",
    PARTIAL_UPDATE_ROWS: "the binlog holds partial JSON updates (binlog_row_value_options=PARTIAL_JSON) — "
                         "SET GLOBAL binlog_row_value_options='', then restart from a new snapshot",
}


@dataclass(frozen=True)
class EventHeader:
    timestamp: int
    type: int
    server_id: int
    size: int
    next_pos: int
    flags: int


def parse_header(event: bytes) -> EventHeader:
    return EventHeader(*HEADER.unpack_from(event, 0))


def checksum_length(event: bytes) -> int:
    """A FORMAT_DESCRIPTION event's checksum algorithm as the length of every following event's
    checksum (0 or 4): its last 5 bytes are the algorithm and its own CRC32."""
    return 4 if event[-5] == 1 else 0


def verify_checksum(event: bytes, crc_len: int) -> None:
    if crc_len and zlib.crc32(memoryview(event)[:-4]) != struct.unpack_from("<I", event, len(event) - 4)[0]:
        raise ConnectionError(f"binlog event of type {event[4]:#x} failed its CRC32 check")


def refuse(event_type: int) -> None:
    """Raises ``SourceNotReady`` for the event types the stream cannot decode without loss."""
    if event_type in REFUSED:
        raise SourceNotReady(REFUSED[event_type])


def parse_rotate(event: bytes, crc_len: int) -> tuple[str, int]:
    """(next file, position in it)."""
    pos = struct.unpack_from("<Q", event, HEADER_LEN)[0]
    return event[HEADER_LEN + 8:len(event) - crc_len].decode(), pos


@dataclass(frozen=True)
class QueryEvent:
    schema: str
    sql: str


def parse_query(event: bytes, crc_len: int) -> QueryEvent:
    p = HEADER_LEN
    schema_len = event[p + 8]
    status_len = struct.unpack_from("<H", event, p + 11)[0]
    p += 13 + status_len
    schema = event[p:p + schema_len].decode("utf-8", "replace")
    sql = event[p + schema_len + 1:len(event) - crc_len].decode("utf-8", "replace")
    return QueryEvent(schema, sql)


@dataclass(frozen=True)
class Gtid:
    """One transaction's GTID: MariaDB (domain, server, seq) or MySQL (uuid, gno)."""

    text: str
    domain: int = 0
    server: int = 0
    seq: int = 0
    standalone: bool = False
    sid: str = ""


def parse_mariadb_gtid(event: bytes, server_id: int) -> Gtid:
    seq, domain, flags = struct.unpack_from("<QIB", event, HEADER_LEN)
    return Gtid(f"{domain}-{server_id}-{seq}", domain, server_id, seq, bool(flags & MARIADB_FL_STANDALONE))


def parse_mysql_gtid(event: bytes) -> Gtid:
    sid = event[HEADER_LEN + 1:HEADER_LEN + 17].hex()
    sid = f"{sid[:8]}-{sid[8:12]}-{sid[12:16]}-{sid[16:20]}-{sid[20:]}"
    gno = struct.unpack_from("<q", event, HEADER_LEN + 17)[0]
    return Gtid(f"{sid}:{gno}", seq=gno, sid=sid)


def parse_heartbeat(event: bytes, crc_len: int) -> Optional[str]:
    """The binlog file a heartbeat names (its header's next_pos is the position in it)."""
    name = event[HEADER_LEN:len(event) - crc_len]
    return name.decode("utf-8", "replace") or None
