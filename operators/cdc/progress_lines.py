"""``ProgressLines``: the snapshot's progress as text, one line per table every few seconds.

Fed with a source's ``SourceProgress`` samples (``operators/cdc/source.py``); the reader logs the
lines (and, on a local run, prints them on the job's terminal)::

    snapshot public.orders: 120,000 of ~400,000 rows (30%), 41,000 rows/s, ~7 s left
    snapshot public.orders: done, 401,230 rows in 10 s (40,100 rows/s)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from operators.cdc.source import SnapshotProgress, SourceProgress


@dataclass
class _Seen:
    """A table as the last line showed it; ``started``: the last sample before its reading began."""

    started: float
    rows: int = 0
    at: float = 0.0
    done: bool = False


class ProgressLines:
    def __init__(self, interval_s: float = 5.0):
        self.interval_s = interval_s
        self.last_lines = float("-inf")
        self.seen: dict[str, _Seen] = {}

    def due(self, progress: SourceProgress, now: float) -> list[str]:
        """Lines for tables that finished since the last sample, and, every ``interval_s``, one
        for each table being read. Call it at every sample (every second or so)."""
        lines, every = [], now - self.last_lines >= self.interval_s
        for table in progress.tables:
            seen = self.seen.setdefault(table.table, _Seen(now, at=now))
            if not table.rows_read and not table.done:
                seen.started = seen.at = now
            elif not seen.done and (table.done or every):
                lines.append(_done_line(table, now - seen.started) if table.done else _line(table, seen, now))
                seen.rows, seen.at, seen.done = table.rows_read, now, table.done
        if every and lines:
            self.last_lines = now
        return lines


def _line(table: SnapshotProgress, seen: _Seen, now: float) -> str:
    rate = (table.rows_read - seen.rows) / (now - seen.at) if now > seen.at else 0.0
    text = f"snapshot {table.table}: {table.rows_read:,}"
    if table.rows_estimated > 0:
        percent = min(99, table.rows_read * 100 // table.rows_estimated)
        text += f" of ~{table.rows_estimated:,} rows ({percent}%)"
    else:
        text += " rows"
    text += f", {rate:,.0f} rows/s"
    left = _seconds_left(table, rate)
    return text + (f", ~{left:.0f} s left" if left is not None else "")


def _seconds_left(table: SnapshotProgress, rate: float) -> Optional[float]:
    if rate <= 0 or table.rows_estimated <= table.rows_read:
        return None
    return (table.rows_estimated - table.rows_read) / rate


def _done_line(table: SnapshotProgress, seconds: float) -> str:
    rate = f" ({table.rows_read / seconds:,.0f} rows/s)" if seconds >= 1 else ""
    return f"snapshot {table.table}: done, {table.rows_read:,} rows in {seconds:.0f} s{rate}"
