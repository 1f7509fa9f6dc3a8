"""The snapshot reader and the table inspection on a real MariaDB: every type's canonical values,
chunking (resume, composite keys, key override, changes between chunks) and chunk positions."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from decimal import Decimal

import pyarrow as pa
import pytest

from operators.mysql.binlog.transaction import BinlogPosition
from operators.mysql.canonical import canonical_arrow_type
from operators.mysql.inspection import list_tables
from operators.mysql.snapshot_reader import SnapshotReader, chunk_key
from operators.mysql.source_config import InvalidSourceOption, MySqlSourceConfig

pytestmark = pytest.mark.slow

UTC = dt.timezone.utc

COLUMNS = [  # name, SQL type, value in row 1 (SQL), expected canonical value, expected MySqlType fields
    ("ti", "TINYINT", "-128", -128, {"name": "tinyint", "length": 4}),
    ("tb", "TINYINT(1)", "1", 1, {"name": "tinyint", "length": 1}),
    ("tu", "TINYINT UNSIGNED", "255", 255, {"name": "tinyint", "unsigned": True}),
    ("si", "SMALLINT", "-32768", -32768, {}),
    ("su", "SMALLINT UNSIGNED", "65535", 65535, {}),
    ("mi", "MEDIUMINT UNSIGNED", "16777215", 16777215, {}),
    ("i", "INT", "-2147483648", -2147483648, {}),
    ("iu", "INT UNSIGNED", "4294967295", 4294967295, {}),
    ("bi", "BIGINT", "-9223372036854775808", -9223372036854775808, {}),
    ("bu", "BIGINT UNSIGNED", "18446744073709551615", 18446744073709551615, {"unsigned": True}),
    ("y", "YEAR", "0", 0, {"name": "year"}),
    ("f", "FLOAT", "0.1", 0.10000000149011612, {}),
    ("d", "DOUBLE", "0.1e0 + 0.2e0", 0.30000000000000004, {}),
    ("dmin", "DOUBLE", "5e-324", 5e-324, {}),
    ("dec", "DECIMAL(12,2)", "-1234567890.12", Decimal("-1234567890.12"), {"precision": 12, "scale": 2}),
    ("decw", "DECIMAL(65,30)", "'-12345678901234567890123456789012345.123456789012345678901234567890'",
     "-12345678901234567890123456789012345.123456789012345678901234567890", {"precision": 65}),
    ("b1", "BIT(1)", "b'1'", b"\x01", {"length": 1}),
    ("b10", "BIT(10)", "b'1010101010'", b"\x02\xaa", {"length": 10}),
    ("da", "DATE", "'0000-00-00'", None, {}),
    ("da2", "DATE", "'0001-01-01'", dt.date(1, 1, 1), {}),
    ("tm", "TIME(6)", "'-01:00:00.250000'", dt.timedelta(hours=-1, microseconds=-250000), {"fsp": 6}),
    ("tmx", "TIME", "'838:59:59'", dt.timedelta(hours=838, minutes=59, seconds=59), {}),
    ("dtz", "DATETIME", "'0000-00-00 00:00:00'", None, {}),
    ("dt6", "DATETIME(6)", "'9999-12-31 23:59:59.999999'", dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
     {"fsp": 6}),
    ("ts", "TIMESTAMP(3) NULL", "'2024-03-01 12:00:00.125'",
     dt.datetime(2024, 3, 1, 10, 0, 0, 125000, tzinfo=UTC), {"fsp": 3}),
    ("ch", "CHAR(4)", "'ab'", "ab", {"length": 4}),
    ("vl", "VARCHAR(10) CHARACTER SET latin1", "'café'", "café", {"charset": "latin1"}),
    ("vu", "VARCHAR(10)", "'a😀,\"b\"\n'", "a😀,\"b\"\n", {}),
    ("ve", "VARCHAR(10)", "''", "", {}),
    ("tx", "TEXT", "'x'", "x", {}),
    ("lt", "LONGTEXT", "'long'", "long", {}),
    ("js", "JSON", "'{\"a\": [1, 2]}'", "{\"a\": [1, 2]}", {"name": "json"}),
    ("en", "ENUM('x','it''s')", "'it''s'", "it's", {"elements": ("x", "it's")}),
    ("enz", "ENUM('x','y')", "''", "", {}),
    ("st", "SET('a','b','c')", "'a,c'", ["a", "c"], {"elements": ("a", "b", "c")}),
    ("ste", "SET('a','b')", "''", [], {}),
    ("bn", "BINARY(4)", "x'61620000'", b"ab\x00\x00", {"length": 4}),
    ("vb", "VARBINARY(8)", "x'00220a2c'", b"\x00\"\n,", {"length": 8}),
    ("bl", "BLOB", "x'ff00'", b"\xff\x00", {}),
    ("g", "POINT", "ST_GeomFromText('POINT(1 2)', 4326)",
     bytes.fromhex("E61000000101000000000000000000F03F0000000000000040"), {"name": "point"}),
    ("u", "UUID", "'ffffffff-ffff-ffff-0000-000000000000'", "ffffffff-ffff-ffff-0000-000000000000", {}),
    ("i6", "INET6", "'::1'", "::1", {}),
]


@pytest.fixture
def config(mariadb_server, mysql_database):
    return MySqlSourceConfig.parse({**mariadb_server.conf(mysql_database), "table-name": ".*"}, True)


def test_every_type_and_nulls(mariadb_server, mysql_database, config):
    definition = ", ".join(f"`{name}` {sql}" for name, sql, *_ in COLUMNS)
    conn = mariadb_server.connect(mysql_database)
    with conn.cursor() as cur:
        cur.execute("SET time_zone = '+02:00', sql_mode = ''")
        cur.execute(f"CREATE TABLE types (id INT PRIMARY KEY, {definition})")
        cur.execute(f"INSERT INTO types VALUES (1, {', '.join(value for _, _, value, *_ in COLUMNS)})")
        cur.execute("INSERT INTO types (id) VALUES (2)")
    table, = list_tables(conn, config)
    for column, (name, _, _, _, fields) in zip(table.columns[1:], COLUMNS):
        assert column.name == name
        assert {k: getattr(column.type, k) for k in fields} == fields, name
    reader = SnapshotReader(config)
    chunk = reader.chunk(table, ("id",), None, 10)
    reader.close()
    assert chunk.last_key is None
    for array, column, (name, _, _, expected, _) in zip(chunk.columns[1:], table.columns[1:], COLUMNS):
        assert array.type == canonical_arrow_type(column.type), name
        assert array.to_pylist() == [expected, None], name


def test_float_and_double_round_trip_exactly(mariadb_server, mysql_database, config):
    import random
    rng = random.Random(7)
    doubles = [rng.uniform(-1, 1) * 10 ** rng.randint(-300, 300) for _ in range(200)]
    floats = pa.array(doubles, pa.float64()).cast(pa.float32(), safe=False).to_pylist()
    floats = [f if abs(f) < 3e38 and (f == 0 or abs(f) > 1.2e-38) else 1.0 for f in floats]
    mariadb_server.execute("CREATE TABLE nums (id INT PRIMARY KEY, f FLOAT, d DOUBLE)", database=mysql_database)
    conn = mariadb_server.connect(mysql_database)
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO nums VALUES (%s, %s, %s)", list(zip(range(200), floats, doubles)))
    table, = list_tables(conn, config)
    chunk = SnapshotReader(config).chunk(table, ("id",), None, 1000)
    assert chunk.columns[1].to_pylist() == floats
    assert chunk.columns[2].to_pylist() == doubles


def read_all(reader, table, key, limit):
    chunks, after = [], None
    while True:
        chunk = reader.chunk(table, key, after, limit)
        chunks.append(chunk)
        after = chunk.last_key
        if after is None:
            return chunks


def test_composite_key_chunks_resume_in_server_order(mariadb_server, mysql_database, config):
    mariadb_server.execute("CREATE TABLE c (k VARCHAR(5), n INT, v INT, PRIMARY KEY (k, n))", database=mysql_database)
    rows = [(k, n, i) for i, (k, n) in enumerate((k, n) for k in ("a", "B", "c", "é") for n in (2, 1, 3))]
    conn = mariadb_server.connect(mysql_database)
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO c VALUES (%s, %s, %s)", rows)
    table, = list_tables(conn, config)
    assert table.primary_keys == ("k", "n")
    chunks = read_all(SnapshotReader(config), table, table.primary_keys, 5)
    assert [c.num_rows for c in chunks] == [5, 5, 2]
    assert chunks[0].last_key == ("B", 2)  # the collation's order: a < B < c < é
    keys = [(k, n) for c in chunks for k, n in zip(c.columns[0].to_pylist(), c.columns[1].to_pylist())]
    assert keys == [(k, n) for k in ("a", "B", "c", "é") for n in (1, 2, 3)]


def test_key_override_changes_between_chunks_and_positions(mariadb_server, mysql_database, config):
    mariadb_server.execute("CREATE TABLE o (id INT PRIMARY KEY, u INT NOT NULL UNIQUE, v VARCHAR(5))",
                           database=mysql_database)
    conn = mariadb_server.connect(mysql_database)
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO o VALUES (%s, %s, 'x')", [(i, 100 - i) for i in range(10)])
    table, = list_tables(conn, config)
    assert chunk_key(table, config) == ("id",)
    assert chunk_key(table, replace(config, chunk_key_column="u")) == ("u",)
    with pytest.raises(InvalidSourceOption, match="key-column=w is not a column of"):
        chunk_key(table, replace(config, chunk_key_column="w"))
    reader = SnapshotReader(config)
    first = reader.chunk(table, ("u",), None, 4)
    assert first.columns[1].to_pylist() == [91, 92, 93, 94] and first.last_key == (94,)
    assert first.position == current_position(conn)
    with conn.cursor() as cur:
        cur.execute("UPDATE o SET v = 'new' WHERE id = 0")
        cur.execute("DELETE FROM o WHERE u = 96")
    second = reader.chunk(table, ("u",), first.last_key, 4)
    assert second.columns[1].to_pylist() == [95, 97, 98, 99]
    assert second.columns[2].to_pylist() == ["x", "x", "x", "x"]
    assert second.position.file_pos() > first.position.file_pos()
    assert second.position == current_position(conn)
    last = reader.chunk(table, ("u",), second.last_key, 4)
    assert last.columns[2].to_pylist() == ["new"] and last.last_key is None


def test_chunk_position_is_that_of_its_snapshot(mariadb_server, mysql_database, config):
    """A commit after the snapshot started is neither in the chunk nor before its position."""
    mariadb_server.execute("CREATE TABLE p (id INT PRIMARY KEY)", database=mysql_database)
    conn = mariadb_server.connect(mysql_database)
    table, = list_tables(conn, config)
    reader = SnapshotReader(config)
    position = reader._begin_snapshot()
    mariadb_server.execute("INSERT INTO p VALUES (1)", database=mysql_database)
    with reader.conn.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {table.qualified}")
        assert cur.fetchone()[0] == 0
    reader._end_snapshot()
    assert position.file_pos() < current_position(conn).file_pos()


def test_whole_table_without_key_and_excluded_tables(mariadb_server, mysql_database, config, caplog):
    conn = mariadb_server.connect(mysql_database)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE nk (a INT, b VARCHAR(3))")
        cur.executemany("INSERT INTO nk VALUES (%s, %s)", [(i, None if i % 2 else "x") for i in range(7)])
        cur.execute("CREATE VIEW vw AS SELECT a FROM nk")
        cur.execute("CREATE SEQUENCE sq")
        cur.execute("CREATE TABLE hist (id INT PRIMARY KEY) WITH SYSTEM VERSIONING")
    with caplog.at_level(logging.WARNING):
        tables = list_tables(conn, config)
    assert [t.name for t in tables] == ["nk"]
    assert "vw (view)" in caplog.text and "sq (sequence)" in caplog.text and "hist (system versioned)" in caplog.text
    batches = list(SnapshotReader(config).whole_table(tables[0], batch_rows=3))
    assert [b.num_rows for b in batches] == [3, 3, 1]
    assert len({b.position for b in batches}) == 1 and all(b.last_key is None for b in batches)
    values = sorted(v for b in batches for v in zip(b.columns[0].to_pylist(), b.columns[1].to_pylist()))
    assert values == [(i, None if i % 2 else "x") for i in range(7)]


def current_position(conn) -> BinlogPosition:
    with conn.cursor() as cur:
        cur.execute("SHOW MASTER STATUS")
        file, pos = cur.fetchone()[:2]
        cur.execute("SELECT @@gtid_binlog_pos")
        return BinlogPosition(file, int(pos), cur.fetchone()[0])
