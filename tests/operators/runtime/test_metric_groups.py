"""``operators/runtime/metrics.py`` against a recording stand-in for PyFlink's metric group:
counters follow running totals by their differences, gauges return the latest values as ints,
per-table gauges appear when a table first shows up."""

from __future__ import annotations

from operators.cdc.source import SnapshotProgress, SourceProgress
from operators.runtime.metrics import CommitterMetrics, ReaderMetrics, WriterMetrics
from paimon_py.mergetree.write_stats import WriteStats


class Recorder:
    """A metric group that records what is registered under dotted names."""

    def __init__(self, prefix: str = "", metrics: dict | None = None):
        self.prefix = prefix
        self.metrics = {} if metrics is None else metrics

    def add_group(self, name: str, extra: str | None = None) -> "Recorder":
        return Recorder(f"{self.prefix}{name}.{extra + '.' if extra else ''}", self.metrics)

    def counter(self, name: str) -> "Count":
        return self.metrics.setdefault(self.prefix + name, Count())

    def meter(self, name: str, time_span_in_seconds: int = 60) -> "Count":
        return self.metrics.setdefault(self.prefix + name, Count())

    def gauge(self, name: str, value) -> None:
        self.metrics[self.prefix + name] = value

    def values(self) -> dict:
        return {k: v() if callable(v) else v.count for k, v in self.metrics.items()}


class Count:
    def __init__(self):
        self.count = 0

    def inc(self, n: int = 1) -> None:
        self.count += n

    mark_event = inc


def test_reader_metrics():
    group = Recorder()
    metrics = ReaderMetrics(group)
    metrics.read(100)
    metrics.update(SourceProgress(False, tables=(SnapshotProgress("public.t", 100, 400, False),)))
    assert group.values() == {
        "paimon_cdc.records_read": 100, "paimon_cdc.records_read_per_second": 100, "paimon_cdc.phase": 0,
        "paimon_cdc.lag_bytes": -1, "paimon_cdc.lag_ms": -1,
        "paimon_cdc.table.public.t.snapshot_rows_read": 100, "paimon_cdc.table.public.t.snapshot_rows_estimated": 400}
    metrics.update(SourceProgress(True, 0, 0, (SnapshotProgress("public.t", 400, 400, True),)))
    values = group.values()
    assert values["paimon_cdc.phase"] == 1 and values["paimon_cdc.lag_bytes"] == 0
    assert values["paimon_cdc.table.public.t.snapshot_rows_read"] == 400


def test_writer_metrics_follow_totals():
    group = Recorder()
    metrics = WriterMetrics(group, interval_s=3600)
    metrics.update(lambda: WriteStats(rows_written=10, flushes=1, buffer_bytes=500, max_sorted_runs=2))
    metrics.update(lambda: WriteStats(rows_written=99))  # within the interval: not taken
    metrics.update(lambda: WriteStats(rows_written=30, flushes=2, spills=1, compactions=1, compaction_ms=7),
                   force=True)
    assert group.values() == {"paimon_cdc.rows_written": 30, "paimon_cdc.flushes": 2, "paimon_cdc.spills": 1,
                              "paimon_cdc.compactions": 1, "paimon_cdc.compaction_ms": 7,
                              "paimon_cdc.buffer_bytes": 0, "paimon_cdc.max_sorted_runs": 0}


def test_committer_metrics():
    group = Recorder()
    metrics = CommitterMetrics(group)
    metrics.committed([4, 5], {"db.a": 5}, 12)
    metrics.committed([2], {"db.a": 5, "db.b": 2}, 8)
    assert group.values() == {"paimon_cdc.commits": 3, "paimon_cdc.last_commit_latency_ms": 8,
                              "paimon_cdc.last_snapshot_id": 2, "paimon_cdc.table.db.a.last_snapshot_id": 5,
                              "paimon_cdc.table.db.b.last_snapshot_id": 2}
