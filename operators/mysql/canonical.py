"""The canonical Arrow form of MySQL values: what the binlog decoder and the snapshot reader
both produce for a column, before the type mapping (``operators/mysql/types.py``) turns it into
the column's Paimon type. One form per MySQL type, so a value read in the snapshot and the same
value read from the binlog are equal.

| MySQL type (``MySqlType.name``) | canonical Arrow type | notes |
|---|---|---|
| tinyint, smallint, mediumint, int, bigint, year | int64; uint64 when unsigned | YEAR 0000 is 0 |
| float / double | float32 / float64 | |
| decimal | decimal128(p, s); string (the exact digits) when p > 38 | |
| bit | binary: (n + 7) // 8 bytes, big-endian | |
| date | date32 | zero and invalid dates are NULL |
| time | duration("us") | -838:59:59.999999 .. 838:59:59.999999 |
| datetime | timestamp("us") | wall clock; zero dates are NULL |
| timestamp | timestamp("us", "UTC") | the instant; zero is NULL |
| char, varchar, tinytext, text, mediumtext, longtext, enum, json | string | decoded from the column's charset; MySQL's binary JSON as MySQL prints it (``binlog/mysql_json.py``) |
| binary, varbinary, tinyblob, blob, mediumblob, longblob | binary | BINARY(n) padded to n bytes with 0x00 |
| set | list<string> | the empty set is [], not NULL |
| geometry, point, linestring, polygon, multi*, geometrycollection | binary | 4-byte SRID + WKB, as stored |
| uuid / inet6 / inet4 | string | canonical text form |

A text column whose charset is ``binary`` is canonically binary.
"""

from __future__ import annotations

import pyarrow as pa

from operators.mysql.source_table import MySqlType

INTEGER_TYPES = frozenset({"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year"})
TEXT_TYPES = frozenset({"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "json"})
BINARY_TYPES = frozenset({"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"})
GEOMETRY_TYPES = frozenset({"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
                            "multipolygon", "geometrycollection"})
TEXT_FORM_TYPES = frozenset({"uuid", "inet6", "inet4"})


def canonical_arrow_type(t: MySqlType) -> pa.DataType:
    name = t.name
    if name in INTEGER_TYPES:
        return pa.uint64() if t.unsigned and name != "year" else pa.int64()
    if name == "float":
        return pa.float32()
    if name in ("double", "real"):
        return pa.float64()
    if name in ("decimal", "numeric"):
        precision = t.precision or 10
        return pa.decimal128(precision, t.scale or 0) if precision <= 38 else pa.string()
    if name == "date":
        return pa.date32()
    if name == "time":
        return pa.duration("us")
    if name == "datetime":
        return pa.timestamp("us")
    if name == "timestamp":
        return pa.timestamp("us", "UTC")
    if name in TEXT_TYPES:
        return pa.binary() if t.charset == "binary" else pa.string()
    if name == "set":
        return pa.list_(pa.string())
    if name in BINARY_TYPES or name in GEOMETRY_TYPES or name == "bit":
        return pa.binary()
    if name in TEXT_FORM_TYPES:
        return pa.string()
    raise ValueError(f"MySQL type {name} has no canonical form")


TEXT_FORM_BYTES = {"uuid": 16, "inet6": 16, "inet4": 4}
"""The binlog carries MariaDB's UUID, INET6 and INET4 as BINARY(n) of these sizes."""


def text_form(array: pa.Array, name: str) -> pa.Array:
    """Binlog bytes of a UUID/INET6/INET4 column -> the server's text of the value."""
    render = {"uuid": _uuid_text, "inet6": _inet6_text, "inet4": lambda v: ".".join(map(str, v))}[name]
    return pa.array([None if v is None else render(v) for v in array.to_pylist()], pa.string())


def _uuid_text(value: bytes) -> str:
    h = value.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _inet6_text(value: bytes) -> str:
    """As MariaDB writes it (``Inet6::to_string``): the longest run of zero words as ``::``, an
    IPv4-compatible or -mapped address with the IPv4 part dotted."""
    import ipaddress
    words = [int.from_bytes(value[i:i + 2], "big") for i in range(0, 16, 2)]
    if words[:5] == [0] * 5 and (words[5] == 0xFFFF or (words[5] == 0 and words[6] != 0)):
        return ("::ffff:" if words[5] else "::") + ".".join(map(str, value[12:]))
    return ipaddress.IPv6Address(value).compressed
