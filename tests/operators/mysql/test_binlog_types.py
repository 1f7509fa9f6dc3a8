"""Every MySQL type through the binlog decoder, against values written by hand."""

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from operators.mysql.canonical import canonical_arrow_type
from tests.support.binlog import drain, position, rows_of, stream

pytestmark = pytest.mark.slow

UTC = dt.timezone.utc
COLUMNS = """id INT PRIMARY KEY,
 ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
 i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED, f FLOAT, db DOUBLE,
 d1 DECIMAL(5,2), d2 DECIMAL(30,10), d3 DECIMAL(65,30), d4 DECIMAL(18,0), d5 DECIMAL(10,9),
 dt DATE, tm TIME, tm1 TIME(1), tm3 TIME(3), tm6 TIME(6), dtm DATETIME, dtm2 DATETIME(2), dtm6 DATETIME(6),
 ts TIMESTAMP(3) NULL, yr YEAR,
 c CHAR(5), vc VARCHAR(300), cl CHAR(4) CHARACTER SET latin1, vl VARCHAR(10) CHARACTER SET latin1,
 b BINARY(4), vb VARBINARY(10), tt TINYTEXT, tx TEXT, mt MEDIUMTEXT, lt LONGTEXT, tb TINYBLOB, bl BLOB, lb LONGBLOB,
 e ENUM('a','b','c'), st SET('x','y','z'), bt BIT(10), b1 BIT(1), j JSON, g GEOMETRY, u UUID"""

ROWS = [
    "(1, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, "
    "18446744073709551615, 1.5, 2.25, 999.99, 12345678901234567890.0123456789, "
    "12345678901234567890123456789012345.123456789012345678901234567891, 999999999999999999, 9.123456789, "
    "'2024-02-29', '838:59:59', '12:00:00.5', '01:02:03.004', '00:00:00.000001', '9999-12-31 23:59:59', "
    "'2000-01-01 00:00:00.99', '1970-01-01 00:00:00.000001', '2038-01-19 03:14:07.999', 2155, "
    "'héllo', REPEAT('ü', 300), 'café', '€uro', 0x61000000, 0x0001, 'tiny', 'text', 'medium', 'long', "
    "0xff00, 0x00ff, 0x0102, 'c', 'x,z', b'1000000001', b'1', '{\"k\": [1, 2]}', ST_GeomFromText('POINT(1 2)'), "
    "'11223344-5566-7788-9900-aabbccddeeff')",
    "(2, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, -1.5, -2.25, -999.99, "
    "-0.0000000001, -1.000000000000000000000000000001, -999999999999999999, -0.000000001, "
    "'1000-01-01', '-838:59:59', '-00:00:01.5', '-01:00:00.5', '-00:00:00.000001', '1000-01-01 00:00:00', "
    "'1000-01-01 00:00:00.01', '1000-01-01 00:00:00', '1970-01-01 00:00:01', 1901, "
    "'', '', '', '', '', '', '', '', '', '', '', '', '', 'a', '', b'0', b'0', '[]', NULL, "
    "'00000000-0000-0000-0000-000000000000')",
    "(3" + ", NULL" * 47 + ")",
    "(4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '0000-00-00', '00:00:00', '-00:00:00.1', '00:00:00', "
    "'00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '2020-00-00 00:00:00', '0000-00-00 00:00:00', 0, "
    "'a ', 'a ', 'a', 'a ', 0x61, 0x6100, 't', 't', 't', 't', 0x00, 0x00, 0x00, '', '', b'0', b'0', 'null', NULL, "
    "'11223344-5566-7788-9900-aabbccddee00')",
]

