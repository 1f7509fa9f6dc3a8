"""The MySQL -> Paimon type mapping (docs/mysql.md §2, every row, with the --type_mapping options)
and the conversion of canonical arrays into the Paimon types' Arrow arrays."""

from __future__ import annotations

import datetime as dt
import logging
import struct
from decimal import Decimal

import pyarrow as pa
import pytest

from operators.mysql.source_config import TypeMapping
from operators.mysql.source_table import MySqlColumn, MySqlType
from operators.mysql.types import UnsupportedTypeError, geometry_json, paimon_type, to_paimon_arrow
from paimon_py.types import to_arrow_type

T = MySqlType
DEFAULT = TypeMapping()

MAPPING = [
    (T("bit", length=1), "BOOLEAN"),
    (T("bit", length=10), "BINARY(2)"),
    (T("tinyint", length=1), "BOOLEAN"),
    (T("tinyint", length=4), "TINYINT"),
    (T("tinyint", unsigned=True, length=3), "SMALLINT"),
    (T("tinyint", unsigned=True, length=1), "SMALLINT"),
    (T("smallint"), "SMALLINT"),
    (T("smallint", unsigned=True), "INT"),
    (T("mediumint"), "INT"),
    (T("int"), "INT"),
    (T("year"), "INT"),
    (T("mediumint", unsigned=True), "BIGINT"),
    (T("int", unsigned=True), "BIGINT"),
    (T("bigint"), "BIGINT"),
    (T("bigint", unsigned=True), "DECIMAL(20, 0)"),
    (T("float"), "FLOAT"),
    (T("double"), "DOUBLE"),
    (T("decimal", precision=12, scale=2), "DECIMAL(12, 2)"),
    (T("decimal", precision=38, scale=10), "DECIMAL(38, 10)"),
    (T("decimal", precision=65, scale=30), "STRING"),
    (T("date"), "DATE"),
    (T("time", fsp=3), "TIME(0)"),
    (T("datetime", fsp=6), "TIMESTAMP(6)"),
    (T("datetime"), "TIMESTAMP(0)"),
    (T("timestamp", fsp=3), "TIMESTAMP(3)"),
    (T("char", length=5), "CHAR(5)"),
    (T("varchar", length=20), "VARCHAR(20)"),
    (T("varchar", length=0), "STRING"),
    (T("tinytext"), "STRING"),
    (T("text"), "STRING"),
    (T("mediumtext"), "STRING"),
    (T("longtext"), "STRING"),
    (T("json"), "STRING"),
    (T("enum", elements=("a", "b")), "STRING"),
    (T("set", elements=("a", "b")), {"type": "ARRAY", "element": "STRING"}),
    (T("binary", length=4), "VARBINARY(4)"),
    (T("varbinary", length=9), "VARBINARY(9)"),
    (T("tinyblob"), "BYTES"),
    (T("blob"), "BYTES"),
    (T("mediumblob"), "BYTES"),
    (T("longblob"), "BYTES"),
    (T("geometry"), "STRING"),
    (T("point"), "STRING"),
    (T("multipolygon"), "STRING"),
    (T("uuid"), "STRING"),
    (T("inet6"), "STRING"),
    (T("inet4"), "STRING"),
]


@pytest.mark.parametrize("mysql_type, expected", MAPPING, ids=[str(t) for t, _ in MAPPING])
def test_default_mapping_and_to_string(mysql_type, expected):
    assert paimon_type(MySqlColumn("c", mysql_type), DEFAULT, False).to_json() == expected
    not_null = MySqlColumn("c", mysql_type, nullable=False)
    assert paimon_type(not_null, TypeMapping(to_string=True), False).to_json() == "STRING NOT NULL"


@pytest.mark.parametrize("option, mysql_type, expected", [
    ("tinyint1-not-bool", T("tinyint", length=1), "TINYINT"),
    ("tinyint1-not-bool", T("bit", length=1), "BOOLEAN"),
    ("char-to-string", T("char", length=5), "STRING"),
    ("char-to-string", T("varchar", length=5), "STRING"),
    ("char-to-string", T("text"), "STRING"),
    ("longtext-to-bytes", T("longtext"), "BYTES"),
    ("longtext-to-bytes", T("mediumtext"), "STRING"),
    ("bigint-unsigned-to-bigint", T("bigint", unsigned=True), "BIGINT"),
    ("bigint-unsigned-to-bigint", T("int", unsigned=True), "BIGINT"),
])
def test_options(option, mysql_type, expected):
    assert paimon_type(MySqlColumn("c", mysql_type), TypeMapping.parse(option), False).to_json() == expected


