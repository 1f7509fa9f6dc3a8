"""``operators.postgres.types`` against a real PostgreSQL: the Paimon type of every supported
column type, and the text values of a table with all of them, read two ways (``COPY ... (FORMAT
csv)`` and a pgoutput slot), converted to Arrow and compared with the expected Python values.

The server runs with non-ISO, non-UTC defaults, so the session options the reader sets
(``SESSION_OPTIONS``) must be what shapes the text, in COPY and in the walsender alike.
"""

from __future__ import annotations

import io
import random

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
    ArrayType, DateType, DecimalType, DoubleType, IntType, LocalZonedTimestampType, TimestampType, TimeType,
    VarCharType,
)
from tests.support.postgres import change_stream
from tests.support.postgres_type_cases import COLUMNS, SERVER_DEFAULTS, assert_same

pytestmark = pytest.mark.slow  # a PostgreSQL server

TABLE_SQL = ("CREATE TABLE all_types (id int PRIMARY KEY, "
             + ", ".join(f"{c.name} {c.sql_type}" for c in COLUMNS) + ")")


def _row_sql(row: int) -> str:
    literals = [c.literals[row] if row < len(c.literals) else "NULL" for c in COLUMNS]
    return f"({row + 1}, {', '.join(literals)})"


@pytest.fixture(scope="module")
def pg():
    # a private server, not postgres_server: the non-ISO, non-UTC defaults (SERVER_DEFAULTS) must be
    # the server's own, so that only the reader's session options can shape the text
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
