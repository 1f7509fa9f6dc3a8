"""Every MySQL/MariaDB column type the MySQL jobs map (docs/mysql.md §2, ``operators/mysql/types.py``)
as a case: its SQL type, SQL literals of row templates A and B (template N is NULL, or the third
literal), and what the lake must show, written by hand: the Paimon type and Python values by
default, under the combined ``--type_mapping`` options (``OPTIONS``), and under ``to-string``.

TIMESTAMP columns (``instant=True``) hold UTC instants (inserted in a ``+00:00`` session); the
lake shows their wall clock in ``server-time-zone``: the expected values here are for UTC and are
shifted by the zone's offset (``expected``). Their ``to-string`` text is written for ``+09:00``.
Used by tests/operators/mysql/test_mysql_types_lake.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Optional

OPTIONS = "tinyint1-not-bool,bigint-unsigned-to-bigint,char-to-string,longtext-to-bytes,to-nullable"
"""Every ``--type_mapping`` choice that changes a type, but ``to-string`` (its own job)."""
TO_STRING_OFFSET = dt.timedelta(hours=9)
"""The to-string job runs with ``server-time-zone=Asia/Tokyo`` (+09:00, no DST since 1951)."""


@dataclass(frozen=True)
class Col:
    name: str
    sql: str
    literals: tuple
    """SQL of templates A and B (and N when not NULL)."""
    paimon: str
    values: tuple
    """What the lake shows for A, B (and N; None when absent) by default."""
    text: tuple
    """The ``to-string`` values of A and B (and N)."""
    options: Optional[tuple] = None
    """(Paimon type, values) under ``OPTIONS`` when they differ from the default."""
    instant: bool = False


def _t(*args) -> dt.datetime:
    return dt.datetime(*args)


INTEGERS = [
    Col("c_ti", "TINYINT", ("-128", "127"), "TINYINT", (-128, 127), ("-128", "127")),
    Col("c_tiu", "TINYINT UNSIGNED", ("0", "255"), "SMALLINT", (0, 255), ("0", "255")),
    Col("c_si", "SMALLINT", ("-32768", "32767"), "SMALLINT", (-32768, 32767), ("-32768", "32767")),
    Col("c_siu", "SMALLINT UNSIGNED", ("0", "65535"), "INT", (0, 65535), ("0", "65535")),
    Col("c_mi", "MEDIUMINT", ("-8388608", "8388607"), "INT", (-8388608, 8388607), ("-8388608", "8388607")),
    Col("c_miu", "MEDIUMINT UNSIGNED", ("0", "16777215"), "BIGINT", (0, 16777215), ("0", "16777215")),
    Col("c_i", "INT", ("-2147483648", "2147483647"), "INT", (-2147483648, 2147483647),
        ("-2147483648", "2147483647")),
    Col("c_iu", "INT UNSIGNED", ("0", "4294967295"), "BIGINT", (0, 4294967295), ("0", "4294967295")),
    Col("c_bi", "BIGINT", ("-9223372036854775808", "9223372036854775807"), "BIGINT",
        (-9223372036854775808, 9223372036854775807), ("-9223372036854775808", "9223372036854775807")),
    # bigint-unsigned-to-bigint: values above 2^63-1 wrap (the user's risk, as in Paimon's option)
    Col("c_biu", "BIGINT UNSIGNED", ("9223372036854775807", "18446744073709551615"), "DECIMAL(20, 0)",
        (D("9223372036854775807"), D("18446744073709551615")), ("9223372036854775807", "18446744073709551615"),
        ("BIGINT", (9223372036854775807, -1))),
    Col("c_tiny1", "TINYINT(1)", ("0", "127"), "BOOLEAN", (False, True), ("0", "127"), ("TINYINT", (0, 127))),
    Col("c_bool", "BOOLEAN", ("TRUE", "FALSE"), "BOOLEAN", (True, False), ("1", "0"), ("TINYINT", (1, 0))),
    Col("c_year", "YEAR", ("1901", "2155"), "INT", (1901, 2155), ("1901", "2155")),
    Col("c_nn", "INT NOT NULL DEFAULT 7", ("-1", "2", "DEFAULT"), "INT NOT NULL", (-1, 2, 7), ("-1", "2", "7"),
        ("INT", (-1, 2, 7))),
]

NUMBERS = [
    Col("c_bit1", "BIT(1)", ("b'1'", "b'0'"), "BOOLEAN", (True, False), ("true", "false")),
    Col("c_bit", "BIT(10)", ("b'1000000001'", "b'0'"), "BINARY(2)", (b"\x02\x01", b"\x00\x00"), ("AgE=", "AAA=")),
    Col("c_f", "FLOAT", ("1.5", "-3.25"), "FLOAT", (1.5, -3.25), ("1.5", "-3.25")),
    Col("c_d", "DOUBLE", ("0.1", "-2.5e-300"), "DOUBLE", (0.1, -2.5e-300), ("0.1", "-2.5e-300")),
    Col("c_dec", "DECIMAL(10,2)", ("-12345678.90", "0.05"), "DECIMAL(10, 2)", (D("-12345678.90"), D("0.05")),
        ("-12345678.90", "0.05")),
    Col("c_dec38", "DECIMAL(38,10)", ("1234567890123456789012345678.0123456789", "-0.0000000001"),
        "DECIMAL(38, 10)", (D("1234567890123456789012345678.0123456789"), D("-0.0000000001")),
        ("1234567890123456789012345678.0123456789", "-0.0000000001")),
    Col("c_dec65", "DECIMAL(65,30)", ("12345678901234567890123456789012345.123456789012345678901234567891", "-1"),
        "STRING", ("12345678901234567890123456789012345.123456789012345678901234567891",
                   "-1.000000000000000000000000000000"),
        ("12345678901234567890123456789012345.123456789012345678901234567891",
         "-1.000000000000000000000000000000")),
]

TEMPORALS = [
    Col("c_date", "DATE", ("'1000-01-01'", "'9999-12-31'"), "DATE", (dt.date(1000, 1, 1), dt.date(9999, 12, 31)),
        ("1000-01-01", "9999-12-31")),
    Col("c_time", "TIME", ("'23:59:59'", "'00:00:00'"), "TIME(0)", (dt.time(23, 59, 59), dt.time(0)),
        ("23:59:59", "00:00:00")),
    # TIME keeps milliseconds (Paimon's TIME storage); negative or >= 24 h: NULL (types.py's policy)
    Col("c_time3", "TIME(3)", ("'12:34:56.789'", "'-01:00:00.250'"), "TIME(0)", (dt.time(12, 34, 56, 789000), None),
        ("12:34:56.789", "-01:00:00.250")),
    Col("c_time6", "TIME(6)", ("'00:00:00.001999'", "'838:59:59.999999'"), "TIME(0)", (dt.time(0, 0, 0, 1000), None),
        ("00:00:00.001999", "838:59:59.999999")),
    Col("c_dt0", "DATETIME", ("'1000-01-01 00:00:00'", "'9999-12-31 23:59:59'"), "TIMESTAMP(0)",
        (_t(1000, 1, 1), _t(9999, 12, 31, 23, 59, 59)), ("1000-01-01 00:00:00", "9999-12-31 23:59:59")),
    Col("c_dt1", "DATETIME(1)", ("'2001-02-03 04:05:06.7'", "'1969-12-31 23:59:59.9'"), "TIMESTAMP(1)",
        (_t(2001, 2, 3, 4, 5, 6, 700000), _t(1969, 12, 31, 23, 59, 59, 900000)),
        ("2001-02-03 04:05:06.7", "1969-12-31 23:59:59.9")),
    Col("c_dt2", "DATETIME(2)", ("'2001-02-03 04:05:06.78'", "'1900-01-01 00:00:00.01'"), "TIMESTAMP(2)",
        (_t(2001, 2, 3, 4, 5, 6, 780000), _t(1900, 1, 1, 0, 0, 0, 10000)),
        ("2001-02-03 04:05:06.78", "1900-01-01 00:00:00.01")),
    Col("c_dt3", "DATETIME(3)", ("'1969-12-31 23:59:59.999'", "'2000-02-29 12:00:00.001'"), "TIMESTAMP(3)",
        (_t(1969, 12, 31, 23, 59, 59, 999000), _t(2000, 2, 29, 12, 0, 0, 1000)),
        ("1969-12-31 23:59:59.999", "2000-02-29 12:00:00.001")),
    Col("c_dt4", "DATETIME(4)", ("'2024-01-02 03:04:05.6789'", "'2024-01-02 00:00:00.0000'"), "TIMESTAMP(4)",
        (_t(2024, 1, 2, 3, 4, 5, 678900), _t(2024, 1, 2)), ("2024-01-02 03:04:05.6789", "2024-01-02 00:00:00.0000")),
    Col("c_dt5", "DATETIME(5)", ("'2024-01-02 03:04:05.67891'", "'1000-01-01 00:00:00.00001'"), "TIMESTAMP(5)",
        (_t(2024, 1, 2, 3, 4, 5, 678910), _t(1000, 1, 1, 0, 0, 0, 10)),
        ("2024-01-02 03:04:05.67891", "1000-01-01 00:00:00.00001")),
    Col("c_dt6", "DATETIME(6)", ("'1970-01-01 00:00:00.000001'", "'9999-12-31 23:59:59.999999'"), "TIMESTAMP(6)",
        (_t(1970, 1, 1, 0, 0, 0, 1), _t(9999, 12, 31, 23, 59, 59, 999999)),
        ("1970-01-01 00:00:00.000001", "9999-12-31 23:59:59.999999")),
]

INSTANTS = [  # UTC instants; to-string text in +09:00
    Col("c_ts0", "TIMESTAMP NULL", ("'1970-01-01 00:00:01'", "'2038-01-19 03:14:07'"), "TIMESTAMP(0)",
        (_t(1970, 1, 1, 0, 0, 1), _t(2038, 1, 19, 3, 14, 7)), ("1970-01-01 09:00:01", "2038-01-19 12:14:07"),
        instant=True),
    Col("c_ts1", "TIMESTAMP(1) NULL", ("'2024-12-31 15:00:00.5'", "'1999-12-31 23:59:59.9'"), "TIMESTAMP(1)",
        (_t(2024, 12, 31, 15, 0, 0, 500000), _t(1999, 12, 31, 23, 59, 59, 900000)),
        ("2025-01-01 00:00:00.5", "2000-01-01 08:59:59.9"), instant=True),
    Col("c_ts2", "TIMESTAMP(2) NULL", ("'2020-02-29 20:00:00.12'", "'1970-01-01 00:00:00.01'"), "TIMESTAMP(2)",
        (_t(2020, 2, 29, 20, 0, 0, 120000), _t(1970, 1, 1, 0, 0, 0, 10000)),
        ("2020-03-01 05:00:00.12", "1970-01-01 09:00:00.01"), instant=True),
    Col("c_ts3", "TIMESTAMP(3) NULL", ("'2038-01-19 03:14:07.999'", "'2001-09-09 01:46:40.000'"), "TIMESTAMP(3)",
        (_t(2038, 1, 19, 3, 14, 7, 999000), _t(2001, 9, 9, 1, 46, 40)),
        ("2038-01-19 12:14:07.999", "2001-09-09 10:46:40.000"), instant=True),
    Col("c_ts4", "TIMESTAMP(4) NULL", ("'2010-06-15 12:00:00.1234'", "'2010-06-15 23:30:00.0001'"), "TIMESTAMP(4)",
        (_t(2010, 6, 15, 12, 0, 0, 123400), _t(2010, 6, 15, 23, 30, 0, 100)),
        ("2010-06-15 21:00:00.1234", "2010-06-16 08:30:00.0001"), instant=True),
    Col("c_ts5", "TIMESTAMP(5) NULL", ("'1985-10-26 01:21:00.00001'", "'2015-10-21 16:29:00.99999'"), "TIMESTAMP(5)",
        (_t(1985, 10, 26, 1, 21, 0, 10), _t(2015, 10, 21, 16, 29, 0, 999990)),
        ("1985-10-26 10:21:00.00001", "2015-10-22 01:29:00.99999"), instant=True),
    Col("c_ts6", "TIMESTAMP(6) NULL", ("'2024-07-01 10:00:00.123456'", "'1970-01-01 00:00:01.000001'"),
        "TIMESTAMP(6)", (_t(2024, 7, 1, 10, 0, 0, 123456), _t(1970, 1, 1, 0, 0, 1, 1)),
        ("2024-07-01 19:00:00.123456", "1970-01-01 09:00:01.000001"), instant=True),
]

TEXTS = [
    Col("c_char", "CHAR(5)", ("'ab'", "'héllo'"), "CHAR(5)", ("ab", "héllo"), ("ab", "héllo"),
        ("STRING", ("ab", "héllo"))),
    Col("c_vc", "VARCHAR(300)", ("'🙂 emoji ü 漢字'", "''"), "VARCHAR(300)", ("🙂 emoji ü 漢字", ""),
        ("🙂 emoji ü 漢字", ""), ("STRING", ("🙂 emoji ü 漢字", ""))),
    Col("c_latin", "VARCHAR(10) CHARACTER SET latin1", ("'café €'", "'ÿ'"), "VARCHAR(10)", ("café €", "ÿ"),
        ("café €", "ÿ"), ("STRING", ("café €", "ÿ"))),
    Col("c_tt", "TINYTEXT", ("'tiny'", "''"), "STRING", ("tiny", ""), ("tiny", "")),
    Col("c_text", "TEXT", ("'line1\\nline2 \"q\" \\\\'", "' '"), "STRING", ('line1\nline2 "q" \\', " "),
        ('line1\nline2 "q" \\', " ")),
    Col("c_mt", "MEDIUMTEXT", ("REPEAT('m', 70000)", "'NULL'"), "STRING", ("m" * 70000, "NULL"),
        ("m" * 70000, "NULL")),
    Col("c_lt", "LONGTEXT", ("'long ✓'", "''"), "STRING", ("long ✓", ""), ("long ✓", ""),
        ("BYTES", ("long ✓".encode(), b""))),
    Col("c_enum", "ENUM('a','b c','ü')", ("'b c'", "'ü'"), "STRING", ("b c", "ü"), ("b c", "ü")),
    Col("c_set", "SET('x','y','z')", ("'z,x'", "''"), {"type": "ARRAY", "element": "STRING"}, (["x", "z"], []),
        ("x,z", "")),
    Col("c_json", "JSON", ("'{\"k\": [1, 2.5, \"ü\"]}'", "'[]'"), "STRING", ('{"k": [1, 2.5, "ü"]}', "[]"),
        ('{"k": [1, 2.5, "ü"]}', "[]")),
    Col("c_uuid", "UUID", ("'11223344-5566-7788-9900-AABBCCDDEE00'", "'00000000-0000-0000-0000-000000000000'"),
        "STRING", ("11223344-5566-7788-9900-aabbccddee00", "00000000-0000-0000-0000-000000000000"),
        ("11223344-5566-7788-9900-aabbccddee00", "00000000-0000-0000-0000-000000000000")),
    Col("c_inet6", "INET6", ("'2001:db8::ff00:42:8329'", "'::ffff:1.2.3.4'"), "STRING",
        ("2001:db8::ff00:42:8329", "::ffff:1.2.3.4"), ("2001:db8::ff00:42:8329", "::ffff:1.2.3.4")),
]

BINARIES = [
    Col("c_bin", "BINARY(4)", ("0x61620000", "0x00000000"), "VARBINARY(4)", (b"ab\0\0", b"\0\0\0\0"),
        ("YWIAAA==", "AAAAAA==")),
    Col("c_vb", "VARBINARY(10)", ("0x00ff00", "''"), "VARBINARY(10)", (b"\x00\xff\x00", b""), ("AP8A", "")),
    Col("c_tb", "TINYBLOB", ("0xff", "''"), "BYTES", (b"\xff", b""), ("/w==", "")),
    Col("c_blob", "BLOB", ("0x000102", "0x00"), "BYTES", (b"\x00\x01\x02", b"\x00"), ("AAEC", "AA==")),
    Col("c_mb", "MEDIUMBLOB", ("REPEAT(0xab, 70000)", "''"), "BYTES", (b"\xab" * 70000, b""),
        ("q6ur" * 23333 + "qw==", "")),
    Col("c_lb", "LONGBLOB", ("'long'", "''"), "BYTES", (b"long", b""), ("bG9uZw==", "")),
]

GEOMETRIES = [  # Paimon's JSON text, also under to-string
    Col("c_geo", "GEOMETRY", ("ST_GeomFromText('POINT(1 2)')", "ST_GeomFromText('LINESTRING(0 0, 1.5 -2)')"),
        "STRING", ('{"coordinates":[1,2],"type":"Point","srid":0}',
                   '{"coordinates":[[0,0],[1.5,-2]],"type":"LineString","srid":0}'),
        ('{"coordinates":[1,2],"type":"Point","srid":0}',
         '{"coordinates":[[0,0],[1.5,-2]],"type":"LineString","srid":0}')),
    Col("c_point", "POINT", ("ST_GeomFromText('POINT(-0.5 3)', 4326)", "ST_GeomFromText('POINT(0 0)')"), "STRING",
        ('{"coordinates":[-0.5,3],"type":"Point","srid":4326}', '{"coordinates":[0,0],"type":"Point","srid":0}'),
        ('{"coordinates":[-0.5,3],"type":"Point","srid":4326}', '{"coordinates":[0,0],"type":"Point","srid":0}')),
    Col("c_poly", "POLYGON", ("ST_GeomFromText('POLYGON((0 0,2 0,2 2,0 0))')",
                              "ST_GeomFromText('POLYGON((0 0,4 0,4 4,0 0),(1 1,2 1,2 2,1 1))')"), "STRING",
        ('{"coordinates":[[[0,0],[2,0],[2,2],[0,0]]],"type":"Polygon","srid":0}',
         '{"coordinates":[[[0,0],[4,0],[4,4],[0,0]],[[1,1],[2,1],[2,2],[1,1]]],"type":"Polygon","srid":0}'),
        ('{"coordinates":[[[0,0],[2,0],[2,2],[0,0]]],"type":"Polygon","srid":0}',
         '{"coordinates":[[[0,0],[4,0],[4,4],[0,0]],[[1,1],[2,1],[2,2],[1,1]]],"type":"Polygon","srid":0}')),
    Col("c_mpoint", "MULTIPOINT", ("ST_GeomFromText('MULTIPOINT(1 1, 2 2)')", "ST_GeomFromText('MULTIPOINT(0 0)')"),
        "STRING", ('{"coordinates":[[1,1],[2,2]],"type":"MultiPoint","srid":0}',
                   '{"coordinates":[[0,0]],"type":"MultiPoint","srid":0}'),
        ('{"coordinates":[[1,1],[2,2]],"type":"MultiPoint","srid":0}',
         '{"coordinates":[[0,0]],"type":"MultiPoint","srid":0}')),
    Col("c_gcoll", "GEOMETRYCOLLECTION",
        ("ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1))')",
         "ST_GeomFromText('GEOMETRYCOLLECTION(POINT(3 4))')"), "STRING",
        ('{"geometries":[{"type":"Point","coordinates":[1,2]},{"type":"LineString","coordinates":[[0,0],[1,1]]}],'
         '"type":"GeometryCollection","srid":0}',
         '{"geometries":[{"type":"Point","coordinates":[3,4]}],"type":"GeometryCollection","srid":0}'),
        ('{"geometries":[{"type":"Point","coordinates":[1,2]},{"type":"LineString","coordinates":[[0,0],[1,1]]}],'
         '"type":"GeometryCollection","srid":0}',
         '{"geometries":[{"type":"Point","coordinates":[3,4]}],"type":"GeometryCollection","srid":0}')),
]

COLUMNS = INTEGERS + NUMBERS + TEMPORALS + INSTANTS + TEXTS + BINARIES + GEOMETRIES
A, B, N = 0, 1, 2
"""Row templates: A, B, and N (NULL in every nullable column)."""


def literal(col: Col, template: int) -> str:
    return col.literals[template] if template < len(col.literals) else "NULL"


def expected(col: Col, template: int, mapping: str, offset: dt.timedelta):
    """What the lake shows in ``col`` for ``template`` under ``mapping`` (``default``, ``OPTIONS``
    or ``to-string``); ``offset``: server-time-zone's offset (TIMESTAMP columns)."""
    if mapping == "to-string":
        return col.text[template] if template < len(col.text) else None
    values = col.options[1] if mapping == OPTIONS and col.options else col.values
    value = values[template] if template < len(values) else None
    return value + offset if col.instant and value is not None else value


def paimon_type(col: Col, mapping: str):
    """The Paimon type of ``col`` in the lake table's schema file (JSON form)."""
    if mapping == "to-string":
        return "STRING NOT NULL" if "NOT NULL" in col.sql else "STRING"
    return col.options[0] if mapping == OPTIONS and col.options else col.paimon