def test_nullability_and_to_nullable():
    column = MySqlColumn("c", T("int"), nullable=False)
    assert paimon_type(column, DEFAULT, False).to_json() == "INT NOT NULL"
    assert paimon_type(column, TypeMapping(to_nullable=True), False).to_json() == "INT"
    assert paimon_type(column, TypeMapping(to_nullable=True), True).to_json() == "INT NOT NULL"


def test_unknown_type_names_to_string():
    with pytest.raises(UnsupportedTypeError, match="to-string"):
        paimon_type(MySqlColumn("c", T("vector")), DEFAULT, False)


# --- values -----------------------------------------------------------------------------------------

def convert(values, arrow_type, mysql_type, mapping=DEFAULT, zone="+00:00"):
    data_type = paimon_type(MySqlColumn("c", mysql_type), mapping, False)
    result = to_paimon_arrow(pa.array(values, arrow_type), mysql_type, data_type, zone, "c")
    assert result.type == to_arrow_type(data_type)
    return result.to_pylist()


def test_integers_booleans_bits():
    assert convert([0, 1, 5, None], pa.int64(), T("tinyint", length=1)) == [False, True, True, None]
    assert convert([0, 255], pa.uint64(), T("tinyint", unsigned=True)) == [0, 255]
    assert convert([b"\x00", b"\x01", None], pa.binary(), T("bit", length=1)) == [False, True, None]
    assert convert([b"\x02\xaa"], pa.binary(), T("bit", length=10)) == [b"\x02\xaa"]
    assert convert([2 ** 64 - 1], pa.uint64(), T("bigint", unsigned=True)) == [Decimal(2 ** 64 - 1)]
    assert convert([2 ** 64 - 1], pa.uint64(), T("bigint", unsigned=True),
                   TypeMapping(bigint_unsigned_to_bigint=True)) == [-1]


def test_decimals_floats_and_wide_decimals():
    assert convert([Decimal("-1.25")], pa.decimal128(12, 2), T("decimal", precision=12, scale=2)) == \
        [Decimal("-1.25")]
    wide = "1" * 35 + "." + "2" * 30
    assert convert([wide], pa.string(), T("decimal", precision=65, scale=30)) == [wide]
    assert convert([1.5], pa.float32(), T("float")) == [1.5]


def test_timestamp_becomes_wall_clock_of_the_zone_datetime_stays():
    instant = [dt.datetime(2024, 7, 1, 10, 0, 0, 123456), None]
    assert convert(instant, pa.timestamp("us", "UTC"), T("timestamp", fsp=6), zone="+02:00") == \
        [dt.datetime(2024, 7, 1, 12, 0, 0, 123456), None]
    assert convert(instant, pa.timestamp("us", "UTC"), T("timestamp", fsp=6), zone="America/New_York") == \
        [dt.datetime(2024, 7, 1, 6, 0, 0, 123456), None]
    assert convert(instant, pa.timestamp("us", "UTC"), T("timestamp", fsp=3), zone="+00:00") == \
        [dt.datetime(2024, 7, 1, 10, 0, 0, 123000), None]
    assert convert(instant, pa.timestamp("us"), T("datetime", fsp=6), zone="+02:00") == instant


def test_time_outside_a_day_becomes_null_with_one_warning(caplog):
    values = [dt.timedelta(hours=1, microseconds=250000), dt.timedelta(hours=-1), dt.timedelta(hours=25), None]
    with caplog.at_level(logging.WARNING):
        result = convert(values, pa.duration("us"), T("time", fsp=6))
    assert result == [dt.time(1, 0, 0, 250000), None, None, None]
    assert len(caplog.records) == 1 and "to-string" in caplog.records[0].getMessage()


def test_strings_sets_longtext_bytes():
    assert convert([["a", "b"], [], None], pa.list_(pa.string()), T("set", elements=("a", "b"))) == \
        [["a", "b"], [], None]
    assert convert(["café"], pa.string(), T("longtext"), TypeMapping(longtext_to_bytes=True)) == \
        ["café".encode()]


