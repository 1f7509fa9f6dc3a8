"""``operators.postgres.types`` against a real PostgreSQL: the Paimon type of every supported
column type, and the text values of a table with all of them, read two ways (``COPY ... (FORMAT
csv)`` and a pgoutput slot), converted to Arrow and compared with the expected Python values.

The server runs with non-ISO, non-UTC defaults, so the session options the reader sets
(``SESSION_OPTIONS``) must be what shapes the text, in COPY and in the walsender alike.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
from dataclasses import dataclass
from decimal import Decimal as D

import psycopg2
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from operators.postgres import pgoutput
from operators.postgres import types as pgtypes
from operators.postgres.local_server import LocalPostgres
from operators.postgres.replication import SESSION_OPTIONS
from operators.postgres.types import TypeRegistry, UnsupportedTypeError
from paimon_py.types import (
    ArrayType, BigIntType, BooleanType, CharType, DateType, DecimalType, DoubleType, FloatType,
    IntType, LocalZonedTimestampType, SmallIntType, TimestampType, TimeType, VarBinaryType,
    VarCharType, to_arrow_type,
)
from tests.test_pgoutput import change_stream

UTC = dt.timezone.utc
SERVER_DEFAULTS = {"timezone": "Asia/Kolkata", "datestyle": "SQL, DMY", "extra_float_digits": "0",
                   "intervalstyle": "sql_standard"}


@dataclass(frozen=True)
class Col:
    name: str
    sql_type: str
    paimon: object
    literals: tuple
    """SQL of rows 1 and 2 (row 3 is NULL unless a third is given)."""
    expected: tuple


def _ts(*args) -> dt.datetime:
    return dt.datetime(*args)


def _tz(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


COLUMNS = [
    Col("c_bool", "bool", BooleanType(), ("true", "false"), (True, False)),
    Col("c_int2", "int2", SmallIntType(), ("-32768", "32767"), (-32768, 32767)),
    Col("c_int4", "int4", IntType(), ("-2147483648", "2147483647"), (-2147483648, 2147483647)),
    Col("c_int8", "int8", BigIntType(), ("-9223372036854775808", "9223372036854775807"),
        (-9223372036854775808, 9223372036854775807)),
    Col("c_serial", "serial", IntType(False), ("DEFAULT",) * 3, (1, 2, 3)),
    Col("c_bigserial", "bigserial", BigIntType(False), ("DEFAULT",) * 3, (1, 2, 3)),
    Col("c_float4", "float4", FloatType(), ("1.1", "'-Infinity'"), (1.1, -math.inf)),
    Col("c_float8", "float8", DoubleType(), ("0.1::float8 + 0.2", "'NaN'"), (0.1 + 0.2, math.nan)),
    Col("c_num", "numeric(10,2)", DecimalType(10, 2), ("-12345678.9", "0.05"), (D("-12345678.90"), D("0.05"))),
    Col("c_num_free", "numeric", DecimalType(38, 18), ("1.2345678901234567895", "-0.0000000000000000005"),
        (D("1.234567890123456790"), D("-0.000000000000000001"))),
    Col("c_num_wide", "numeric(50,5)", VarCharType(), ("12345678901234567890123456789012345678901234.5", "-1"),
        ("12345678901234567890123456789012345678901234.50000", "-1.00000")),
    Col("c_num_negscale", "numeric(5,-2)", VarCharType(), ("12345", "-50"), ("12300", "-100")),
    Col("c_char", "char(5)", CharType(5), ("'ab'", "'abcde'"), ("ab   ", "abcde")),
    Col("c_char1", "char", CharType(1), ("'x'", "' '"), ("x", " ")),
    Col("c_varchar", "varchar(20)", VarCharType(20), ("'héllo ☃ ünï'", "''"), ("héllo ☃ ünï", "")),
    Col("c_varchar_free", "varchar", VarCharType(), ("'NULL'", "'a\"b'"), ("NULL", 'a"b')),
    Col("c_text", "text", VarCharType(), ("E'line1\\nline2, \"q\"\\\\'", "' '"), ('line1\nline2, "q"\\', " ")),
    Col("c_bytea", "bytea", VarBinaryType(), ("'\\x0001ff00'::bytea", "''::bytea"), (b"\x00\x01\xff\x00", b"")),
    Col("c_date", "date", DateType(), ("'1900-01-01'", "'2038-01-19'"), (dt.date(1900, 1, 1), dt.date(2038, 1, 19))),
    Col("c_time", "time", TimeType(6), ("'23:59:59.999999'", "'00:00:00'"), (dt.time(23, 59, 59, 999999), dt.time(0))),
    Col("c_time3", "time(3)", TimeType(3), ("'12:34:56.789'", "'00:00:00.001'"),
        (dt.time(12, 34, 56, 789000), dt.time(0, 0, 0, 1000))),
    Col("c_ts", "timestamp", TimestampType(6), ("'1969-07-20 20:17:40.123456'", "'0001-01-01 00:00:00'"),
        (_ts(1969, 7, 20, 20, 17, 40, 123456), _ts(1, 1, 1))),
    Col("c_ts0", "timestamp(0)", TimestampType(0), ("'2000-01-01 00:00:01'", "'1960-01-01 12:00:00'"),
        (_ts(2000, 1, 1, 0, 0, 1), _ts(1960, 1, 1, 12))),
    Col("c_tstz", "timestamptz", LocalZonedTimestampType(6),
        ("'2020-06-01 12:00:00.5+05:30'", "'1900-01-01 00:00:00 Europe/Amsterdam'"),
        (_tz(2020, 6, 1, 6, 30, 0, 500000), _tz(1899, 12, 31, 23, 40, 28))),
    Col("c_tstz3", "timestamptz(3)", LocalZonedTimestampType(3), ("'1960-02-29 23:00:00.123-03:30'", "now()"),
        (_tz(1960, 3, 1, 2, 30, 0, 123000), None)),
    Col("c_uuid", "uuid", VarCharType(), ("'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "gen_random_uuid()"),
        ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", None)),
    Col("c_json", "json", VarCharType(), ("'{\"a\": [1, 2]}'", "'\"s\"'"), ('{"a": [1, 2]}', '"s"')),
    Col("c_jsonb", "jsonb", VarCharType(), ("'{\"b\": 1, \"a\": \"x\"}'", "'[]'"), ('{"a": "x", "b": 1}', "[]")),
    Col("c_enum", "mood", VarCharType(), ("'happy'", "'so so'"), ("happy", "so so")),
    Col("c_domain_text", "short_text", VarCharType(8), ("'abc'", "''"), ("abc", "")),
    Col("c_domain_num", "price", DecimalType(6, 2), ("12.3", "0"), (D("12.30"), D("0.00"))),
    Col("c_int4_arr", "int4[]", ArrayType(IntType()), ("'{1,NULL,-3}'", "'{}'"), ([1, None, -3], [])),
    Col("c_int8_arr", "int8[]", ArrayType(BigIntType()), ("'[0:1]={5,6}'", "'{NULL}'"), ([5, 6], [None])),
    Col("c_text_arr", "text[]", ArrayType(VarCharType()),
        ("ARRAY['a,b', 'c', NULL, 'NULL', 'q\"x', 'back\\slash', '', ' sp ', '{x}', 'é']", "ARRAY[]::text[]"),
        (["a,b", "c", None, "NULL", 'q"x', "back\\slash", "", " sp ", "{x}", "é"], [])),
    Col("c_varchar_arr", "varchar(3)[]", ArrayType(VarCharType(3)), ("'{ab,\"\"}'", "'{null}'"), (["ab", ""], [None])),
    Col("c_char_arr", "char(2)[]", ArrayType(CharType(2)), ("'{a,bc}'", "'{}'"), (["a ", "bc"], [])),
    Col("c_num_arr", "numeric(6,2)[]", ArrayType(DecimalType(6, 2)), ("'{1.5,-2.25}'", "'{NULL}'"),
        ([D("1.50"), D("-2.25")], [None])),
    Col("c_num_free_arr", "numeric[]", ArrayType(DecimalType(38, 18)), ("'{1.5}'", "'{}'"),
        ([D("1.5")], [])),
    Col("c_bool_arr", "bool[]", ArrayType(BooleanType()), ("'{t,f,NULL}'", "'{}'"), ([True, False, None], [])),
    Col("c_float8_arr", "float8[]", ArrayType(DoubleType()), ("'{Infinity,-1.5e-300}'", "'{}'"),
        ([math.inf, -1.5e-300], [])),
    Col("c_date_arr", "date[]", ArrayType(DateType()), ("'{2020-02-29,NULL}'", "'{}'"),
        ([dt.date(2020, 2, 29), None], [])),
    Col("c_time_arr", "time[]", ArrayType(TimeType(6)), ("'{12:00:00.25}'", "'{}'"), ([dt.time(12, 0, 0, 250000)], [])),
    Col("c_ts_arr", "timestamp[]", ArrayType(TimestampType(6)), ("'{\"1950-05-05 05:05:05.5\"}'", "'{}'"),
        ([_ts(1950, 5, 5, 5, 5, 5, 500000)], [])),
    Col("c_tstz_arr", "timestamptz[]", ArrayType(LocalZonedTimestampType(6)),
        ("'{\"2020-01-01 00:00:00+01\",NULL}'", "'{}'"), ([_tz(2019, 12, 31, 23), None], [])),
    Col("c_bytea_arr", "bytea[]", ArrayType(VarBinaryType()), ("ARRAY['\\x00ff'::bytea, ''::bytea, NULL]", "'{}'"),
        ([b"\x00\xff", b"", None], [])),
    Col("c_uuid_arr", "uuid[]", ArrayType(VarCharType()), ("'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'", "'{}'"),
        (["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"], [])),
    Col("c_enum_arr", "mood[]", ArrayType(VarCharType()), ("'{happy,\"so so\"}'", "'{}'"), (["happy", "so so"], [])),
]

TABLE_SQL = ("CREATE TABLE all_types (id int PRIMARY KEY, "
             + ", ".join(f"{c.name} {c.sql_type}" for c in COLUMNS) + ")")


def _row_sql(row: int) -> str:
    literals = [c.literals[row] if row < len(c.literals) else "NULL" for c in COLUMNS]
    return f"({row + 1}, {', '.join(literals)})"


@pytest.fixture(scope="module")
def pg():
    server = LocalPostgres(settings=SERVER_DEFAULTS).start()
    server.execute("CREATE PUBLICATION pub FOR ALL TABLES")
    server.execute("CREATE TYPE mood AS ENUM ('happy', 'so so')")
    server.execute("CREATE DOMAIN short_text AS varchar(8)")
    server.execute("CREATE DOMAIN price AS numeric(6, 2) CHECK (VALUE >= 0)")
    server.execute(TABLE_SQL)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def conn(pg):
    connection = psycopg2.connect(pg.dsn, options=SESSION_OPTIONS)
    connection.autocommit = True
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def inserts(pg):
    """The rows of all_types as pgoutput sent them: (Relation, [Insert, ...])."""
    with change_stream(pg) as stream:
        pg.execute("INSERT INTO all_types VALUES " + ", ".join(_row_sql(r) for r in range(3)))
        (tx,) = stream.transactions(1)
    relation = next(m for m in tx if isinstance(m, pgoutput.Relation))
    return relation, [m for m in tx if isinstance(m, pgoutput.Insert)]


@pytest.fixture(scope="module")
def attributes(conn):
    """name -> (type oid, type modifier, not null) of all_types."""
    with conn.cursor() as cur:
        cur.execute("SELECT attname, atttypid, atttypmod, attnotnull FROM pg_attribute "
                    "WHERE attrelid = 'all_types'::regclass AND attnum > 0 ORDER BY attnum")
        return {name: (oid, typmod, notnull) for name, oid, typmod, notnull in cur.fetchall()}


def copy_csv(conn, query: str, names: list[str]) -> pa.Table:
    """COPY's CSV read as strings: unquoted empty = NULL, quoted empty ("") = ''."""
    buffer = io.BytesIO()
    with conn.cursor() as cur:
        cur.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", buffer)
    buffer.seek(0)
    return pacsv.read_csv(buffer, read_options=pacsv.ReadOptions(column_names=names),
                          parse_options=pacsv.ParseOptions(newlines_in_values=True),
                          convert_options=pacsv.ConvertOptions(
                              column_types={n: pa.string() for n in names}, null_values=[""],
                              strings_can_be_null=True, quoted_strings_can_be_null=False))


