"""``BinlogStream`` against a real MariaDB: transactions, statements, filters, resume, reconnects,
heartbeats, and the server settings it refuses."""

from __future__ import annotations

import time

import pytest

from operators.cdc.errors import SourceNotReady
from operators.mysql.binlog import stream as stream_module
from operators.mysql.binlog.transaction import BinlogPosition, Statement
from operators.mysql.local_server import LocalMariaDB
from tests.support.binlog import drain, position, rows_of, stream

pytestmark = pytest.mark.slow


def run(server, database, *statements):
    conn = server.connect(database)
    with conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)
    conn.close()


def ids(transactions, image="after"):
    return [r["id"] for r in rows_of(transactions, image)]


def test_changes_arrive_as_whole_transactions(mariadb_server, mysql_database):
    db = mysql_database
    run(mariadb_server, db, "CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(10))",
        "CREATE TABLE b (id INT PRIMARY KEY, n BIGINT)")
    start = position(mariadb_server)
    run(mariadb_server, db, "INSERT INTO a VALUES (1, 'x'), (2, 'y')",
        "BEGIN", "INSERT INTO a VALUES (3, 'z')", "INSERT INTO b VALUES (10, 1)", "UPDATE a SET v = 'w' WHERE id = 1",
        "COMMIT",
        "BEGIN", "INSERT INTO a VALUES (99, 'gone')", "ROLLBACK",
        "DELETE FROM a WHERE id = 2",
        "INSERT INTO b SELECT seq, seq FROM seq_100_to_20099")
    s = stream(mariadb_server, start, db)
    got = drain(s)
    s.close()
    assert [len(t.changes) for t in got] == [1, 3, 1, 1]
    assert [(c.table.name, c.kind, len(c)) for c in got[1].changes] == [("a", "insert", 1), ("b", "insert", 1),
                                                                        ("a", "update", 1)]
    assert rows_of([got[1]], "before") == [{"id": 1, "v": "x"}]
    assert rows_of([got[2]], "before") == [{"id": 2, "v": "y"}] and got[2].changes[0].after is None
    big = got[3].changes[0]
    assert big.kind == "insert" and len(big) == 20000 and big.after[0].to_pylist() == list(range(100, 20100))
    assert 99 not in ids(got)
    assert all(t.gtid and t.timestamp_ms > 1e12 for t in got)
    assert got[-1].end == s.position and s.position.gtid == got[-1].gtid


def test_max_rows_never_splits_a_transaction(mariadb_server, mysql_database):
    run(mariadb_server, mysql_database, "CREATE TABLE t (id INT PRIMARY KEY)")
    start = position(mariadb_server)
    run(mariadb_server, mysql_database, "INSERT INTO t SELECT seq FROM seq_1_to_5000",
        "INSERT INTO t SELECT seq FROM seq_5001_to_6000")
    s = stream(mariadb_server, start, mysql_database)
    first = s.poll(10, 2.0)
    second = s.poll(10, 2.0)
    s.close()
    assert [len(t.changes[0]) for t in first] == [5000] and [len(t.changes[0]) for t in second] == [1000]


def test_ddl_arrives_as_statements_and_the_next_table_map_has_the_new_column(mariadb_server, mysql_database):
    db = mysql_database
    start = position(mariadb_server)
    run(mariadb_server, db, "CREATE TABLE t (id INT PRIMARY KEY, a INT)", "INSERT INTO t VALUES (1, 1)",
        "ALTER TABLE t ADD COLUMN c VARCHAR(5) AFTER id", "INSERT INTO t VALUES (2, 'new', 2)")
    s = stream(mariadb_server, start, db)
    got = drain(s)
    s.close()
    statements = [c for t in got for c in t.changes if isinstance(c, Statement)]
    assert [st.sql.split()[0] for st in statements] == ["CREATE", "ALTER"] and statements[0].schema == db
    assert rows_of(got) == [{"id": 1, "a": 1}, {"id": 2, "c": "new", "a": 2}]


