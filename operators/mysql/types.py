"""MySQL column types -> Paimon types (:func:`paimon_type`), and canonical Arrow arrays
(``operators/mysql/canonical.py``) -> arrays of the Paimon type (:func:`to_paimon_arrow`).

The mapping is Paimon's ``MySqlTypeUtils.toDataType`` with its ``--type_mapping`` options
(``TypeMapping``). Where Paimon throws ("Don't support MySQL type"), for MariaDB's UUID, INET6
and INET4, we map to STRING holding the server's text form. TIME is Paimon's TIME (precision 0);
values keep milliseconds, as Paimon stores TIME (int32 milliseconds of the day).

Value policies:
* TIMESTAMP (an instant) becomes the wall clock in ``server-time-zone``, as Paimon does; DATETIME
  stays the wall clock it is.
* TIME outside ``[00:00:00, 24:00:00)`` (MySQL allows -838:59:59 .. 838:59:59; a duration, not a
  time of day) becomes NULL, with one WARNING per column and call naming
  ``--type_mapping to-string``, which keeps the text.
* GEOMETRY becomes Paimon's JSON text (``{"coordinates":[1,2],"type":"Point","srid":4326}``).
* ``to-string``: the MySQL client's text of the value (decimals in plain notation, all scale
  digits); binary values in Base64, BIT(1) ``true``/``false`` (as Paimon).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import struct
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from operators.cdc.errors import UserError
from operators.mysql.canonical import BINARY_TYPES, GEOMETRY_TYPES, TEXT_FORM_TYPES
from operators.mysql.source_config import TypeMapping
from operators.mysql.source_table import MySqlColumn, MySqlType
from paimon_py.types import (
    ArrayType, BigIntType, BinaryType, BooleanType, CharType, DataType, DateType, DecimalType, DoubleType,
    FloatType, IntType, SmallIntType, TimestampType, TimeType, TinyIntType, VarBinaryType, VarCharType,
    to_arrow_type,
)

log = logging.getLogger(__name__)

TO_STRING_HINT = "use --type_mapping to-string to keep MySQL's text of the value"
MAX_DECIMAL_PRECISION = 38
US_PER_DAY = 86_400_000_000
STRING_TYPES = frozenset({"tinytext", "text", "mediumtext", "json", "enum"}) | GEOMETRY_TYPES | TEXT_FORM_TYPES


class UnsupportedTypeError(UserError, ValueError):
    """A column type that has no Paimon type (outside to-string mapping)."""


# --- the type mapping ---------------------------------------------------------------------------

def paimon_type(column: MySqlColumn, mapping: TypeMapping, primary_key: bool) -> DataType:
    """The Paimon type of ``column`` (nullability included)."""
    nullable = column.nullable or (mapping.to_nullable and not primary_key)
    data_type = VarCharType() if mapping.to_string else _mapped(column.type, mapping)
    return data_type.copy(nullable)


def _mapped(t: MySqlType, mapping: TypeMapping) -> DataType:
    name = t.name
    for mapper in (_integer, _numeric, _temporal, _text, _binary):
        data_type = mapper(t, mapping)
        if data_type is not None:
            return data_type
    if name in STRING_TYPES:
        return VarCharType()
    if name == "set":
        return ArrayType(VarCharType())
    raise UnsupportedTypeError(f"MySQL type {name} has no Paimon type — {TO_STRING_HINT}")


def _integer(t: MySqlType, mapping: TypeMapping):
    name, unsigned = t.name, t.unsigned
    if name in ("bool", "boolean") or (name == "tinyint" and t.length == 1 and not unsigned
                                       and not mapping.tinyint1_not_bool):
        return BooleanType()
    if name == "tinyint":
        return SmallIntType() if unsigned else TinyIntType()
    if name == "smallint":
        return IntType() if unsigned else SmallIntType()
    if name in ("mediumint", "int", "integer"):
        return BigIntType() if unsigned else IntType()
    if name == "year":
        return IntType()
    if name == "bigint":
        if unsigned and not mapping.bigint_unsigned_to_bigint:
            return DecimalType(20, 0)
        return BigIntType()
    return None


def _numeric(t: MySqlType, mapping: TypeMapping):
    if t.name == "float":
        return FloatType()
    if t.name in ("double", "real"):
        return DoubleType()
    if t.name in ("decimal", "numeric"):
        precision = t.precision or 10
        return DecimalType(precision, t.scale or 0) if precision <= MAX_DECIMAL_PRECISION else VarCharType()
    if t.name == "bit":
        return BooleanType() if (t.length or 1) == 1 else BinaryType((t.length + 7) // 8)
    return None


def _temporal(t: MySqlType, mapping: TypeMapping):
    if t.name == "date":
        return DateType()
    if t.name == "time":
        return TimeType(0)
    if t.name in ("datetime", "timestamp"):
        return TimestampType(t.fsp)
    return None


def _text(t: MySqlType, mapping: TypeMapping):
    if t.name in ("char", "varchar"):
        if mapping.char_to_string or not t.length:
            return VarCharType()
        return CharType(t.length) if t.name == "char" else VarCharType(t.length)
    if t.name == "longtext":
        return VarBinaryType() if mapping.longtext_to_bytes else VarCharType()
    return None


def _binary(t: MySqlType, mapping: TypeMapping):
    if t.name in ("binary", "varbinary"):
        return VarBinaryType(t.length) if t.length else VarBinaryType()
    if t.name in BINARY_TYPES:
        return VarBinaryType()
    return None


# --- values ---------------------------------------------------------------------------------------

def to_paimon_arrow(array: pa.Array, t: MySqlType, data_type: DataType, zone: str, column: str = "") -> pa.Array:
    """``array`` (canonical values of a column of type ``t``) as the Arrow type of ``data_type``;
    ``zone``: ``server-time-zone`` (a zone name or ``+02:00``); ``column`` names it in warnings."""
    target = to_arrow_type(data_type)
    if t.name in GEOMETRY_TYPES:
        return geometry_json(array)
    if pa.types.is_string(target) and not pa.types.is_string(array.type):
        return _as_text(array, t, zone)
    if t.name == "time":
        return _time_of_day(array, column)
    if t.name == "timestamp":
        array = wall_clock(array, zone)
    if pa.types.is_boolean(target):
        return _as_bool(array)
    return array.cast(target, safe=False)


def wall_clock(array: pa.Array, zone: str) -> pa.Array:
    """UTC instants -> the wall clock in ``zone`` (naive timestamps); ``zone`` a name or ``+02:00``."""
    offset = re.fullmatch(r"([+-])(\d{2}):(\d{2})", zone)
    if offset is None:
        return pc.local_timestamp(array.cast(pa.timestamp("us", zone)))
    sign = -1 if offset.group(1) == "-" else 1
    shift = sign * (int(offset.group(2)) * 3600 + int(offset.group(3)) * 60) * 1_000_000
    return pc.add(array.cast(pa.int64()), shift).cast(pa.timestamp("us"))


def _as_bool(array: pa.Array) -> pa.Array:
    if pa.types.is_binary(array.type):
        return pc.not_equal(array, pa.scalar(b"\x00", pa.binary()))
    return pc.not_equal(array, 0)


def _time_of_day(array: pa.Array, column: str) -> pa.Array:
    micros = array.cast(pa.int64())
    outside = pc.or_(pc.less(micros, 0), pc.greater_equal(micros, US_PER_DAY))
    if pc.any(outside).as_py():
        log.warning("TIME column %s has values outside 00:00:00..24:00:00 (a duration, not a time of day): they "
                    "are written as NULL — %s", column or "?", TO_STRING_HINT)
    millis = pc.if_else(outside, pa.scalar(None, pa.int64()), pc.divide(micros, 1000))
    return millis.cast(pa.int32()).cast(pa.time32("ms"))


def _as_text(array: pa.Array, t: MySqlType, zone: str) -> pa.Array:
    if t.name == "timestamp":
        return _datetime_text(wall_clock(array, zone), t.fsp)
    if t.name == "datetime":
        return _datetime_text(array, t.fsp)
    if t.name == "time":
        return _time_text(array, t.fsp)
    if t.name == "set":
        return pc.binary_join(array, ",")
    if t.name == "bit" and (t.length or 1) == 1:  # Paimon: BIT(1) is a BOOLEAN, its text true/false
        return _as_bool(array).cast(pa.string())
    if pa.types.is_decimal(array.type):  # Arrow writes 1E-10; MySQL 0.0000000001
        return pa.array([None if v is None else f"{v:f}" for v in array.to_pylist()], pa.string())
    if pa.types.is_binary(array.type):
        return _base64(array)
    return array.cast(pa.string())


def _datetime_text(array: pa.Array, fsp: int) -> pa.Array:
    text = array.cast(pa.timestamp("us")).cast(pa.string())
    return pc.utf8_slice_codeunits(text, 0, 19 + (fsp + 1 if fsp else 0))


def _time_text(array: pa.Array, fsp: int) -> pa.Array:
    """``[-]HH:MM:SS[.f]`` with ``fsp`` fraction digits, hours up to 838."""
    micros = array.cast(pa.int64())
    magnitude = pc.abs(micros)
    seconds = pc.divide(magnitude, 1_000_000)
    minutes = pc.divide(seconds, 60)
    hours = pc.divide(seconds, 3600)
    parts = [pc.if_else(pc.less(micros, 0), "-", ""), _digits(hours, 2), ":",
             _digits(pc.subtract(minutes, pc.multiply(hours, 60)), 2), ":",
             _digits(pc.subtract(seconds, pc.multiply(minutes, 60)), 2)]
    if fsp:
        fraction = pc.divide(pc.subtract(magnitude, pc.multiply(seconds, 1_000_000)), 10 ** (6 - fsp))
        parts += [".", _digits(fraction, fsp)]
    return pc.binary_join_element_wise(*parts, "")


def _digits(values: pa.Array, width: int) -> pa.Array:
    return pc.utf8_lpad(values.cast(pa.string()), width, "0")


def _base64(array: pa.Array) -> pa.Array:
    return pa.array([None if v is None else base64.b64encode(v).decode() for v in array.to_pylist()], pa.string())


# --- geometry ---------------------------------------------------------------------------------------

def geometry_json(array: pa.Array) -> pa.Array:
    """Canonical geometries (4-byte SRID + WKB) -> Paimon's JSON text."""
    return pa.array([None if v is None else _geometry_json(v) for v in array.to_pylist()], pa.string())