MAX_TIME = dt.timedelta(hours=838, minutes=59, seconds=59)
EXPECTED = [
    dict(id=1, ti=127, tiu=255, si=32767, siu=65535, mi=8388607, miu=16777215, i=2147483647, iu=4294967295,
         bi=9223372036854775807, biu=18446744073709551615, f=1.5, db=2.25, d1=Decimal("999.99"),
         d2=Decimal("12345678901234567890.0123456789"),
         d3="12345678901234567890123456789012345.123456789012345678901234567891",
         d4=Decimal("999999999999999999"), d5=Decimal("9.123456789"),
         dt=dt.date(2024, 2, 29), tm=MAX_TIME, tm1=dt.timedelta(hours=12, microseconds=500000),
         tm3=dt.timedelta(hours=1, minutes=2, seconds=3, microseconds=4000), tm6=dt.timedelta(microseconds=1),
         dtm=dt.datetime(9999, 12, 31, 23, 59, 59), dtm2=dt.datetime(2000, 1, 1, 0, 0, 0, 990000),
         dtm6=dt.datetime(1970, 1, 1, 0, 0, 0, 1), ts=dt.datetime(2038, 1, 19, 3, 14, 7, 999000, tzinfo=UTC),
         yr=2155, c="héllo", vc="ü" * 300, cl="café", vl="€uro", b=b"a\0\0\0", vb=b"\x00\x01", tt="tiny",
         tx="text", mt="medium", lt="long", tb=b"\xff\x00", bl=b"\x00\xff", lb=b"\x01\x02", e="c", st=["x", "z"],
         bt=b"\x02\x01", b1=b"\x01", j='{"k": [1, 2]}',
         g=b"\0\0\0\0\x01\x01\0\0\0" + bytes.fromhex("000000000000f03f") + bytes.fromhex("0000000000000040"),
         u=bytes.fromhex("11223344556677889900aabbccddeeff")),
    dict(id=2, ti=-128, tiu=0, si=-32768, siu=0, mi=-8388608, miu=0, i=-2147483648, iu=0, bi=-9223372036854775808,
         biu=0, f=-1.5, db=-2.25, d1=Decimal("-999.99"), d2=Decimal("-0.0000000001"),
         d3="-1.000000000000000000000000000001", d4=Decimal("-999999999999999999"), d5=Decimal("-0.000000001"),
         dt=dt.date(1000, 1, 1), tm=-MAX_TIME, tm1=-dt.timedelta(seconds=1, microseconds=500000),
         tm3=-dt.timedelta(hours=1, microseconds=500000), tm6=dt.timedelta(microseconds=-1),
         dtm=dt.datetime(1000, 1, 1), dtm2=dt.datetime(1000, 1, 1, 0, 0, 0, 10000), dtm6=dt.datetime(1000, 1, 1),
         ts=dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), yr=1901, c="", vc="", cl="", vl="", b=b"\0\0\0\0", vb=b"",
         tt="", tx="", mt="", lt="", tb=b"", bl=b"", lb=b"", e="a", st=[], bt=b"\x00\x00", b1=b"\x00", j="[]",
         g=None, u=bytes(16)),
    dict(id=3, **{k: None for k in "ti tiu si siu mi miu i iu bi biu f db d1 d2 d3 d4 d5 dt tm tm1 tm3 tm6 dtm dtm2 "
                                  "dtm6 ts yr c vc cl vl b vb tt tx mt lt tb bl lb e st bt b1 j g u".split()}),
    dict(id=4, ti=0, tiu=0, si=0, siu=0, mi=0, miu=0, i=0, iu=0, bi=0, biu=0, f=0.0, db=0.0, d1=Decimal("0.00"),
         d2=Decimal("0E-10"), d3="0.000000000000000000000000000000", d4=Decimal("0"), d5=Decimal("0E-9"),
         dt=None, tm=dt.timedelta(0), tm1=dt.timedelta(microseconds=-100000), tm3=dt.timedelta(0),
         tm6=dt.timedelta(0), dtm=None, dtm2=None, dtm6=None, ts=None, yr=0, c="a", vc="a ", cl="a", vl="a ",
         b=b"a\0\0\0", vb=b"a\x00", tt="t", tx="t", mt="t", lt="t", tb=b"\0", bl=b"\0", lb=b"\0", e="", st=[],
         bt=b"\x00\x00", b1=b"\x00", j="null", g=None, u=bytes.fromhex("11223344556677889900aabbccddee00")),
]


