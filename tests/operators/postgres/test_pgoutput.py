"""``operators.postgres.pgoutput`` against a real PostgreSQL: the messages of a temporary
pgoutput slot (protocol version 1) for inserts, updates and deletes under both replica
identities, truncate, unchanged TOASTed values, ALTER TABLE, enum types and logical messages.
"""

from __future__ import annotations

import time

import pytest

from operators.postgres import pgoutput
from operators.postgres.local_server import LocalPostgres
from operators.postgres.pgoutput import UNCHANGED_TOAST
from tests.support.postgres import change_stream, fresh_database

pytestmark = pytest.mark.slow  # a PostgreSQL server

DATABASE = "pgoutput"


@pytest.fixture(scope="module")
def server(postgres_server):
    """The session's server once this module's database exists, with publication ``pub`` for all
    its tables (the tests run their SQL in that database)."""
    with fresh_database(postgres_server, DATABASE):
        postgres_server.execute("CREATE PUBLICATION pub FOR ALL TABLES", database=DATABASE)
        yield postgres_server


def changes(transaction: list) -> list:
    """The row changes of a transaction (no Begin, Commit, Relation or Type)."""
    kinds = (pgoutput.Insert, pgoutput.Update, pgoutput.Delete, pgoutput.Truncate)
    return [m for m in transaction if isinstance(m, kinds)]


def table_oid(server: LocalPostgres, name: str) -> int:
    return server.execute("SELECT %s::regclass::oid", (name,), database=DATABASE)[0][0]


def test_insert_relation_begin_commit(server):
    server.execute("CREATE TABLE t_insert (id int PRIMARY KEY, name varchar(10), note text)", database=DATABASE)
    with change_stream(server, database=DATABASE) as stream:
        before_us = time.time_ns() // 1000
        server.execute("INSERT INTO t_insert VALUES (1, 'a', NULL), (2, '', 'x y')", database=DATABASE)
        (tx,) = stream.transactions(1)
    begin, relation, first, second, commit = tx
    assert isinstance(begin, pgoutput.Begin) and isinstance(commit, pgoutput.Commit)
    assert begin.final_lsn == commit.commit_lsn < commit.end_lsn
    assert begin.commit_time_us == commit.commit_time_us
    assert abs(commit.commit_time_us - before_us) < 60_000_000  # Unix epoch, not 2000-01-01
    assert begin.xid > 0
    assert relation == pgoutput.Relation(table_oid(server, "t_insert"), "public", "t_insert", "d", [
        pgoutput.RelationColumn("id", 23, -1, True),
        pgoutput.RelationColumn("name", 1043, 14, False),
        pgoutput.RelationColumn("note", 25, -1, False)])
    assert first == pgoutput.Insert(relation.oid, ["1", "a", None])
    assert second == pgoutput.Insert(relation.oid, ["2", "", "x y"])


def test_update_delete_with_replica_identity_default_and_full(server):
    server.execute("CREATE TABLE t_identity (id int PRIMARY KEY, v text, w int)", database=DATABASE)
    server.execute("INSERT INTO t_identity VALUES (1, 'one', 10), (2, 'two', 20)", database=DATABASE)
    oid = table_oid(server, "t_identity")
    with change_stream(server, database=DATABASE) as stream:
        server.execute("UPDATE t_identity SET v = 'uno' WHERE id = 1", database=DATABASE)
        server.execute("UPDATE t_identity SET id = 3 WHERE id = 2", database=DATABASE)
        server.execute("DELETE FROM t_identity WHERE id = 3", database=DATABASE)
        server.execute("ALTER TABLE t_identity REPLICA IDENTITY FULL", database=DATABASE)
        server.execute("UPDATE t_identity SET w = NULL WHERE id = 1", database=DATABASE)
        server.execute("DELETE FROM t_identity WHERE id = 1", database=DATABASE)
        txs = [changes(tx) for tx in stream.transactions(5)]
    assert txs == [
        [pgoutput.Update(oid, None, None, ["1", "uno", "10"])],
        [pgoutput.Update(oid, ["2", None, None], "K", ["3", "two", "20"])],
        [pgoutput.Delete(oid, ["3", None, None], "K")],
        [pgoutput.Update(oid, ["1", "uno", "10"], "O", ["1", "uno", None])],
        [pgoutput.Delete(oid, ["1", "uno", None], "O")],
    ]


