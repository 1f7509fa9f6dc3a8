"""``TableProgress``: how far one table's snapshot has come, and whether a streamed change of a
key is already in it.

Every chunk of a table is read in its own consistent snapshot whose exact binlog position is
known (MariaDB's ``Binlog_snapshot_file/position``). A chunk covers the keys after the previous
chunk's last key up to its own last key (the table's last chunk: everything after). A streamed
change of key ``k`` ending at binlog position ``T`` is in the lake already when ``T`` is at or
before the position of the chunk that holds ``k``; an UPDATE that moves a key is judged for the
old key and the new key separately. Exact, without locks or buffering.

That needs the order of keys in Python to be the server's. It is for numbers, temporal values
and binary strings; text keys sort by the column's collation, which Python does not know, so for
them every change after the table's first chunk is applied (a replay that converges: the lake
may show an older version of a row for a moment, and ends equal to the source).
"""

from __future__ import annotations

import base64
import bisect
import datetime
import decimal
from dataclasses import dataclass, field
from typing import Any, Optional

import pyarrow as pa

FilePos = tuple[int, int]
"""(binlog file number, offset): orders positions of one server."""


@dataclass
class Chunk:
    last_key: Optional[tuple]
    """The chunk's last key (None: the table's last chunk, open-ended)."""
    position: FilePos


@dataclass
class TableProgress:
    done: bool = False
    after: Optional[tuple] = None
    """The last key handed over (the next chunk starts after it)."""
    chunks: list[Chunk] = field(default_factory=list)
    order_safe: bool = True
    """Whether Python orders this table's keys as the server does (see the module docstring)."""
    skip_until: Optional[FilePos] = None
    """Changes ending at or before this position are in the lake already (a restart found a
    later position in this table's lake snapshot than the published one)."""

    def add_chunk(self, last_key: Optional[tuple], position: FilePos) -> None:
        self.chunks.append(Chunk(last_key, position))
        self.after = last_key
        self.done = last_key is None

    def in_lake(self, key: Optional[tuple], end: FilePos) -> bool:
        """Whether a change of ``key`` ending at ``end`` is in the lake already (``key`` None:
        a table without a primary key, read in one chunk)."""
        if self.skip_until is not None and end <= self.skip_until:
            return True
        if not self.chunks or end > self.chunks[-1].position:
            return False
        if key is None or not self.order_safe:
            return end <= self.chunks[0].position
        return end <= self._chunk_of(key).position

    def _chunk_of(self, key: tuple) -> Chunk:
        """The chunk whose range holds ``key`` (every chunk but an open-ended last one has a
        last key, in increasing order)."""
        bounded = len(self.chunks) - (self.chunks[-1].last_key is None)
        index = bisect.bisect_left(self.chunks, key, hi=bounded, key=lambda c: c.last_key)
        return self.chunks[min(index, len(self.chunks) - 1)]

    def settled(self, stream_at: FilePos) -> bool:
        """Whether the stream has passed every chunk (the per-key checks are over)."""
        return self.done and (not self.chunks or stream_at > self.chunks[-1].position)

    def to_json(self) -> dict:
        return {"done": self.done, "after": encode_key(self.after), "order_safe": self.order_safe,
                "chunks": [[encode_key(c.last_key), list(c.position)] for c in self.chunks],
                "skip_until": list(self.skip_until) if self.skip_until else None}

    @staticmethod
    def from_json(data: dict) -> "TableProgress":
        return TableProgress(data["done"], decode_key(data["after"]),
                             [Chunk(decode_key(k), tuple(p)) for k, p in data["chunks"]], data["order_safe"],
                             tuple(data["skip_until"]) if data.get("skip_until") else None)


ORDER_SAFE_TYPES = (pa.types.is_integer, pa.types.is_decimal, pa.types.is_date, pa.types.is_timestamp,
                    pa.types.is_duration, pa.types.is_binary, pa.types.is_floating)


def order_safe(key_types: list[pa.DataType]) -> bool:
    """Whether keys of these canonical types sort in Python as on the server."""
    return all(any(check(t) for check in ORDER_SAFE_TYPES) for t in key_types)


def encode_key(key: Optional[tuple]) -> Optional[list]:
    """A key as JSON values (tagged where JSON has no such type)."""
    return None if key is None else [_encode(v) for v in key]


def decode_key(data: Optional[list]) -> Optional[tuple]:
    return None if data is None else tuple(_decode(v) for v in data)


def _encode(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(value)}
    if isinstance(value, bytes):
        return {"bytes": base64.b64encode(value).decode()}
    if isinstance(value, datetime.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"date": value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"us": value // datetime.timedelta(microseconds=1)}
    return value


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    (tag, text), = value.items()
    if tag == "decimal":
        return decimal.Decimal(text)
    if tag == "bytes":
        return base64.b64decode(text)
    if tag == "datetime":
        return datetime.datetime.fromisoformat(text)
    if tag == "date":
        return datetime.date.fromisoformat(text)
    return datetime.timedelta(microseconds=text)
