"""GTID positions: MariaDB's ``GtidState`` (one ``domain-server-seq`` per domain) and MySQL's
``MySqlGtidSet`` (``uuid:1-42`` intervals, encoded for COM_BINLOG_DUMP_GTID)."""

from __future__ import annotations

import struct
import uuid


class GtidState:
    """MariaDB GTID state: the last GTID seen per replication domain."""

    def __init__(self, text: str = "") -> None:
        self.domains: dict[int, tuple[int, int]] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            domain, server, seq = (int(x) for x in part.split("-"))
            self.domains[domain] = (server, seq)

    def update(self, domain: int, server: int, seq: int) -> None:
        self.domains[domain] = (server, seq)

    def render(self) -> str:
        return ",".join(f"{d}-{s}-{n}" for d, (s, n) in sorted(self.domains.items()))


class MySqlGtidSet:
    """A MySQL executed GTID set: intervals (inclusive) per server uuid."""

    def __init__(self, text: str = "") -> None:
        self.sets: dict[str, list[list[int]]] = {}
        for part in filter(None, (p.strip() for p in text.replace("\n", "").split(","))):
            sid, *ranges = part.split(":")
            for r in ranges:
                lo, _, hi = r.partition("-")
                self._add_interval(sid.lower(), int(lo), int(hi or lo))

    def _add_interval(self, sid: str, lo: int, hi: int) -> None:
        intervals = sorted(self.sets.get(sid, []) + [[lo, hi]])
        merged: list[list[int]] = []
        for a, b in intervals:
            if merged and a <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        self.sets[sid] = merged

    def add(self, sid: str, gno: int) -> None:
        self._add_interval(sid.lower(), gno, gno)

    def render(self) -> str:
        return ",".join(sid + "".join(f":{a}" if a == b else f":{a}-{b}" for a, b in iv)
                        for sid, iv in sorted(self.sets.items()))

    def encode(self) -> bytes:
        """The binary form COM_BINLOG_DUMP_GTID sends (interval ends exclusive)."""
        out = [struct.pack("<Q", len(self.sets))]
        for sid, intervals in sorted(self.sets.items()):
            out.append(uuid.UUID(sid).bytes + struct.pack("<Q", len(intervals)))
            out.extend(struct.pack("<qq", a, b + 1) for a, b in intervals)
        return b"".join(out)