def test_every_type_decodes_to_its_canonical_value(mariadb_server, mysql_database):
    conn = mariadb_server.connect(mysql_database)
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE all_types ({COLUMNS})")
        cur.execute("SET SESSION sql_mode = '', time_zone = '+00:00'")
        start = position(mariadb_server)
        for row in ROWS:
            cur.execute(f"INSERT INTO all_types VALUES {row}")
        cur.execute("SELECT id, tm1, biu, d2 FROM all_types ORDER BY id")
        selected = cur.fetchall()
    conn.close()
    s = stream(mariadb_server, start, mysql_database)
    transactions = drain(s)
    s.close()
    got = rows_of(transactions)
    assert [r["id"] for r in got] == [1, 2, 3, 4]
    for row, expected in zip(got, EXPECTED):
        for name, value in expected.items():
            assert row[name] == value, (row["id"], name, row[name], value)
    change = transactions[0].changes[0]
    for column, array in zip(change.table.columns, change.after):
        assert array.type == canonical_arrow_type(column.type), column
    assert [(r["id"], r["tm1"], r["biu"], r["d2"]) for r in got] == [tuple(s) for s in selected]
    types = {c.name: c.type for c in change.table.columns}
    assert (types["vc"].name, types["vc"].length, types["c"].name, types["c"].length) == ("varchar", 300, "char", 5)
    assert (types["b"].name, types["b"].length, types["vb"].name) == ("binary", 4, "varbinary")
    assert [types[n].name for n in ("tt", "tx", "mt", "lt", "tb", "bl", "lb")] == \
        ["tinytext", "text", "mediumtext", "longtext", "tinyblob", "blob", "longblob"]
    assert (types["d2"].precision, types["d2"].scale, types["tm3"].fsp, types["bt"].length) == (30, 10, 3, 10)
    assert types["e"].elements == ("a", "b", "c") and types["st"].elements == ("x", "y", "z")
    assert types["biu"].unsigned and not types["bi"].unsigned and types["cl"].charset == "latin1"
    assert change.table.primary_keys == ("id",)
    assert [c.nullable for c in change.table.columns[:2]] == [False, True]
    names = [c.name for c in change.table.columns]
    assert pa.types.is_string(change.after[names.index("j")].type)  # MariaDB JSON is text


def test_old_images_decoded_in_part_and_again_whole(mariadb_server, mysql_database):
    """Updates over every type (values, NULLs, empty values): with only the key of the old images
    decoded (``update_before``), the new images and the old key are those of the whole decode, old
    columns are either the same or left out (all but those that share the key's run of fixed-width
    values), and ``whole_before`` gives the whole decode's old images."""
    conn = mariadb_server.connect(mysql_database)
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE typed_updates ({COLUMNS})")
        cur.execute("SET SESSION sql_mode = '', time_zone = '+00:00'")
        for row in ROWS:
            cur.execute(f"INSERT INTO typed_updates VALUES {row}")
        start = position(mariadb_server)
        cur.execute("UPDATE typed_updates SET id = id + 10, vc = CONCAT(IFNULL(vc, ''), 'x'), d2 = NULL")
        cur.execute("UPDATE typed_updates SET ti = NULL, tx = 'after' WHERE id > 11")
    conn.close()
    whole = stream(mariadb_server, start, mysql_database)
    partial = stream(mariadb_server, start, mysql_database, update_before=lambda table: frozenset({"id"}))
    expected, got = drain(whole), drain(partial)
    whole.close()
    partial.close()
    expected_changes = [c for t in expected for c in t.changes]
    changes = [c for t in got for c in t.changes]
    assert [len(c) for c in changes] == [len(c) for c in expected_changes] == [4, 3]
    names = [c.name for c in changes[0].table.columns]
    for change, reference in zip(changes, expected_changes):
        assert change.after == reference.after and change.whole_before_of is not None
        assert change.before[0] == reference.before[0]  # the key's column
        left_out = {names[i] for i, array in enumerate(change.before) if array is None}
        assert {"c", "vc", "tx", "j", "g", "u"} <= left_out and "id" not in left_out
        assert all(a is None or a == b for a, b in zip(change.before, reference.before))
        assert change.whole_before() == reference.before
        assert reference.whole_before() is reference.before