def expected_array(col: Col) -> pa.Array:
    values = list(col.expected) + [None] * (3 - len(col.expected))
    return pa.array(values, to_arrow_type(col.paimon))


def assert_same(actual: pa.Array, col: Col) -> None:
    expected = expected_array(col)
    assert actual.type == expected.type, col.name
    for got, want in zip(actual.to_pylist(), expected.to_pylist()):
        if want is None and got is not None and col.expected[1] is None:  # now(), random uuid
            continue
        if isinstance(want, float) and math.isnan(want):
            assert math.isnan(got), col.name
        else:
            assert got == want, f"{col.name}: {got!r} != {want!r}"


def test_paimon_types(conn, attributes):
    registry = TypeRegistry(conn)
    for col in COLUMNS:
        oid, typmod, notnull = attributes[col.name]
        assert pgtypes.paimon_type(registry.get(oid), typmod, not notnull, column=col.name) == col.paimon, col.name
        assert pgtypes.paimon_type(registry.get(oid), typmod, True, to_string=True) == VarCharType()
    columns = [(c.name, registry.get(attributes[c.name][0]), attributes[c.name][1], not attributes[c.name][2])
               for c in COLUMNS]
    data_types, schema = pgtypes.arrow_schema_for(columns)
    assert data_types == [c.paimon for c in COLUMNS]
    assert schema.field("c_serial").nullable is False and schema.field("c_ts0").type == pa.timestamp("ms")
    assert pgtypes.arrow_schema_for(columns, to_string=True)[1].types == [pa.string()] * len(COLUMNS)