def test_truncate(server):
    server.execute("CREATE TABLE t_trunc_a (id serial PRIMARY KEY)", database=DATABASE)
    server.execute("CREATE TABLE t_trunc_b (id int PRIMARY KEY)", database=DATABASE)
    with change_stream(server, database=DATABASE) as stream:
        server.execute("TRUNCATE t_trunc_a, t_trunc_b RESTART IDENTITY CASCADE", database=DATABASE)
        server.execute("TRUNCATE t_trunc_b", database=DATABASE)
        first, second = (changes(tx) for tx in stream.transactions(2))
    a, b = table_oid(server, "t_trunc_a"), table_oid(server, "t_trunc_b")
    assert first == [pgoutput.Truncate([a, b], cascade=True, restart_identity=True)]
    assert second == [pgoutput.Truncate([b], cascade=False, restart_identity=False)]


def test_unchanged_toast_value(server):
    server.execute("CREATE TABLE t_toast (id int PRIMARY KEY, big text, n int)", database=DATABASE)
    # md5 hex does not compress well enough to stay inline: stored out of line (TOASTed)
    server.execute("INSERT INTO t_toast SELECT 1, string_agg(md5(i::text), ''), 0 FROM generate_series(1, 200) i",
                   database=DATABASE)
    big = server.execute("SELECT big FROM t_toast", database=DATABASE)[0][0]
    assert len(big) > 2048
    with change_stream(server, database=DATABASE) as stream:
        server.execute("UPDATE t_toast SET n = 1", database=DATABASE)
        server.execute("UPDATE t_toast SET big = big || 'x', n = 2", database=DATABASE)
        server.execute("ALTER TABLE t_toast REPLICA IDENTITY FULL", database=DATABASE)
        server.execute("UPDATE t_toast SET n = 3", database=DATABASE)
        txs = [changes(tx)[0] for tx in stream.transactions(3)]
    assert txs[0].new == ["1", UNCHANGED_TOAST, "1"]
    assert txs[1].new == ["1", big + "x", "2"]
    assert txs[2].old == ["1", big + "x", "2"] and txs[2].old_kind == "O"
    assert txs[2].new == ["1", UNCHANGED_TOAST, "3"]
    assert repr(UNCHANGED_TOAST) == "UNCHANGED_TOAST"


def test_relation_after_add_column_and_type_message(server):
    server.execute("CREATE TYPE colour AS ENUM ('red', 'green')", database=DATABASE)
    server.execute("CREATE TABLE t_alter (id int PRIMARY KEY)", database=DATABASE)
    with change_stream(server, database=DATABASE) as stream:
        server.execute("INSERT INTO t_alter VALUES (1)", database=DATABASE)
        server.execute("ALTER TABLE t_alter ADD COLUMN c colour, ADD COLUMN amount numeric(12, 3)", database=DATABASE)
        server.execute("INSERT INTO t_alter VALUES (2, 'green', -1.5)", database=DATABASE)
        first, second = stream.transactions(2)
    colour = server.execute("SELECT 'colour'::regtype::oid", database=DATABASE)[0][0]
    assert [c.name for c in first[1].columns] == ["id"]
    type_info, relation, insert = second[1:4]
    assert type_info == pgoutput.TypeInfo(colour, "public", "colour")
    assert relation.columns[1:] == [pgoutput.RelationColumn("c", colour, -1, False),
                                    pgoutput.RelationColumn("amount", 1700, (12 << 16) + 3 + 4, False)]
    assert insert.new == ["2", "green", "-1.500"]


def test_logical_message(server):
    with change_stream(server, messages=True, database=DATABASE) as stream:
        server.execute("SELECT pg_logical_emit_message(true, 'pfx', 'hello'::bytea)", database=DATABASE)
        (tx,) = stream.transactions(1)
    (message,) = [m for m in tx if isinstance(m, pgoutput.LogicalMessage)]
    assert message.transactional and message.prefix == "pfx" and message.content == b"hello"
    assert message.lsn > 0


def test_unknown_and_malformed_messages():
    with pytest.raises(ValueError, match="unknown pgoutput message type b'S'"):
        pgoutput.decode(b"S\x00\x00\x00\x01\x01")
    with pytest.raises(ValueError, match="truncated pgoutput b'B' message"):
        pgoutput.decode(b"B\x00\x00")
    with pytest.raises(ValueError, match="truncated pgoutput b'I' message"):
        pgoutput.decode(b"I\x00\x00\x00\x01N\x00\x02t\x00\x00\x00\x01a")
    with pytest.raises(ValueError, match="binary values"):
        pgoutput.decode(b"I\x00\x00\x00\x01N\x00\x01b\x00\x00\x00\x00")
