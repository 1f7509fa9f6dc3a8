"""TABLE_MAP events: the table's identity, its columns' binlog types and metadata, and (with
``binlog_row_metadata=FULL``) names, signedness, charsets, ENUM/SET values and primary key, read
into a ``MySqlTable``."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Optional

from operators.cdc.errors import SourceNotReady
from operators.mysql.binlog.charsets import BUILTIN_COLLATIONS
from operators.mysql.binlog.events import HEADER_LEN
from operators.mysql.source_table import MySqlColumn, MySqlTable, MySqlType

(DECIMAL, TINY, SHORT, LONG, FLOAT, DOUBLE, NULL, TIMESTAMP, LONGLONG, INT24, DATE, TIME, DATETIME, YEAR,
 NEWDATE, VARCHAR, BIT, TIMESTAMP2, DATETIME2, TIME2) = range(20)
JSON, NEWDECIMAL, ENUM, SET, TINY_BLOB, MEDIUM_BLOB, LONG_BLOB, BLOB, VAR_STRING, STRING, GEOMETRY = range(245, 256)

ONE_BYTE_META = frozenset({FLOAT, DOUBLE, BLOB, GEOMETRY, JSON, TIMESTAMP2, DATETIME2, TIME2, TINY_BLOB,
                           MEDIUM_BLOB, LONG_BLOB})
TWO_BYTE_META = frozenset({VARCHAR, VAR_STRING, BIT, NEWDECIMAL, STRING, ENUM, SET, DECIMAL})
NUMERIC = frozenset({TINY, SHORT, INT24, LONG, LONGLONG, NEWDECIMAL, FLOAT, DOUBLE, YEAR})
"""The columns TABLE_MAP's signedness bitmap covers (YEAR included, as the server counts it)."""
INTEGER_NAMES = {TINY: "tinyint", SHORT: "smallint", INT24: "mediumint", LONG: "int", LONGLONG: "bigint"}
TEMPORAL_NAMES = {DATE: "date", NEWDATE: "date", TIME: "time", TIME2: "time", DATETIME: "datetime",
                  DATETIME2: "datetime", TIMESTAMP: "timestamp", TIMESTAMP2: "timestamp", YEAR: "year"}
TEXT_BY_LENGTH_BYTES = {1: "tinytext", 2: "text", 3: "mediumtext", 4: "longtext"}
BLOB_BY_LENGTH_BYTES = {1: "tinyblob", 2: "blob", 3: "mediumblob", 4: "longblob"}
GEOMETRY_NAMES = ("geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
                  "geometrycollection")
(SIGNEDNESS, DEFAULT_CHARSET, COLUMN_CHARSET, COLUMN_NAME, SET_STR_VALUE, ENUM_STR_VALUE, GEOMETRY_TYPE,
 SIMPLE_PRIMARY_KEY, PRIMARY_KEY_WITH_PREFIX, ENUM_AND_SET_DEFAULT_CHARSET, ENUM_AND_SET_COLUMN_CHARSET) = range(1, 12)


@dataclass(frozen=True)
class ColumnLayout:
    """How one column's values are laid out in rows events."""

    code: int
    """Binlog type (ENUM/SET resolved from STRING's real type)."""
    meta: int
    """Type metadata: max bytes (strings), length bytes (blobs), fsp, pack length (enum/set),
    ``precision << 8 | scale`` (decimal), ``bytes << 8 | bits`` (bit), float size."""
    type: MySqlType


@dataclass(frozen=True)
class TableMap:
    table_id: int
    table: MySqlTable
    layouts: tuple[ColumnLayout, ...]
    has_names: bool


def lenenc(buf: bytes, p: int) -> tuple[int, int]:
    """A length-encoded integer at ``p``: (value, next position)."""
    first = buf[p]
    if first < 0xFB:
        return first, p + 1
    size = {0xFC: 2, 0xFD: 3, 0xFE: 8}[first]
    return int.from_bytes(buf[p + 1:p + 1 + size], "little"), p + 1 + size