def _geometry_json(value: bytes) -> str:
    srid = struct.unpack_from("<I", value)[0]
    shape, _ = _read_wkb(memoryview(value), 4)
    key = "geometries" if shape["type"] == "GeometryCollection" else "coordinates"
    return json.dumps({key: shape[key], "type": shape["type"], "srid": srid}, separators=(",", ":"))


WKB_TYPES = {1: "Point", 2: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
             6: "MultiPolygon", 7: "GeometryCollection"}


def _read_wkb(data: memoryview, offset: int) -> tuple[dict, int]:
    """One WKB geometry at ``offset`` as a GeoJSON-like dict, and the offset after it."""
    order = "<" if data[offset] == 1 else ">"
    kind = WKB_TYPES[struct.unpack_from(order + "I", data, offset + 1)[0]]
    offset += 5
    if kind == "GeometryCollection" or kind.startswith("Multi"):
        count = struct.unpack_from(order + "I", data, offset)[0]
        offset += 4
        members = []
        for _ in range(count):
            member, offset = _read_wkb(data, offset)
            members.append(member)
        if kind == "GeometryCollection":
            return {"type": kind, "geometries": members}, offset
        return {"type": kind, "coordinates": [m["coordinates"] for m in members]}, offset
    reader: Callable = {"Point": _read_point, "LineString": _read_points, "Polygon": _read_rings}[kind]
    coordinates, offset = reader(data, offset, order)
    return {"type": kind, "coordinates": coordinates}, offset


def _read_point(data: memoryview, offset: int, order: str) -> tuple[list, int]:
    x, y = struct.unpack_from(order + "dd", data, offset)
    return [_number(x), _number(y)], offset + 16


def _read_points(data: memoryview, offset: int, order: str) -> tuple[list, int]:
    count = struct.unpack_from(order + "I", data, offset)[0]
    values = np.frombuffer(data, dtype=np.dtype(order + "f8"), count=2 * count, offset=offset + 4)
    return [[_number(x), _number(y)] for x, y in values.reshape(-1, 2).tolist()], offset + 4 + 16 * count


def _read_rings(data: memoryview, offset: int, order: str) -> tuple[list, int]:
    count = struct.unpack_from(order + "I", data, offset)[0]
    rings = []
    offset += 4
    for _ in range(count):
        ring, offset = _read_points(data, offset, order)
        rings.append(ring)
    return rings, offset


def _number(value: float):
    """Integral coordinates print without ``.0``, as Paimon's JSON shows them."""
    return int(value) if value.is_integer() else value
