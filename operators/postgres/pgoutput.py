"""Decoder of the ``pgoutput`` logical replication messages (protocol version 1, text values).

One dataclass per message type; :func:`decode` turns one replication payload into one of them;
:class:`MessageFrame` finds, in one pass over many payloads, the runs of consecutive changes of one
relation and one shape, and :func:`decode_tuples` / :func:`decode_old_and_new` decode a run's
tuples at once, column by column, into Arrow string arrays. Tuple values of :func:`decode` are
``None`` (NULL), :data:`UNCHANGED_TOAST` (an unchanged TOASTed value the server did not send) or
``str`` (PostgreSQL's text output of the value). Timestamps are
microseconds since the Unix epoch (pgoutput counts from 2000-01-01).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

import numpy as np
import pyarrow as pa

from operators.postgres import tuple_data

PG_EPOCH_OFFSET_US = 946_684_800_000_000
"""Microseconds from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch)."""


class _UnchangedToast:
    """The type of :data:`UNCHANGED_TOAST` (copies and pickles stay that one object)."""

    def __repr__(self) -> str:
        return "UNCHANGED_TOAST"

    def __reduce__(self) -> str:
        return "UNCHANGED_TOAST"


UNCHANGED_TOAST = _UnchangedToast()
"""Tuple value 'u': a TOASTed column whose value did not change and was not sent."""

Value = Union[str, None, _UnchangedToast]

_unpack_i16 = struct.Struct(">h").unpack_from
_unpack_i32 = struct.Struct(">i").unpack_from
_U32 = struct.Struct(">I")
_BEGIN = struct.Struct(">qqI")
_COMMIT = struct.Struct(">bqqq")
_COLUMN_TAIL = struct.Struct(">Ii")
_ORIGIN_LSN = struct.Struct(">q")
_MESSAGE_HEAD = struct.Struct(">bq")
_TRUNCATE_HEAD = struct.Struct(">ib")

_TRUNCATE_CASCADE = 1
_TRUNCATE_RESTART_IDENTITY = 2


@dataclass(frozen=True)
class Begin:
    final_lsn: int
    """LSN of the transaction's commit record."""
    commit_time_us: int
    xid: int


@dataclass(frozen=True)
class Commit:
    flags: int
    commit_lsn: int
    end_lsn: int
    """LSN just after the commit record: where streaming resumes."""
    commit_time_us: int


@dataclass(frozen=True)
class Origin:
    commit_lsn: int
    name: str


@dataclass(frozen=True)
class RelationColumn:
    name: str
    type_oid: int
    type_modifier: int
    part_of_key: bool


@dataclass(frozen=True)
class Relation:
    oid: int
    namespace: str
    """Schema name; pgoutput sends '' for pg_catalog."""
    name: str
    replica_identity: str
    """'d' default, 'n' nothing, 'f' full, 'i' index."""
    columns: list[RelationColumn]


@dataclass(frozen=True)
class TypeInfo:
    oid: int
    namespace: str
    name: str


@dataclass(frozen=True)
class Insert:
    relation_oid: int
    new: list[Value]


@dataclass(frozen=True)
class Update:
    relation_oid: int
    old: Optional[list[Value]]
    old_kind: Optional[str]
    """'K': ``old`` holds the replica identity key only, 'O': the whole old row, None: no old."""
    new: list[Value]


@dataclass(frozen=True)
class Delete:
    relation_oid: int
    old: list[Value]
    old_kind: str
    """'K' (key columns set, the others None) or 'O' (the whole old row)."""


@dataclass(frozen=True)
class Truncate:
    relation_oids: list[int]
    cascade: bool
    restart_identity: bool


@dataclass(frozen=True)
class LogicalMessage:
    transactional: bool
    lsn: int
    prefix: str
    content: bytes


Message = Union[Begin, Commit, Origin, Relation, TypeInfo, Insert, Update, Delete, Truncate,
                LogicalMessage]


def decode(payload: bytes) -> Message:
    """Decode one pgoutput message; ``ValueError`` for a type protocol version 1 doesn't have."""
    decoder = _DECODERS.get(payload[:1])
    if decoder is None:
        raise ValueError(f"unknown pgoutput message type {payload[:1]!r} (protocol version 1 "
                         f"is decoded; streaming and two-phase messages are not)")
    try:
        return decoder(payload)
    except (struct.error, IndexError) as e:
        raise ValueError(f"truncated pgoutput {payload[:1]!r} message ({len(payload)} bytes): {e}") from None


def _string(payload: bytes, pos: int) -> tuple[str, int]:
    """The NUL-terminated string at ``pos`` and the position after its terminator."""
    end = payload.index(b"\0", pos)
    return payload[pos:end].decode(), end + 1


