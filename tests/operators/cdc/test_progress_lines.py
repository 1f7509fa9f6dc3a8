"""``ProgressLines``: a line per table being read every interval (rows, percent of the estimate,
rate since the last line, time left), a line when a table is done, nothing for tables not started;
and ``masked``: secret option values never shown."""

from __future__ import annotations

from operators.cdc.progress_lines import ProgressLines
from operators.cdc.source import SnapshotProgress, SourceProgress
from operators.cdc.sync_flags import masked


def sample(*tables: tuple) -> SourceProgress:
    return SourceProgress(False, tables=tuple(SnapshotProgress(*t) for t in tables))


def test_lines_every_interval_and_when_done():
    lines = ProgressLines(interval_s=5)
    assert lines.due(sample(("s.a", 0, 1000, False), ("s.b", 0, -1, False)), now=0) == []
    assert lines.due(sample(("s.a", 100, 1000, False), ("s.b", 0, -1, False)), now=1) == [
        "snapshot s.a: 100 of ~1,000 rows (10%), 100 rows/s, ~9 s left"]
    assert lines.due(sample(("s.a", 300, 1000, False), ("s.b", 0, -1, False)), now=3) == []
    assert lines.due(sample(("s.a", 600, 1000, False), ("s.b", 0, -1, False)), now=6) == [
        "snapshot s.a: 600 of ~1,000 rows (60%), 100 rows/s, ~4 s left"]
    assert lines.due(sample(("s.a", 1000, 1000, True), ("s.b", 10, -1, False)), now=7) == [
        "snapshot s.a: done, 1,000 rows in 7 s (143 rows/s)"]
    assert lines.due(sample(("s.a", 1000, 1000, True), ("s.b", 600, -1, False)), now=12) == [
        "snapshot s.b: 600 rows, 100 rows/s"]
    assert lines.due(sample(("s.a", 1000, 1000, True), ("s.b", 800, -1, True)), now=13) == [
        "snapshot s.b: done, 800 rows in 7 s (114 rows/s)"]
    assert lines.due(sample(("s.a", 1000, 1000, True), ("s.b", 800, -1, True)), now=20) == []


def test_an_estimate_too_low_shows_no_time_left():
    lines = ProgressLines()
    lines.due(sample(("s.a", 0, 100, False)), now=0)
    assert lines.due(sample(("s.a", 150, 100, False)), now=1) == ["snapshot s.a: 150 of ~100 rows (99%), 150 rows/s"]


def test_secret_values_are_masked():
    options = {"username": "u", "password": "p", "s3.secret-key": "s", "s3.access-key": "a", "bucket-key": "k"}
    assert masked(options) == {"username": "u", "password": "******", "s3.secret-key": "******",
                               "s3.access-key": "******", "bucket-key": "k"}
