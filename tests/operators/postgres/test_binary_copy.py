"""``binary_copy`` and the snapshot reader's binary COPY against a real PostgreSQL: every supported
column type read column by column equals the expected values, the types the decoder takes arrive
typed, random values of each decoded type equal what the text path (CSV + text converters) makes
of the same rows, values the decoder does not take go the text path (rounded, or refused with its
error), keys come back as text, and a database not in UTF-8 is read as CSV.
"""

from __future__ import annotations

import decimal

import psycopg2
import pyarrow as pa
import pytest

from operators.postgres import binary_copy
from operators.postgres.copy_out import copy_out
from operators.postgres.replication import SESSION_OPTIONS, SourceTable
from operators.postgres.snapshot_reader import SnapshotReader, parse_csv
from operators.postgres.types import TypeRegistry, text_column_to_arrow
from paimon_py.types import to_arrow_type
from tests.support.postgres_snapshot import exported, mapping_of, read_all, reader_of, source_table
from tests.support.postgres_type_cases import COLUMNS, assert_same

pytestmark = pytest.mark.slow  # a PostgreSQL server

NATIVE = {"c_bool", "c_int2", "c_int4", "c_int8", "c_serial", "c_bigserial", "c_float4", "c_float8", "c_num",
          "c_char", "c_char1", "c_varchar", "c_varchar_free", "c_text", "c_bytea", "c_date", "c_ts", "c_ts0",
          "c_tstz", "c_tstz3", "c_domain_text", "c_domain_num"}
"""The columns of ``COLUMNS`` whose values the decoder takes (the others are read ``::text``)."""


@pytest.fixture
def dsn(postgres_server, database) -> str:
    return postgres_server.dsn_for(database)


@pytest.fixture
def conn(dsn):
    connection = psycopg2.connect(dsn, options=SESSION_OPTIONS)
    connection.autocommit = True
    with connection.cursor() as cur:
        cur.execute("CREATE TYPE mood AS ENUM ('happy', 'so so')")
        cur.execute("CREATE DOMAIN short_text AS varchar(8)")
        cur.execute("CREATE DOMAIN price AS numeric(6, 2) CHECK (VALUE >= 0)")
    yield connection
    connection.close()


def test_every_type_column_by_column(conn, dsn):
    """Each column read alone (a value that needs the text path sends only its own column there)."""
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE all_types (id int PRIMARY KEY, "
                    + ", ".join(f"{c.name} {c.sql_type}" for c in COLUMNS) + ")")
        for row in range(3):
            literals = [c.literals[row] if row < len(c.literals) else "NULL" for c in COLUMNS]
            cur.execute(f"INSERT INTO all_types VALUES ({row + 1}, {', '.join(literals)})")
    reader = reader_of(dsn)
    whole = source_table(conn, "all_types")
    try:
        for i, col in enumerate(COLUMNS, start=1):
            table = SourceTable("public", "all_types", whole.oid, (whole.columns[0], whole.columns[i]), ("id",), "d")
            mapping = mapping_of(conn, table)
            (rows,) = read_all(reader, table, mapping)
            if col.name in NATIVE:
                assert rows.column(1).type == to_arrow_type(col.paimon), col.name
            elif col.name != "c_num_free":
                assert mapping.copy_columns.columns[1].as_text, col.name
            assert_same(mapping.batch_from_snapshot(rows).rows().column(col.name).combine_chunks(), col)
    finally:
        reader.close()