def _tuple(payload: bytes, pos: int) -> tuple[list[Value], int]:
    """TupleData at ``pos``: the values and the position after them."""
    count = _unpack_i16(payload, pos)[0]
    pos += 2
    values: list[Value] = []
    append = values.append
    for _ in range(count):
        kind = payload[pos]
        if kind == 0x74:  # 't'
            length = _unpack_i32(payload, pos + 1)[0]
            pos += 5
            append(payload[pos:pos + length].decode())
            pos += length
        elif kind == 0x6E:  # 'n'
            append(None)
            pos += 1
        elif kind == 0x75:  # 'u'
            append(UNCHANGED_TOAST)
            pos += 1
        else:
            raise ValueError(f"unsupported tuple value kind {chr(kind)!r} (binary values are "
                             f"not decoded: do not set the pgoutput option 'binary')")
    return values, pos


@dataclass(frozen=True)
class TupleColumns:
    """The new tuples of consecutive Insert, Update and Delete messages of one relation, by column:
    ``values[i]`` holds column i's text as an Arrow string array (null for NULL and for an
    unchanged TOASTed value, which ``unchanged[i]`` marks)."""

    values: list[pa.StringArray]
    unchanged: list[np.ndarray]
    """Per column, the rows (positions in the run) whose value is an unchanged TOASTed one."""


SIMPLE = 1
"""A message with one tuple at byte 6: an Insert, an Update without an old tuple, a Delete."""
OLD_AND_NEW = 2
"""An Update with the whole old row (REPLICA IDENTITY FULL): the old tuple at byte 6, then 'N' and
the new one."""


@dataclass(frozen=True)
class MessageFrame:
    """Payloads joined into one buffer, and for each message the end of the run of changes of one
    relation and one shape (``SIMPLE`` or ``OLD_AND_NEW``) that it starts or continues; a message
    of neither shape ends its run where it starts."""

    buf: np.ndarray
    """The payloads, joined (uint8)."""
    starts: np.ndarray
    ends: np.ndarray
    shapes: np.ndarray
    """``SIMPLE``, ``OLD_AND_NEW`` or 0 for each message (int8)."""
    oids: np.ndarray
    """The relation of each change of either shape (int64; -1 for other messages)."""
    run_ends: np.ndarray

    @classmethod
    def of(cls, payloads: Sequence[bytes]) -> "MessageFrame":
        count = len(payloads)
        lengths = np.fromiter(map(len, payloads), np.int64, count)
        ends = np.cumsum(lengths)
        starts = ends - lengths
        buf = np.frombuffer(b"".join(payloads) + bytes(8), np.uint8)  # padded: every header read is in bounds
        long_enough = lengths >= 8
        at = np.where(long_enough, starts, 0)
        kind, marker = buf[at], buf[at + 5]
        simple = long_enough & (((marker == ord("N")) & ((kind == ord("I")) | (kind == ord("U"))))
                                | (((marker == ord("K")) | (marker == ord("O"))) & (kind == ord("D"))))
        old_and_new = long_enough & (marker == ord("O")) & (kind == ord("U"))
        shapes = (simple * SIMPLE + old_and_new * OLD_AND_NEW).astype(np.int8)
        oids = np.where(shapes > 0, _be32(buf, at + 1) & 0xFFFFFFFF, -1)
        continues = np.zeros(count, bool)
        continues[1:] = (shapes[1:] > 0) & (shapes[1:] == shapes[:-1]) & (oids[1:] == oids[:-1])
        run_starts = np.flatnonzero(~continues)
        run_end_of = np.append(run_starts[1:], count)
        run_ends = np.where(shapes > 0, run_end_of[np.cumsum(~continues) - 1], np.arange(count))
        return cls(buf, starts, ends, shapes, oids, run_ends)

    def message_types(self, first: int, end: int) -> np.ndarray:
        """The type bytes (``I``, ``U``, ``D``, ...) of messages ``first``..``end`` - 1."""
        return self.buf[self.starts[first:end]]


def decode_tuples(frame: MessageFrame, first: int, end: int, columns: int) -> Optional[TupleColumns]:
    """The tuples of the run of ``SIMPLE`` changes ``first``..``end`` - 1 of ``frame``, of one
    relation with ``columns`` columns, decoded column by column for all messages at once (in C:
    ``tuple_data``); None when one is not as expected (another column count, a binary value,
    trailing bytes, text that is not UTF-8): ``decode`` them one by one to get the error."""
    return _tuple_columns(frame.buf, frame.starts[first:end] + 6, frame.ends[first:end], columns)


def decode_old_and_new(frame: MessageFrame, first: int, end: int,
                       columns: int) -> Optional[tuple[TupleColumns, TupleColumns]]:
    """The old and the new tuples of the run of ``OLD_AND_NEW`` updates ``first``..``end`` - 1, as
    ``decode_tuples`` decodes one tuple (None likewise)."""
    starts, ends = frame.starts[first:end], frame.ends[first:end]
    stops = np.empty(end - first, np.int64)
    old = _tuple_columns(frame.buf, starts + 6, ends, columns, stops)
    if old is None or not np.all((stops < ends) & (frame.buf[stops] == ord("N"))):
        return None
    new = _tuple_columns(frame.buf, stops + 1, ends, columns)
    return None if new is None else (old, new)