def test_table_filter_skips_other_tables_but_position_moves(mariadb_server, mysql_database):
    db = mysql_database
    run(mariadb_server, db, "CREATE TABLE keep (id INT PRIMARY KEY)", "CREATE TABLE skip (id INT PRIMARY KEY)")
    start = position(mariadb_server)
    run(mariadb_server, db, "INSERT INTO keep VALUES (1)", "INSERT INTO skip VALUES (2)")
    end = position(mariadb_server)
    s = stream(mariadb_server, start, table_filter=lambda d, t: d == db and t == "keep")
    got = drain(s)
    s.close()
    assert ids(got) == [1] and len(got) == 1
    assert (s.position.file, s.position.pos, s.position.gtid) == (end.file, end.pos, end.gtid)


@pytest.mark.parametrize("mode", ["gtid", "file_pos"])
def test_resume_from_a_returned_end_gives_exactly_the_next_transactions(mariadb_server, mysql_database, mode):
    run(mariadb_server, mysql_database, "CREATE TABLE t (id INT PRIMARY KEY)")
    start = position(mariadb_server)
    run(mariadb_server, mysql_database, *[f"INSERT INTO t VALUES ({i})" for i in range(1, 7)])
    s = stream(mariadb_server, start, mysql_database)
    first = drain(s)
    s.close()
    end = first[2].end
    resume = end if mode == "gtid" else BinlogPosition(end.file, end.pos)
    s = stream(mariadb_server, resume, mysql_database)
    rest = drain(s)
    s.close()
    assert ids(first) == [1, 2, 3, 4, 5, 6] and ids(rest) == [4, 5, 6]
    assert [t.gtid for t in rest] == [t.gtid for t in first[3:]]


def _dump_threads(server):
    return [row[0] for row in server.execute("SHOW PROCESSLIST") if row[4] == "Binlog Dump"]


def test_killed_dump_thread_reconnects_without_duplicates_or_loss(mariadb_server, mysql_database):
    run(mariadb_server, mysql_database, "CREATE TABLE t (id INT PRIMARY KEY)")
    start = position(mariadb_server)
    s = stream(mariadb_server, start, mysql_database)
    seen = []
    for batch in range(4):
        run(mariadb_server, mysql_database, *[f"INSERT INTO t VALUES ({batch * 10 + i})" for i in range(10)])
        seen += ids(s.poll(3, 1.0))  # leaves transactions unread when the thread dies
        for thread in _dump_threads(mariadb_server):
            mariadb_server.execute(f"KILL {thread}")
    seen += ids(drain(s, polls=20, wait_s=0.5))
    s.close()
    assert s.reconnects >= 2
    assert seen == list(range(40))


def test_server_restart_reconnects_without_duplicates_or_loss():
    with LocalMariaDB() as server:
        run(server, None, "CREATE DATABASE r", "CREATE TABLE r.t (id INT PRIMARY KEY)")
        start = position(server)
        s = stream(server, start, "r", connect_timeout=60)
        run(server, "r", *[f"INSERT INTO t VALUES ({i})" for i in range(5)])
        seen = ids(s.poll(2, 1.0))
        server.restart()
        run(server, "r", *[f"INSERT INTO t VALUES ({i})" for i in range(5, 10)])
        seen += ids(drain(s, polls=30, wait_s=0.5))
        s.close()
    assert s.reconnects >= 1 and seen == list(range(10))


def test_heartbeats_advance_the_position_while_idle(mariadb_server):
    start = position(mariadb_server)
    s = stream(mariadb_server, start, table_filter=lambda d, t: False, heartbeat_ms=200)
    mariadb_server.execute("FLUSH BINARY LOGS")  # a new file whose first events end no transaction
    # The server writes the new file's binlog checkpoint event in the background, after the flush
    # returns: poll until a heartbeat carries the stream to the server's end, as read each time.
    deadline = time.monotonic() + 10
    now = position(mariadb_server)
    while (s.position.file, s.position.pos) != (now.file, now.pos) and time.monotonic() < deadline:
        assert s.poll(100, 0.3) == []  # nothing captured: only heartbeats move the position
        now = position(mariadb_server)
    s.close()
    assert now.file != start.file and now.pos > 4
    assert (s.position.file, s.position.pos, s.position.gtid) == (now.file, now.pos, start.gtid)