def test_registry_kinds(conn):
    registry = TypeRegistry(conn)
    price = registry.get(pg_oid(conn, "price"))
    assert (price.kind, price.base.name, price.display) == ("domain", "numeric", "public.price")
    assert price.resolve(-1) == (price.base, (6 << 16) + 2 + 4)
    mood_array = registry.get(pg_oid(conn, "mood[]"))
    assert (mood_array.kind, mood_array.element.kind, mood_array.display) == ("array", "enum", "public.mood[]")
    assert registry.get(pg_oid(conn, "int2vector")).kind == "base"
    with pytest.raises(KeyError):
        registry.get(4_000_000_000)


def pg_oid(conn, type_name: str) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT %s::regtype::oid", (type_name,))
        return cur.fetchone()[0]


def test_copy_values(pg, conn, inserts, attributes):
    registry = TypeRegistry(conn)
    table = copy_csv(conn, "SELECT * FROM all_types ORDER BY id", ["id"] + [c.name for c in COLUMNS])
    assert table.num_rows == 3
    for col in COLUMNS:
        oid, typmod, _ = attributes[col.name]
        array = pgtypes.text_column_to_arrow(table.column(col.name), registry.get(oid), typmod, col.paimon)
        assert_same(array, col)


def test_pgoutput_values(conn, inserts):
    registry = TypeRegistry(conn)
    relation, rows = inserts
    assert len(rows) == 3
    for i, column in enumerate(relation.columns[1:], start=1):
        col = COLUMNS[i - 1]
        assert column.name == col.name
        values = [row.new[i] for row in rows]
        array = pgtypes.text_column_to_arrow(values, registry.get(column.type_oid), column.type_modifier, col.paimon)
        assert_same(array, col)