def table_map_header(event: bytes) -> tuple[int, str, str, int]:
    """(table id, database, table, position after the names)."""
    table_id = int.from_bytes(event[HEADER_LEN:HEADER_LEN + 6], "little")
    p = HEADER_LEN + 8
    db = event[p + 1:p + 1 + event[p]].decode("utf-8", "replace")
    p += event[p] + 2
    name = event[p + 1:p + 1 + event[p]].decode("utf-8", "replace")
    return table_id, db, name, p + event[p] + 2


def _column_meta(codes: list[int], meta: bytes) -> list[tuple[int, int]]:
    """(resolved type, metadata) per column from the metadata block."""
    out, p = [], 0
    for code in codes:
        value = 0
        if code in ONE_BYTE_META:
            value, p = meta[p], p + 1
        elif code in (VARCHAR, VAR_STRING):
            value, p = struct.unpack_from("<H", meta, p)[0], p + 2
        elif code in (BIT, NEWDECIMAL, DECIMAL):
            value, p = meta[p] << 8 | meta[p + 1], p + 2
            if code == BIT:
                value = meta[p - 1] << 8 | meta[p - 2]
        elif code in (STRING, ENUM, SET):
            b0, b1, p = meta[p], meta[p + 1], p + 2
            if b0 in (ENUM, SET):
                code, value = b0, b1
            elif b0 & 0x30 != 0x30:
                code, value = b0 | 0x30, b1 | (((b0 & 0x30) ^ 0x30) << 4)
            else:
                code, value = b0, b1
        out.append((code, value))
    return out


def _optional(buf: bytes, p: int, end: int) -> dict[int, bytes]:
    fields = {}
    while p < end:
        kind = buf[p]
        length, p = lenenc(buf, p + 1)
        fields[kind] = buf[p:p + length]
        p += length
    return fields


def _ints(data: bytes) -> list[int]:
    out, p = [], 0
    while p < len(data):
        value, p = lenenc(data, p)
        out.append(value)
    return out


def _strings(data: bytes) -> list[bytes]:
    out, p = [], 0
    while p < len(data):
        length, p = lenenc(data, p)
        out.append(data[p:p + length])
        p += length
    return out


def _charsets(fields: dict[int, bytes], default_kind: int, column_kind: int, count: int) -> list[int]:
    """Collation ids of ``count`` columns from a default+exceptions or a per-column field."""
    if column_kind in fields:
        return _ints(fields[column_kind])
    if default_kind not in fields:
        return [0] * count
    default, *pairs = _ints(fields[default_kind])
    ids = [default] * count
    for i in range(0, len(pairs), 2):
        ids[pairs[i]] = pairs[i + 1]
    return ids


def _value_lists(data: bytes) -> list[tuple[bytes, ...]]:
    out, p = [], 0
    while p < len(data):
        count, p = lenenc(data, p)
        values = []
        for _ in range(count):
            length, p = lenenc(data, p)
            values.append(data[p:p + length])
            p += length
        out.append(tuple(values))
    return out