def test_to_string_is_postgres_text(conn, dsn):
    with conn.cursor() as cur:
        cur.execute("CREATE TYPE pair AS (a int, b text)")
        cur.execute("CREATE TABLE t (id int PRIMARY KEY, i int8, n numeric(8,3), ts timestamptz, b bytea, f float8,"
                    " o bool, c char(4), a inet, p pair)")
        cur.execute("INSERT INTO t VALUES (1, -5, 12.5, '2020-01-01 10:00+02', '\\x00ff', 0.1, true, 'ab', '10.0.0.1',"
                    " ROW(NULL, NULL)), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
        expected = [["1", "-5", "12.500", "2020-01-01 08:00:00+00", "\\x00ff", "0.1", "t", "ab  ", "10.0.0.1", "(,)"],
                    ["2", None, None, None, None, None, None, None, None, None]]
    table = source_table(conn, "t")
    mapping = mapping_of(conn, table, to_string=True)
    assert [c.name for c in mapping.copy_columns.columns if not c.as_text] == ["c"]  # char(n): its bytes are its text
    reader = reader_of(dsn)
    try:
        (rows,) = read_all(reader, table, mapping)
    finally:
        reader.close()
    assert [list(r.values()) for r in mapping.batch_from_snapshot(rows).rows().drop_columns(["_row_kind"]).to_pylist()] \
        == expected


RANDOM_TABLE = """
CREATE TABLE r (id int PRIMARY KEY, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, b bool, t text, c char(3),
                n numeric(20, 4), n0 numeric(38, 0), nf numeric, ts timestamp, ts3 timestamp(3), tz timestamptz,
                d date, y bytea);
INSERT INTO r SELECT g,
  CASE WHEN g % 11 = 0 THEN NULL ELSE (random() * 65535 - 32768)::int END,
  CASE WHEN g % 13 = 0 THEN NULL ELSE (random() * 4294967295 - 2147483648)::bigint END,
  CASE WHEN g % 17 = 0 THEN NULL ELSE ((random() - 0.5) * 9.2e18)::bigint END,
  CASE WHEN g % 19 = 0 THEN NULL ELSE ((random() - 0.5) * 1e6)::float4 END,
  CASE WHEN g % 23 = 0 THEN NULL ELSE (random() - 0.5) * exp(random() * 200 - 100) END,
  CASE WHEN g % 29 = 0 THEN NULL ELSE random() < 0.5 END,
  CASE WHEN g % 31 = 0 THEN NULL WHEN g % 7 = 0 THEN '' ELSE repeat(chr(32 + (g % 2000)), g % 9) || md5(g::text) END,
  CASE WHEN g % 37 = 0 THEN NULL ELSE chr(65 + g % 26) END,
  CASE WHEN g % 41 = 0 THEN NULL ELSE ((random() - 0.5) * 10 ^ (random() * 16))::numeric(20, 4) END,
  CASE WHEN g % 43 = 0 THEN NULL ELSE (random() * 10 ^ 37)::numeric(38, 0) * sign(random() - 0.5) END,
  CASE WHEN g % 47 = 0 THEN NULL ELSE round(((random() - 0.5) * 10 ^ (random() * 19))::numeric, (g % 19)) END,
  CASE WHEN g % 53 = 0 THEN NULL ELSE TIMESTAMP '0100-01-01' + random() * INTERVAL '3000000 days' END,
  CASE WHEN g % 59 = 0 THEN NULL ELSE (TIMESTAMP '1900-01-01' + random() * INTERVAL '80000 days')::timestamp(3) END,
  CASE WHEN g % 61 = 0 THEN NULL ELSE TIMESTAMPTZ '1800-01-01 00:00+00' + random() * INTERVAL '100000 days' END,
  CASE WHEN g % 67 = 0 THEN NULL ELSE DATE '0001-01-01' + (random() * 3000000)::int END,
  CASE WHEN g % 71 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END
FROM generate_series(1, 20000) g;
"""


def test_random_values_equal_the_text_path(conn, dsn):
    """The decoder's columns against the CSV + text converters on the same rows (NULLs, the
    whole value ranges, numerics of every scale up to 38 digits, dates and timestamps BC)."""
    with conn.cursor() as cur:
        cur.execute(RANDOM_TABLE)
        cur.execute("UPDATE r SET ts = ts - INTERVAL '2000 years', d = d - 800000 WHERE id % 5 = 0")  # BC
    table = source_table(conn, "r")
    mapping = mapping_of(conn, table)
    assert not any(c.as_text for c in mapping.copy_columns.columns)
    reader = reader_of(dsn)
    try:
        binary = pa.concat_tables(read_all(reader, table, mapping, chunk=7000))
        assert binary.num_rows == 20000 and all(binary.column(i).type != pa.string() or
                                                   to_arrow_type(mapping.data_types[i]) == pa.string()
                                                   for i in range(binary.num_columns))
        text = parse_csv(copy_out(reader.conn, "COPY (SELECT * FROM r ORDER BY id) TO STDOUT WITH (FORMAT csv)"),
                         len(table.columns))
    finally:
        reader.close()
    registry = TypeRegistry(conn)
    for i, column in enumerate(table.columns):
        expected = text_column_to_arrow(text.column(i), registry.get(column.type_oid), column.type_modifier,
                                        mapping.data_types[i])
        got = binary.column(i).combine_chunks()
        assert got.type == expected.type, column.name
        assert got.equals(expected) or got.to_pylist() == expected.to_pylist(), column.name


@pytest.mark.parametrize("value, sql_type, outcome", [
    ("1.2345678901234567895", "numeric", decimal.Decimal("1.234567890123456790")),  # rounded HALF_UP
    ("-0.0000000000000000005", "numeric", decimal.Decimal("-0.000000000000000001")),
    ("'NaN'", "numeric", "'NaN' cannot be stored as Paimon DECIMAL"),
    ("1e25", "numeric", "does not fit Paimon DECIMAL\\(38, 18\\)"),
    ("'infinity'", "timestamp", "'infinity' cannot be stored as Paimon TIMESTAMP"),
    ("'294276-12-31 23:59:59'", "timestamp", "'294276-12-31 23:59:59' cannot be stored"),
    ("'-infinity'", "date", "'-infinity' cannot be stored as Paimon DATE"),
])
def test_values_the_decoder_leaves_to_text(conn, dsn, value, sql_type, outcome):
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE t (id int PRIMARY KEY, v {sql_type}, w int)")
        cur.execute(f"INSERT INTO t VALUES (1, NULL, 1), (2, {value}, 2)")
    table = source_table(conn, "t")
    mapping = mapping_of(conn, table)
    assert not mapping.copy_columns.columns[1].as_text
    reader = reader_of(dsn)
    try:
        (rows,) = read_all(reader, table, mapping)
        assert rows.column(1).type == pa.string()  # the chunk came the text path
        if isinstance(outcome, str):
            with pytest.raises(ValueError, match=outcome):
                mapping.batch_from_snapshot(rows)
        else:
            assert mapping.batch_from_snapshot(rows).rows().column("v").to_pylist() == [None, outcome]
    finally:
        reader.close()


def test_keys_as_text(conn, dsn):
    """Integer and text keys are read natively and come back as the text of the chunk's last key;
    other key types are read as text; chunks continue after it."""
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE k (a text, b int8, c char(2), d numeric(6,1), v int, PRIMARY KEY (a, b, c, d))")
        cur.execute("INSERT INTO k SELECT 'k' || (g % 7), g, chr(97 + g % 3), g / 10.0, g FROM generate_series(1, 500) g")
    table = source_table(conn, "k", ("a", "b", "c", "d"))
    mapping = mapping_of(conn, table)
    assert [c.as_text for c in mapping.copy_columns.columns] == [False, False, False, True, False]
    reader = reader_of(dsn)
    try:
        rows, last = reader.chunk_by_key(table, mapping.copy_columns, None, 100)
        assert all(isinstance(v, str) for v in last) and last[1] == str(rows.column(1)[99].as_py())
        chunks, after = [rows], last
        while after is not None:
            rows, after = reader.chunk_by_key(table, mapping.copy_columns, after, 100)
            chunks.append(rows)
    finally:
        reader.close()
    assert sorted(pa.concat_tables(chunks).column("v").to_pylist()) == list(range(1, 501))


def test_latin1_database_reads_csv(postgres_server, database):
    """Binary text arrives in the server's encoding: a LATIN1 database is read as CSV (converted by the server)."""
    name = database + "_latin1"
    postgres_server.execute(f"CREATE DATABASE {name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    try:
        connection = psycopg2.connect(postgres_server.dsn_for(name), options=SESSION_OPTIONS, client_encoding="UTF8")
        connection.autocommit = True
        with connection.cursor() as cur:
            cur.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
            cur.execute("INSERT INTO t VALUES (1, 'café'), (2, NULL)")
        table = source_table(connection, "t")
        mapping = mapping_of(connection, table)
        exporter, snapshot = exported(postgres_server.dsn_for(name))
        reader_conn = psycopg2.connect(postgres_server.dsn_for(name), options=SESSION_OPTIONS, client_encoding="UTF8")
        reader_conn.autocommit = True
        reader = SnapshotReader(reader_conn, snapshot)
        exporter.close()
        try:
            assert not reader.binary
            (rows,) = read_all(reader, table, mapping)
        finally:
            reader.close()
            connection.close()
        assert mapping.batch_from_snapshot(rows).rows().column("v").to_pylist() == ["café", None]
    finally:
        postgres_server.execute(f"DROP DATABASE {name}")


def test_malformed_data_raises():
    layout = binary_copy.CopyColumns((binary_copy.CopyColumn("a", binary_copy.INT4, pa.int32(), False),))
    with pytest.raises(ValueError, match="malformed binary COPY data"):
        binary_copy.decode(pa.py_buffer(b"PGCOPY\n\xff\r\n\0" + b"\0" * 8 + b"\0\x01\0\0\0\x02\0\0"), layout)