def test_to_string_keeps_postgres_text(conn, inserts, attributes):
    registry = TypeRegistry(conn)
    relation, rows = inserts
    for i, column in enumerate(relation.columns):
        pg_type = registry.get(column.type_oid)
        data_type = pgtypes.paimon_type(pg_type, column.type_modifier, True, to_string=True)
        values = [row.new[i] for row in rows]
        assert pgtypes.text_column_to_arrow(values, pg_type, column.type_modifier, data_type).to_pylist() == values
    assert rows[0].new[[c.name for c in relation.columns].index("c_int4_arr")] == "{1,NULL,-3}"


@pytest.mark.parametrize("sql_type", ["point", "interval", "money", "inet", "timetz", "int4range", "xml"])
def test_unsupported_type(conn, sql_type):
    registry = TypeRegistry(conn)
    with pytest.raises(UnsupportedTypeError, match=rf"column 'c_bad' has PostgreSQL type {sql_type}, which "
                                                  r"has no Paimon type — use --type_mapping to-string"):
        pgtypes.paimon_type(registry.get(pg_oid(conn, sql_type)), -1, True, column="c_bad")
    with pytest.raises(UnsupportedTypeError, match=rf"type {sql_type}\[\]"):
        pgtypes.paimon_type(registry.get(pg_oid(conn, sql_type + "[]")), -1, True, column="c_bad")


def test_interval_as_string(conn):
    registry = TypeRegistry(conn)
    interval = registry.get(pg_oid(conn, "interval"))
    data_type = pgtypes.paimon_type(interval, -1, True, to_string=True)
    table = copy_csv(conn, "SELECT '1 day 2 hours -3 seconds'::interval", ["i"])
    assert pgtypes.text_column_to_arrow(table.column(0), interval, -1, data_type).to_pylist() == ["1 day 01:59:57"]


def _text_and(conn, sql: str, values: list, time_zone: str = "UTC") -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(f"SET TimeZone = '{time_zone}'")
        try:
            cur.execute(sql, (values,))
            return cur.fetchall()
        finally:
            cur.execute("SET TimeZone = 'UTC'")