def parse_table_map(event: bytes, crc_len: int, collations: Optional[dict[int, tuple[str, int]]] = None,
                    mariadb: bool = True) -> TableMap:
    collations = collations or BUILTIN_COLLATIONS
    table_id, db, name, p = table_map_header(event)
    count, p = lenenc(event, p)
    codes = list(event[p:p + count])
    meta_len, p = lenenc(event, p + count)
    resolved = _column_meta(codes, event[p:p + meta_len])
    p += meta_len
    nulls = int.from_bytes(event[p:p + (count + 7) // 8], "little")
    fields = _optional(event, p + (count + 7) // 8, len(event) - crc_len)
    character = [i for i, (c, _) in enumerate(resolved)
                 if c in (STRING, VAR_STRING, VARCHAR, BLOB) or (c == GEOMETRY and mariadb)]
    enum_set = [i for i, (c, _) in enumerate(resolved) if c in (ENUM, SET)]
    charset_of: dict[int, int] = dict(zip(character, _charsets(fields, DEFAULT_CHARSET, COLUMN_CHARSET,
                                                               len(character))))
    charset_of.update(zip(enum_set, _charsets(fields, ENUM_AND_SET_DEFAULT_CHARSET, ENUM_AND_SET_COLUMN_CHARSET,
                                              len(enum_set))))
    numeric = [i for i, (c, _) in enumerate(resolved) if c in NUMERIC]
    sign_bits = int.from_bytes(fields.get(SIGNEDNESS, b""), "big")
    sign_width = len(fields.get(SIGNEDNESS, b"")) * 8
    unsigned = {i for k, i in enumerate(numeric) if sign_bits >> (sign_width - 1 - k) & 1}
    names = [n.decode("utf-8", "replace") for n in _strings(fields.get(COLUMN_NAME, b""))]
    enums = iter(_value_lists(fields.get(ENUM_STR_VALUE, b"")))
    sets = iter(_value_lists(fields.get(SET_STR_VALUE, b"")))
    geometries = iter(_ints(fields.get(GEOMETRY_TYPE, b"")))
    layouts, columns = [], []
    for i, (code, meta) in enumerate(resolved):
        charset, maxlen = collations.get(charset_of.get(i, 63), ("utf8mb4", 4)) if i in charset_of else (None, 1)
        elements = next(enums) if code == ENUM else next(sets) if code == SET else ()
        decoded = tuple(e.decode(_element_codec(charset)) for e in elements)
        geometry = next(geometries, 0) if code == GEOMETRY else 0
        mysql_type = _mysql_type(code, meta, i in unsigned, charset, maxlen, decoded, geometry)
        layouts.append(ColumnLayout(code, meta, mysql_type))
        columns.append(MySqlColumn(names[i] if i < len(names) else f"col_{i}", mysql_type, bool(nulls >> i & 1)))
    keys = _ints(fields[SIMPLE_PRIMARY_KEY]) if SIMPLE_PRIMARY_KEY in fields else \
        _ints(fields.get(PRIMARY_KEY_WITH_PREFIX, b""))[0::2]
    table = MySqlTable(db, name, tuple(columns), tuple(columns[k].name for k in keys))
    return TableMap(table_id, table, tuple(layouts), len(names) == count)


def _element_codec(charset: Optional[str]) -> str:
    return {"latin1": "cp1252", None: "utf-8", "binary": "latin-1"}.get(charset, "utf-8")


def _mysql_type(code: int, meta: int, unsigned: bool, charset: Optional[str], maxlen: int,
                elements: tuple[str, ...], geometry: int) -> MySqlType:
    if code in INTEGER_NAMES:
        return MySqlType(INTEGER_NAMES[code], unsigned=unsigned)
    if code in TEMPORAL_NAMES:
        fsp = meta if code in (TIME2, DATETIME2, TIMESTAMP2) else 0
        return MySqlType(TEMPORAL_NAMES[code], fsp=fsp)
    if code in (FLOAT, DOUBLE):
        return MySqlType("float" if code == FLOAT else "double", unsigned=unsigned)
    if code in (NEWDECIMAL, DECIMAL):
        return MySqlType("decimal", unsigned=unsigned, precision=meta >> 8, scale=meta & 0xFF)
    if code in (VARCHAR, VAR_STRING, STRING):
        if charset == "binary":
            return MySqlType("binary" if code == STRING else "varbinary", length=meta, charset="binary")
        return MySqlType("char" if code == STRING else "varchar", length=meta // maxlen, charset=charset)
    if code in (BLOB, TINY_BLOB, MEDIUM_BLOB, LONG_BLOB):
        names = BLOB_BY_LENGTH_BYTES if charset in ("binary", None) else TEXT_BY_LENGTH_BYTES
        return MySqlType(names[meta], charset=charset or "binary")
    if code in (ENUM, SET):
        return MySqlType("enum" if code == ENUM else "set", charset=charset, elements=elements)
    if code == BIT:
        return MySqlType("bit", length=(meta >> 8) * 8 + (meta & 0xFF))
    if code == JSON:
        return MySqlType("json", charset="utf8mb4")
    if code == GEOMETRY:
        return MySqlType(GEOMETRY_NAMES[geometry] if geometry < len(GEOMETRY_NAMES) else "geometry")
    raise SourceNotReady(f"binlog column type {code} is not supported — report it with the table's definition")
