"""Every supported PostgreSQL column type as a case: its SQL type, its Paimon type, SQL literals of
two rows and the Python values expected for them (``COLUMNS``), and the non-ISO, non-UTC server
defaults the type tests run under (``SERVER_DEFAULTS``), and ``assert_same``, which checks an Arrow
column against a case's values. Used by tests/operators/postgres/test_postgres_types.py,
test_postgres_types_lake.py and test_binary_copy.py.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal as D

import pyarrow as pa

from paimon_py.types import (
    ArrayType, BigIntType, BooleanType, CharType, DateType, DecimalType, DoubleType, FloatType,
    IntType, LocalZonedTimestampType, SmallIntType, TimestampType, TimeType, VarBinaryType,
    VarCharType, to_arrow_type,
)

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