def test_to_string_texts():
    to_string = TypeMapping(to_string=True)
    assert convert([dt.timedelta(hours=-1, microseconds=-250000), dt.timedelta(hours=838, minutes=59, seconds=59)],
                   pa.duration("us"), T("time", fsp=3), to_string) == ["-01:00:00.250", "838:59:59.000"]
    assert convert([dt.datetime(2024, 1, 2, 3, 4, 5, 600000)], pa.timestamp("us"), T("datetime", fsp=1),
                   to_string) == ["2024-01-02 03:04:05.6"]
    assert convert([dt.datetime(2024, 1, 2, 3, 4, 5)], pa.timestamp("us", "UTC"), T("timestamp"), to_string,
                   zone="-05:00") == ["2024-01-01 22:04:05"]
    assert convert([["a", "b"], []], pa.list_(pa.string()), T("set"), to_string) == ["a,b", ""]
    assert convert([b"\x00\xff"], pa.binary(), T("varbinary", length=2), to_string) == ["AP8="]
    assert convert([Decimal("1.50"), None], pa.decimal128(5, 2), T("decimal", precision=5, scale=2),
                   to_string) == ["1.50", None]
    assert convert([Decimal("-0.0000000001"), Decimal("0E-10")], pa.decimal128(38, 10),
                   T("decimal", precision=38, scale=10), to_string) == ["-0.0000000001", "0.0000000000"]
    assert convert([b"\x01", b"\x00", None], pa.binary(), T("bit", length=1), to_string) == ["true", "false", None]
    assert convert([b"\x02\x01"], pa.binary(), T("bit", length=10), to_string) == ["AgE="]
    assert convert([dt.date(2024, 2, 29)], pa.date32(), T("date"), to_string) == ["2024-02-29"]


def wkb_point(x: float, y: float) -> bytes:
    return struct.pack("<BIdd", 1, 1, x, y)


def test_geometry_json():
    point = struct.pack("<I", 4326) + wkb_point(1, 2.5)
    line = struct.pack("<I", 0) + struct.pack("<BII", 1, 2, 2) + struct.pack("<4d", 0, 0, 1, 1)
    polygon = struct.pack("<I", 0) + struct.pack("<BIII", 1, 3, 1, 4) + struct.pack("<8d", 0, 0, 1, 0, 1, 1, 0, 0)
    multi = struct.pack("<I", 0) + struct.pack("<BII", 1, 4, 2) + wkb_point(1, 1) + wkb_point(2, 2)
    collection = struct.pack("<I", 0) + struct.pack("<BII", 1, 7, 1) + wkb_point(3, 4)
    assert geometry_json(pa.array([point, line, polygon, multi, collection, None])).to_pylist() == [
        '{"coordinates":[1,2.5],"type":"Point","srid":4326}',
        '{"coordinates":[[0,0],[1,1]],"type":"LineString","srid":0}',
        '{"coordinates":[[[0,0],[1,0],[1,1],[0,0]]],"type":"Polygon","srid":0}',
        '{"coordinates":[[1,1],[2,2]],"type":"MultiPoint","srid":0}',
        '{"geometries":[{"type":"Point","coordinates":[3,4]}],"type":"GeometryCollection","srid":0}',
        None]


def test_binlog_bytes_of_uuid_and_inet_become_the_servers_text():
    """The binlog carries MariaDB's UUID/INET6/INET4 as BINARY(16/16/4); the mapping known from
    information_schema keeps the type and writes the text the snapshot reads."""
    from operators.mysql.canonical import text_form
    from operators.mysql.source_table import MySqlTable
    from operators.mysql.table_mapping import reconcile
    uuid = bytes.fromhex("6ccd780cbaba102695645b8c656024db")
    assert text_form(pa.array([uuid, None]), "uuid").to_pylist() == ["6ccd780c-baba-1026-9564-5b8c656024db", None]
    inet6 = [bytes(10) + b"\xff\xff\x01\x02\x03\x04", bytes(12) + b"\x01\x02\x03\x04", bytes(15) + b"\x01",
             bytes.fromhex("20010db8000000000000ff0000428329")]
    assert text_form(pa.array(inet6), "inet6").to_pylist() == ["::ffff:1.2.3.4", "::1.2.3.4", "::1",
                                                                "2001:db8::ff00:42:8329"]
    assert text_form(pa.array([b"\xff\x00\x00\x01"]), "inet4").to_pylist() == ["255.0.0.1"]
    known = MySqlTable("d", "t", (MySqlColumn("u", T("uuid")), MySqlColumn("i", T("inet4"))), ())
    logged = MySqlTable("d", "t", (MySqlColumn("u", T("binary", length=16)), MySqlColumn("i", T("binary", length=4))),
                        ())
    assert [c.type.name for c in reconcile(known, logged).columns] == ["uuid", "inet4"]
