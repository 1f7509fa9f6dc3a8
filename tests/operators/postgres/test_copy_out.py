"""``copy_out`` (a COPY drained in C on psycopg2's connection) against psycopg2's ``copy_expert``
on a real server: the same bytes, the server's errors as psycopg2's exception classes, and the
connection idle and usable after every outcome."""

from __future__ import annotations

import io
import threading

import psycopg2
import psycopg2.errors
import pyarrow as pa
import pytest

from operators.postgres.binary_copy import BYTES, CopyColumn, CopyColumns
from operators.postgres.copy_out import INITIAL_BYTES, copy_out
from operators.postgres.replication import SourceTable
from operators.postgres.snapshot_reader import SnapshotReader

pytestmark = pytest.mark.slow

ROWS = """
CREATE TABLE t (id int PRIMARY KEY, v text, n numeric, ts timestamptz);
INSERT INTO t SELECT g, CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'a "quoted", value'
    WHEN 3 THEN E'two\\nlines' ELSE 'é ' || repeat(md5(g::text), 3) END, g / 7.0, now()
    FROM generate_series(1, 60000) g;
"""


@pytest.fixture
def conn(postgres_server, database):
    connection = psycopg2.connect(postgres_server.dsn_for(database))
    connection.autocommit = True
    with connection.cursor() as cur:
        cur.execute(ROWS)
    yield connection
    connection.close()


def expert(conn, statement: str) -> bytes:
    buffer = io.BytesIO()
    with conn.cursor() as cur:
        cur.copy_expert(statement, buffer)
    return buffer.getvalue()


def still_usable(conn) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM t")
        assert cur.fetchone() == (60000,)


@pytest.mark.parametrize("form", ["csv", "text", "binary"])
def test_same_bytes_as_copy_expert(conn, form):
    statement = f"COPY (SELECT * FROM t ORDER BY id) TO STDOUT WITH (FORMAT {form})"
    data = copy_out(conn, statement)
    assert data.size > 2 * INITIAL_BYTES  # the buffer grew
    assert data.to_pybytes() == expert(conn, statement)
    still_usable(conn)


def test_no_rows_is_an_empty_buffer(conn):
    assert copy_out(conn, "COPY (SELECT * FROM t WHERE id < 0) TO STDOUT WITH (FORMAT csv)").size == 0
    still_usable(conn)


def test_inside_a_transaction_the_snapshot_holds(conn, postgres_server, database):
    with conn.cursor() as cur:
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        cur.execute("SELECT 1")
    other = psycopg2.connect(postgres_server.dsn_for(database))
    with other, other.cursor() as cur:
        cur.execute("DELETE FROM t WHERE id > 10")
    other.close()
    assert copy_out(conn, "COPY (SELECT id FROM t) TO STDOUT").to_pybytes().count(b"\n") == 60000
    with conn.cursor() as cur:
        cur.execute("COMMIT")
    assert copy_out(conn, "COPY (SELECT id FROM t) TO STDOUT").to_pybytes().count(b"\n") == 10


def test_a_query_error_raises_its_class(conn):
    with pytest.raises(psycopg2.errors.UndefinedTable, match='relation "missing" does not exist'):
        copy_out(conn, "COPY (SELECT * FROM missing) TO STDOUT")
    still_usable(conn)


def test_an_error_after_rows_were_sent_raises(conn):
    with pytest.raises(psycopg2.errors.DivisionByZero):
        copy_out(conn, "COPY (SELECT 1 / (g - 50000) FROM generate_series(1, 60000) g) TO STDOUT")
    still_usable(conn)


def test_a_copy_cancelled_from_another_thread_raises(conn):
    threading.Timer(0.5, conn.cancel).start()
    with pytest.raises(psycopg2.errors.QueryCanceled):
        copy_out(conn, "COPY (SELECT pg_sleep(30)) TO STDOUT")
    still_usable(conn)


def test_a_lost_connection_raises_operational_error(conn, postgres_server, database):
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    killer = psycopg2.connect(postgres_server.dsn_for(database))
    killer.autocommit = True
    threading.Timer(0.5, lambda: killer.cursor().execute("SELECT pg_terminate_backend(%s)", (pid,))).start()
    try:
        with pytest.raises(psycopg2.OperationalError):
            copy_out(conn, "COPY (SELECT pg_sleep(30)) TO STDOUT")
    finally:
        threading.Event().wait(0.6)
        killer.close()


def test_closing_a_reader_cancels_its_copy_under_way(postgres_server, database, conn):
    """A step read ahead may still copy when its source closes: the connection is not freed
    under the drain (which would crash the process); the copy is cancelled, then it is closed."""
    exporter = psycopg2.connect(postgres_server.dsn_for(database))
    with exporter.cursor() as cur:
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        cur.execute("SELECT pg_export_snapshot()")
        name = cur.fetchone()[0]
    reader_conn = psycopg2.connect(postgres_server.dsn_for(database))
    reader_conn.autocommit = True
    reader = SnapshotReader(reader_conn, name)
    table = SourceTable("public", "t", 0, (), ("id",), "d")
    columns = CopyColumns((CopyColumn("x", BYTES, pa.string(), True),))
    failures = []

    def copy():
        try:
            reader._copy("FROM (SELECT pg_sleep(30)::text AS x) s", [], table, columns)
        except Exception as e:  # noqa: BLE001 - inspected below
            failures.append(e)

    copying = threading.Thread(target=copy)
    copying.start()
    threading.Event().wait(0.5)
    reader.close()
    copying.join(10)
    exporter.close()
    assert not copying.is_alive() and reader_conn.closed
    assert [type(e) for e in failures] == [psycopg2.errors.QueryCanceled]