def test_minimal_row_metadata_is_refused():
    with LocalMariaDB(settings={"binlog-row-metadata": "MINIMAL"}) as server:
        run(server, None, "CREATE DATABASE m", "CREATE TABLE m.t (id INT PRIMARY KEY)")
        start = position(server)
        run(server, "m", "INSERT INTO t VALUES (1)")
        s = stream(server, start, "m")
        with pytest.raises(SourceNotReady, match="binlog_row_metadata=FULL"):
            s.poll(100, 1.0)
        s.close()


def test_compressed_binlog_is_refused():
    """A private server: compressed events must not stay in the session server's binlog, which
    later tests read from old positions."""
    with LocalMariaDB(settings={"log-bin-compress": "ON"}) as server:
        run(server, None, "CREATE DATABASE m", "CREATE TABLE m.t (id INT PRIMARY KEY, v TEXT)")
        start = position(server)
        run(server, "m", "INSERT INTO t VALUES (1, REPEAT('x', 1000))")
        s = stream(server, start, "m")
        with pytest.raises(SourceNotReady, match="log_bin_compress=OFF"):
            s.poll(100, 1.0)
        s.close()


def test_purged_position_is_refused_with_the_fix(mariadb_server):
    s = stream(mariadb_server, BinlogPosition("binlog.999999", 4))
    with pytest.raises(SourceNotReady, match="purged"):
        s.poll(100, 1.0)
    s.close()


def _wide_rows(server, database, rows):
    run(server, database, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(200))")
    start = position(server)
    run(server, database, f"INSERT INTO t SELECT seq, REPEAT('v', 200) FROM seq_1_to_{rows}",
        "INSERT INTO t VALUES (0, 'after')")
    return start


def test_a_large_transaction_comes_in_parts_and_the_position_moves_at_its_end(mariadb_server, mysql_database,
                                                                                 monkeypatch):
    monkeypatch.setattr(stream_module, "PART_ROWS", 1000)
    start = _wide_rows(mariadb_server, mysql_database, 5000)
    s = stream(mariadb_server, start, mysql_database)
    got, held = [], set()
    while not got or not got[-1].changes or len(got[-1].changes[0]) != 1:
        got += s.poll(1, 1.0)
        if s.mid_transaction:
            held.add(s.position)
    s.close()
    parts = [t for t in got if not t.complete]
    assert len(parts) >= 4 and all(sum(len(c) for c in p.changes) >= 1000 for p in parts)
    assert ids(got) == [*range(1, 5001), 0]
    assert held == {start} and s.position == got[-1].end
    assert len({t.gtid for t in got[:-1]}) == 1 and all(p.end.file_pos() < got[-2].end.file_pos() for p in parts)
    assert got[-2].complete and not got[-3].complete  # the end comes, with whatever changes are left


def test_a_reconnect_inside_a_transaction_drops_the_parts_already_returned(mariadb_server, mysql_database,
                                                                           monkeypatch):
    monkeypatch.setattr(stream_module, "PART_ROWS", 1000)
    rows = 100_000  # 20 MB, over twice what the socket buffers took (7.5 MB): the kill lands inside it
    start = _wide_rows(mariadb_server, mysql_database, rows)
    s = stream(mariadb_server, start, mysql_database, prefetch_bytes=64 << 10)
    got = s.poll(1, 2.0)
    assert s.mid_transaction
    for thread in _dump_threads(mariadb_server):
        mariadb_server.execute(f"KILL {thread}")
    got += drain(s, polls=200, wait_s=0.5)
    s.close()
    assert s.reconnects >= 1
    assert ids(got) == [*range(1, rows + 1), 0]
