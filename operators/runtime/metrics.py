"""The jobs' Flink metrics: one group ``paimon_cdc`` under each Python operator.

What PyFlink 2.3 does with a Python function's metrics (checked on the local mini-cluster): they
reach Flink when a bundle ends (at most 100 ms apart here: ``bridge.set_python_bundle``); a gauge is a
callable evaluated in the Python worker at every bundle end and must return an int (a float is
cut to an int), so gauges here return values cached by the operator; metric groups and gauges
may be added after ``open``. In the REST API a writer's metric reads
``0.paimon_writer.paimon_cdc.rows_written`` (subtask, operator, group, name; characters other
than letters, digits and ``_`` become ``_``).

Everything is updated per batch, per signal or per sample, never per row.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable

from operators.cdc.source import SourceProgress
from paimon_py.mergetree.write_stats import WriteStats

GROUP = "paimon_cdc"

WRITER_TOTALS = ("rows_written", "flushes", "spills", "compactions", "compaction_ms")
WRITER_GAUGES = ("buffer_bytes", "max_sorted_runs")


class TotalCounters:
    """Flink counters that follow running totals kept elsewhere (each update adds the difference)."""

    def __init__(self, group, names: Iterable[str]):
        self.counters = {name: group.counter(name) for name in names}
        self.last = dict.fromkeys(self.counters, 0)

    def update(self, totals: object) -> None:
        for name, counter in self.counters.items():
            value = getattr(totals, name)
            if value != self.last[name]:
                counter.inc(value - self.last[name])
                self.last[name] = value


class TableGauges:
    """Int gauges per table (group ``table.<name>``), added when a table first shows up."""

    def __init__(self, group, names: Iterable[str]):
        self.group = group
        self.names = tuple(names)
        self.values: dict[str, dict[str, int]] = {}

    def set(self, table: str, **values: int) -> None:
        if table not in self.values:
            sub = self.group.add_group("table", table)
            for name in self.names:
                sub.gauge(name, lambda name=name: self.values[table][name])
        self.values[table] = values


class ReaderMetrics:
    """``records_read`` (counter), ``records_read_per_second`` (meter), ``phase`` (0 snapshot,
    1 stream), ``lag_bytes``, ``lag_ms``; per source table (group ``table.<name>``)
    ``snapshot_rows_read`` and ``snapshot_rows_estimated``."""

    def __init__(self, metric_group):
        self.group = metric_group.add_group(GROUP)
        self.records = self.group.counter("records_read")
        self.rate = self.group.meter("records_read_per_second", time_span_in_seconds=10)
        self.progress = SourceProgress(False)
        self.tables = TableGauges(self.group, ("snapshot_rows_read", "snapshot_rows_estimated"))
        self.group.gauge("phase", lambda: int(self.progress.streaming))
        self.group.gauge("lag_bytes", lambda: self.progress.lag_bytes)
        self.group.gauge("lag_ms", lambda: self.progress.lag_ms)

    def read(self, rows: int) -> None:
        self.records.inc(rows)
        self.rate.mark_event(rows)

    def update(self, progress: SourceProgress) -> None:
        self.progress = progress
        for table in progress.tables:
            self.tables.set(table.table, snapshot_rows_read=table.rows_read,
                            snapshot_rows_estimated=table.rows_estimated)


class SplitReaderMetrics:
    """A snapshot split reader's ``records_read`` and ``splits_read`` (counters); ``read`` per split."""

    def __init__(self, metric_group):
        group = metric_group.add_group(GROUP)
        self.records = group.counter("records_read")
        self.splits = group.counter("splits_read")

    def read(self, rows: int) -> None:
        self.records.inc(rows)
        self.splits.inc(1)


class WriterMetrics:
    """Counters ``rows_written``, ``flushes``, ``spills``, ``compactions``, ``compaction_ms``;
    gauges ``buffer_bytes`` and ``max_sorted_runs`` (paimon_py's ``WriteStats`` of all tables)."""

    def __init__(self, metric_group, interval_s: float = 1.0):
        group = metric_group.add_group(GROUP)
        self.totals = TotalCounters(group, WRITER_TOTALS)
        self.stats = WriteStats()
        self.interval_s = interval_s
        self.updated = float("-inf")
        for name in WRITER_GAUGES:
            group.gauge(name, lambda name=name: getattr(self.stats, name))

    def update(self, stats: Callable[[], WriteStats], force: bool = False) -> None:
        """Takes ``stats()`` (which visits every bucket writer) at most every ``interval_s``, or now."""
        now = time.monotonic()
        if force or now - self.updated >= self.interval_s:
            self.updated = now
            self.stats = stats()
            self.totals.update(self.stats)


class CommitterMetrics:
    """``commits`` (counter: snapshots committed), gauges ``last_commit_latency_ms`` (from the
    commit's start to its snapshots being visible) and ``last_snapshot_id`` (the newest snapshot
    of the last commit), also per lake table (group ``table.<name>``)."""

    def __init__(self, metric_group):
        group = metric_group.add_group(GROUP)
        self.commits = group.counter("commits")
        self.latency_ms = 0
        self.snapshot_id = 0
        self.tables = TableGauges(group, ("last_snapshot_id",))
        group.gauge("last_commit_latency_ms", lambda: self.latency_ms)
        group.gauge("last_snapshot_id", lambda: self.snapshot_id)

    def committed(self, snapshot_ids: list[int], latest: dict[str, int], latency_ms: int) -> None:
        """``snapshot_ids``: the snapshots one commit made, in order; ``latest``: lake table -> the
        newest snapshot this committer made in it."""
        self.commits.inc(len(snapshot_ids))
        self.latency_ms = latency_ms
        self.snapshot_id = snapshot_ids[-1]
        for table, snapshot_id in latest.items():
            self.tables.set(table, last_snapshot_id=snapshot_id)