def _tuple_columns(buf: np.ndarray, tuples: np.ndarray, ends: np.ndarray, columns: int,
                   stops: Optional[np.ndarray] = None) -> Optional[TupleColumns]:
    decoded = tuple_data.decode_columns(buf, tuples, ends, columns, stops)
    if decoded is None:
        return None
    arrays, unchanged = decoded
    try:
        for array in arrays:
            array.validate(full=True)
    except pa.ArrowInvalid:
        return None
    return TupleColumns(arrays, [np.flatnonzero(marks) for marks in unchanged])


def _be32(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The signed big-endian int32 at each of ``at``."""
    raw = (buf[at].astype(np.int64) << 24) | (buf[at + 1].astype(np.int64) << 16) \
        | (buf[at + 2].astype(np.int64) << 8) | buf[at + 3]
    return np.where(raw >= 1 << 31, raw - (1 << 32), raw)


def _begin(payload: bytes) -> Begin:
    final_lsn, time_us, xid = _BEGIN.unpack_from(payload, 1)
    return Begin(final_lsn, time_us + PG_EPOCH_OFFSET_US, xid)


def _commit(payload: bytes) -> Commit:
    flags, commit_lsn, end_lsn, time_us = _COMMIT.unpack_from(payload, 1)
    return Commit(flags, commit_lsn, end_lsn, time_us + PG_EPOCH_OFFSET_US)


def _origin(payload: bytes) -> Origin:
    lsn = _ORIGIN_LSN.unpack_from(payload, 1)[0]
    return Origin(lsn, _string(payload, 9)[0])


def _relation(payload: bytes) -> Relation:
    oid = _U32.unpack_from(payload, 1)[0]
    namespace, pos = _string(payload, 5)
    name, pos = _string(payload, pos)
    identity = chr(payload[pos])
    count = _unpack_i16(payload, pos + 1)[0]
    pos += 3
    columns = []
    for _ in range(count):
        flags = payload[pos]
        column, pos = _string(payload, pos + 1)
        type_oid, typmod = _COLUMN_TAIL.unpack_from(payload, pos)
        pos += 8
        columns.append(RelationColumn(column, type_oid, typmod, bool(flags & 1)))
    return Relation(oid, namespace, name, identity, columns)


def _type(payload: bytes) -> TypeInfo:
    oid = _U32.unpack_from(payload, 1)[0]
    namespace, pos = _string(payload, 5)
    return TypeInfo(oid, namespace, _string(payload, pos)[0])


def _insert(payload: bytes) -> Insert:
    oid = _U32.unpack_from(payload, 1)[0]
    _expect(payload, 5, b"N")
    return Insert(oid, _tuple(payload, 6)[0])


def _update(payload: bytes) -> Update:
    oid = _U32.unpack_from(payload, 1)[0]
    marker = payload[5:6]
    old, old_kind, pos = None, None, 5
    if marker in (b"K", b"O"):
        old, pos = _tuple(payload, 6)
        old_kind = marker.decode()
    _expect(payload, pos, b"N")
    return Update(oid, old, old_kind, _tuple(payload, pos + 1)[0])


def _delete(payload: bytes) -> Delete:
    oid = _U32.unpack_from(payload, 1)[0]
    marker = payload[5:6]
    if marker not in (b"K", b"O"):
        raise ValueError(f"malformed pgoutput Delete: expected 'K' or 'O', got {marker!r}")
    return Delete(oid, _tuple(payload, 6)[0], marker.decode())


def _truncate(payload: bytes) -> Truncate:
    count, options = _TRUNCATE_HEAD.unpack_from(payload, 1)
    oids = list(struct.unpack_from(f">{count}I", payload, 6))
    return Truncate(oids, bool(options & _TRUNCATE_CASCADE), bool(options & _TRUNCATE_RESTART_IDENTITY))


def _message(payload: bytes) -> LogicalMessage:
    flags, lsn = _MESSAGE_HEAD.unpack_from(payload, 1)
    prefix, pos = _string(payload, 10)
    length = _unpack_i32(payload, pos)[0]
    return LogicalMessage(bool(flags & 1), lsn, prefix, payload[pos + 4:pos + 4 + length])


def _expect(payload: bytes, pos: int, marker: bytes) -> None:
    if payload[pos:pos + 1] != marker:
        raise ValueError(f"malformed pgoutput {chr(payload[0])!r} message: expected {marker!r} "
                         f"at byte {pos}, got {payload[pos:pos + 1]!r}")


_DECODERS: dict[bytes, Callable[[bytes], Message]] = {
    b"B": _begin, b"C": _commit, b"O": _origin, b"R": _relation, b"Y": _type, b"I": _insert,
    b"U": _update, b"D": _delete, b"T": _truncate, b"M": _message,
}