def test_timestamps_against_postgres(conn):
    """Years BC and past 9999, and local mean time offsets with seconds, checked against
    PostgreSQL's own epoch arithmetic."""
    timestamps = ["4713-01-01 00:00:00 BC", "0044-03-15 12:00:00.5 BC", "0001-12-31 23:59:59.999999 BC",
                  "1582-10-04 23:59:59", "1969-12-31 23:59:59.999999", "2000-02-29 12:00:00",
                  "10000-01-01 00:00:00", "294246-12-31 23:59:59.999999"]
    sql = ("SELECT x::text, (extract(epoch FROM x) * 1000000)::bigint FROM unnest(%s::{}[]) x")
    rows = _text_and(conn, sql.format("timestamp"), timestamps)
    ts = TypeRegistry(conn).get(1114)
    got = pgtypes.text_column_to_arrow([r[0] for r in rows], ts, -1, TimestampType(6))
    assert got.cast(pa.int64()).to_pylist() == [r[1] for r in rows]

    rows = _text_and(conn, sql.format("timestamptz"), timestamps[:6], "Europe/Amsterdam")
    assert any(r[0].endswith("+00:19:32") for r in rows)  # local mean time before 1909
    tstz = TypeRegistry(conn).get(1184)
    got = pgtypes.text_column_to_arrow([r[0] for r in rows], tstz, -1, LocalZonedTimestampType(6))
    assert got.cast(pa.int64()).to_pylist() == [r[1] for r in rows]

    dates = ["4713-01-01 BC", "0001-01-01 BC", "0001-01-01", "1969-12-31", "10000-01-01", "5874897-12-31"]
    rows = _text_and(conn, "SELECT x::text, x - DATE '1970-01-01' FROM unnest(%s::date[]) x", dates)
    got = pgtypes.text_column_to_arrow([r[0] for r in rows], TypeRegistry(conn).get(1082), -1, DateType())
    assert got.cast(pa.int32()).to_pylist() == [r[1] for r in rows]


@pytest.mark.parametrize("sql, type_oid, data_type, message", [
    ("'infinity'::timestamp", 1114, TimestampType(6), "'infinity' cannot be stored as Paimon TIMESTAMP"),
    ("'294276-12-31 23:59:59'::timestamp", 1114, TimestampType(6), "'294276-12-31 23:59:59' cannot be stored"),
    ("'-infinity'::date", 1082, DateType(), "'-infinity' cannot be stored as Paimon DATE"),
    ("'24:00:00'::time", 1083, TimeType(6), "'24:00:00' cannot be stored as Paimon TIME"),
    ("'NaN'::numeric", 1700, DecimalType(38, 18), "'NaN' cannot be stored as Paimon DECIMAL"),
    ("'Infinity'::numeric", 1700, DecimalType(38, 18), "'Infinity' cannot be stored as Paimon DECIMAL"),
    ("1e25::numeric", 1700, DecimalType(38, 18), "does not fit Paimon DECIMAL\\(38, 18\\)"),
    ("'{{1,2},{3,4}}'::int4[]", 1007, ArrayType(IntType()), "only one-dimensional arrays"),
])
def test_values_refused(conn, sql, type_oid, data_type, message):
    with conn.cursor() as cur:
        cur.execute(f"SELECT ({sql})::text")
        text = cur.fetchone()[0]
    with pytest.raises(ValueError, match=message) as error:
        pgtypes.text_column_to_arrow([None, text], TypeRegistry(conn).get(type_oid), -1, data_type)
    assert "to-string" in str(error.value)


def test_array_text_against_psycopg2(conn):
    """Element quoting and escaping: PostgreSQL's array text, parsed, equals what psycopg2 reads."""
    rng = random.Random(7)
    alphabet = ['a', ',', '"', '\\', ' ', '{', '}', 'N', 'U', 'L', 'é', '\n', "'"]
    arrays = [[None if rng.random() < 0.1 else "".join(rng.choices(alphabet, k=rng.randrange(0, 6)))
               for _ in range(rng.randrange(0, 5))] for _ in range(200)]
    arrays += [["NULL", "null", ""]]
    with conn.cursor() as cur:
        texts = []
        for array in arrays:
            cur.execute("SELECT %s::text[]::text", (array,))
            texts.append(cur.fetchone()[0])
    text_array = TypeRegistry(conn).get(1009)
    got = pgtypes.text_column_to_arrow(texts, text_array, -1, ArrayType(VarCharType()))
    assert got.to_pylist() == arrays


def test_floats_round_trip(conn):
    rng = random.Random(11)
    values = [rng.uniform(-1e6, 1e6) for _ in range(300)] + [5e-324, 1.7976931348623157e308, -0.0, 1 / 3]
    with conn.cursor() as cur:
        cur.execute("SELECT x::text FROM unnest(%s::float8[]) x", (values,))
        texts = [r[0] for r in cur.fetchall()]
    got = pgtypes.text_column_to_arrow(texts, TypeRegistry(conn).get(701), -1, DoubleType())
    assert got.to_pylist() == values
