"""``scan.startup.mode`` on the MySQL source, driven without Flink (``MySqlChangeSource``): which
rows each mode hands over from a table whose history is known. ``initial`` and ``snapshot`` are
covered by the job tests and the source contract suite. A private server: ``earliest-offset``
reads its whole binlog, which on the session's server holds every earlier test's changes."""

from __future__ import annotations

import time

import pytest

from operators.cdc.change_batch import ChangeBatch
from operators.cdc.targets import database_targets
from operators.mysql.binlog import stream as binlog_stream
from operators.mysql.binlog.server_position import binary_logs, current_position
from operators.mysql.change_source import MySqlChangeSource, MySqlSourceFactory
from operators.mysql.local_server import LocalMariaDB
from operators.mysql.source_config import MySqlSourceConfig, TypeMapping

pytestmark = pytest.mark.slow


def _source(server, database: str, **options: str) -> MySqlChangeSource:
    config = MySqlSourceConfig.parse({**server.conf(database), "table-name": "t", **options}, True)
    factory = MySqlSourceFactory(config, database_targets("lake", "", "", {}), TypeMapping())
    source = factory.open(None, "startup-test")
    source.start()
    return source


def _ids(server, source: MySqlChangeSource) -> list[int]:
    """The ids of every +I row the source hands over until it reaches the binlog's end."""
    conn = server.connect()
    try:
        end = current_position(conn).file_pos()
    finally:
        conn.close()
    ids = []
    deadline = time.monotonic() + 120
    try:
        while source.binlog.file_pos() < end or not ids:
            assert time.monotonic() < deadline, f"the source stayed at {source.binlog}"
            for event in source.step(0.05):
                if isinstance(event, ChangeBatch):
                    rows = event.rows().to_pylist()
                    ids += [r["id"] for r in rows if r["_row_kind"] == 0]
    finally:
        source.close()
    return sorted(ids)


def _insert(server, database: str, first: int, last: int) -> None:
    server.execute(f"INSERT INTO t SELECT seq, 'v' FROM seq_{first}_to_{last}", database=database)


@pytest.fixture
def server():
    with LocalMariaDB() as private:
        private.execute("CREATE DATABASE shop")
        yield private


def test_stream_only_modes_start_where_they_say(server):
    database = "shop"
    server.execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)", database=database)
    _insert(server, database, 1, 10)
    conn = server.connect()
    try:
        middle = current_position(conn)
    finally:
        conn.close()
    time.sleep(1.1)  # a later second for the timestamp mode
    after_ms = int(time.time() * 1000)
    _insert(server, database, 11, 20)

    latest = _source(server, database, **{"scan.startup.mode": "latest-offset"})
    _insert(server, database, 21, 25)
    assert _ids(server, latest) == list(range(21, 26))

    specific = _source(server, database, **{"scan.startup.mode": "specific-offset",
                                            "scan.startup.specific-offset.file": middle.file,
                                            "scan.startup.specific-offset.pos": str(middle.pos)})
    assert _ids(server, specific) == list(range(11, 26))

    by_gtid = _source(server, database, **{"scan.startup.mode": "specific-offset",
                                           "scan.startup.specific-offset.gtid-set": middle.gtid})
    assert _ids(server, by_gtid) == list(range(11, 26))

    since = _source(server, database, **{"scan.startup.mode": "timestamp",
                                         "scan.startup.timestamp-millis": str(after_ms)})
    assert _ids(server, since) == list(range(11, 26))

    earliest = _source(server, database, **{"scan.startup.mode": "earliest-offset"})
    assert set(range(1, 26)) <= set(_ids(server, earliest))


def test_timestamp_mode_starts_in_the_newest_binlog_begun_before_the_time(server):
    """Four binlogs; the start time falls inside the second one: the source starts there (found by
    probing the files' first events, not by reading from the oldest) and hands over what follows."""
    database = "shop"
    server.execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)", database=database)
    _insert(server, database, 1, 10)
    server.execute("FLUSH BINARY LOGS")
    _insert(server, database, 11, 20)
    time.sleep(1.1)
    after_ms = int(time.time() * 1000)
    _insert(server, database, 21, 30)
    time.sleep(1.1)
    server.execute("FLUSH BINARY LOGS")
    _insert(server, database, 31, 35)
    server.execute("FLUSH BINARY LOGS")
    _insert(server, database, 36, 40)
    conn = server.connect()
    try:
        files = [name for name, _ in binary_logs(conn)]
    finally:
        conn.close()
    since = _source(server, database, **{"scan.startup.mode": "timestamp",
                                         "scan.startup.timestamp-millis": str(after_ms)})
    assert (since.binlog.file, since.binlog.pos) == (files[-3], 4)
    assert since.binlog.gtid  # MariaDB: the GTID state where that file begins
    assert _ids(server, since) == list(range(21, 41))


def test_timestamp_mode_keeps_or_drops_a_transaction_in_parts_whole(server, monkeypatch):
    """A transaction handed over in parts whose first statement ran before the start time and its
    last after: decided by its first part, never cut (before: the early parts dropped, the rest
    kept)."""
    monkeypatch.setattr(binlog_stream, "PART_ROWS", 100)
    database = "shop"
    server.execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)", database=database)
    _insert(server, database, 1, 10)
    conn = server.connect(database)
    try:
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("INSERT INTO t SELECT seq, 'v' FROM seq_11_to_510")
            time.sleep(1.1)
            after_ms = int(time.time() * 1000)
            time.sleep(0.1)
            cur.execute("INSERT INTO t SELECT seq, 'v' FROM seq_511_to_1010")
            cur.execute("COMMIT")
    finally:
        conn.close()
    time.sleep(1.1)
    _insert(server, database, 1011, 1020)
    since = _source(server, database, **{"scan.startup.mode": "timestamp",
                                         "scan.startup.timestamp-millis": str(after_ms)})
    assert _ids(server, since) == list(range(1011, 1021))
