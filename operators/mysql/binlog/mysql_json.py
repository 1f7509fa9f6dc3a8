"""Oracle MySQL's binary JSON (``json_binary.h``, the value of a JSON column in a rows event) ->
the JSON text MySQL prints for it (``Json_wrapper::to_string``): members in stored order,
``", "`` between elements and ``": "`` after keys, doubles as ``my_gcvt`` writes them, opaque
DECIMAL and temporal values as their text, other opaque values as ``"base64:typeN:..."``.

A document is a type byte and its value. Objects and arrays hold a count and a byte size (2 bytes
each in the small format, 4 in the large), then key entries (offset, 2-byte length; objects only),
then value entries (type, then the value itself when it fits the offset's bytes, else its offset);
offsets count from the first count byte. MariaDB's JSON is text and never comes here."""

from __future__ import annotations

import base64
import re
import struct
from decimal import Decimal

import numpy as np

from operators.mysql.binlog.decimals import decimal_text, decimal_unscaled

SMALL_OBJECT, LARGE_OBJECT, SMALL_ARRAY, LARGE_ARRAY, LITERAL = range(5)
STRING, OPAQUE = 0x0C, 0x0F
NUMBERS = {0x05: "<h", 0x06: "<H", 0x07: "<i", 0x08: "<I", 0x09: "<q", 0x0A: "<Q", 0x0B: "<d"}
LITERALS = {0: "null", 1: "true", 2: "false"}
TIMESTAMP, DATE, TIME, DATETIME, NEWDECIMAL, VAR_STRING = 7, 10, 11, 12, 246, 253
"""The field types of opaque values that MySQL prints as their value."""

_SPECIAL = re.compile(r'[\x00-\x1f"\\]')
_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
MAX_DECPT_FOR_F_FORMAT = 15
"""``my_gcvt`` writes a double in fixed notation when its decimal point is within this many digits."""


def json_text(doc: bytes) -> str:
    """A JSON column's binlog value as MySQL's JSON text; the empty value (a NOT NULL column given
    NULL under lax checking) is the JSON null literal, as MySQL reads it."""
    if not doc:
        return "null"
    out: list[str] = []
    _value(doc, doc[0], 1, out)
    return "".join(out)


def _value(doc: bytes, kind: int, pos: int, out: list[str]) -> None:
    if kind <= LARGE_ARRAY:
        _container(doc, pos, kind in (LARGE_OBJECT, LARGE_ARRAY), kind <= LARGE_OBJECT, out)
    elif kind == LITERAL:
        out.append(LITERALS[doc[pos]])
    elif kind in NUMBERS:
        out.append(_number(kind, struct.unpack_from(NUMBERS[kind], doc, pos)[0]))
    elif kind == STRING:
        length, pos = _varlen(doc, pos)
        out.append(quote(doc[pos:pos + length].decode("utf-8", "replace")))
    elif kind == OPAQUE:
        length, start = _varlen(doc, pos + 1)
        out.append(opaque_text(doc[pos], doc[start:start + length]))
    else:
        raise ValueError(f"binary JSON value of unknown type {kind:#x}")


def _container(doc: bytes, pos: int, large: bool, is_object: bool, out: list[str]) -> None:
    """An object or an array whose count starts at ``pos``."""
    width = 4 if large else 2
    count = int.from_bytes(doc[pos:pos + width], "little")
    keys = pos + 2 * width
    values = keys + count * (width + 2) if is_object else keys
    out.append("{" if is_object else "[")
    for i in range(count):
        if i:
            out.append(", ")
        if is_object:
            key = keys + i * (width + 2)
            offset = pos + int.from_bytes(doc[key:key + width], "little")
            length = int.from_bytes(doc[key + width:key + width + 2], "little")
            out += [quote(doc[offset:offset + length].decode("utf-8", "replace")), ": "]
        _entry(doc, pos, values + i * (1 + width), width, out)
    out.append("}" if is_object else "]")


def _entry(doc: bytes, pos: int, entry: int, width: int, out: list[str]) -> None:
    """One value entry: the value inlined in its offset bytes (literals and 16-bit integers; 32-bit
    ones too in the large format), or at its offset from the container's start ``pos``."""
    kind = doc[entry]
    inlined = kind in (LITERAL, 0x05, 0x06) or (width == 4 and kind in (0x07, 0x08))
    at = entry + 1 if inlined else pos + int.from_bytes(doc[entry + 1:entry + 1 + width], "little")
    _value(doc, kind, at, out)


def _varlen(doc: bytes, pos: int) -> tuple[int, int]:
    """A length in 7-bit groups, low first, the top bit saying another byte follows; and the
    position after it."""
    length = shift = 0
    while True:
        byte = doc[pos]
        length |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return length, pos
        shift += 7


def quote(text: str) -> str:
    """A JSON string as MySQL quotes it (``double_quote``): only ``"``, ``\\`` and control
    characters escaped, short escapes where JSON has them, else ``\\u00xx``."""
    return '"' + _SPECIAL.sub(lambda m: _ESCAPES.get(m[0]) or f"\\u{ord(m[0]):04x}", text) + '"'


def _number(kind: int, value: float) -> str:
    return format_double(value) if kind == 0x0B else str(value)


def format_double(value: float) -> str:
    """A double as MySQL's JSON prints it: ``my_gcvt``'s shortest round-trip digits, in fixed
    notation unless the decimal point is far out, and ``.0`` added to an integral fixed value."""
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + exponent if text != "0" else 1
    minus = "-" if sign else ""
    if -MAX_DECPT_FOR_F_FORMAT < point and (point <= MAX_DECPT_FOR_F_FORMAT or len(text) > point):
        if point <= 0:
            return f"{minus}0.{'0' * -point}{text}"
        fixed = text[:point] + "." + text[point:] if point < len(text) else text + "0" * (point - len(text))
        return minus + fixed + ("" if "." in fixed else ".0")
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{minus}{mantissa}e{point - 1}"


def opaque_text(field_type: int, data: bytes) -> str:
    """An opaque value (a MySQL value of type ``field_type`` kept in its binary form)."""
    if field_type == NEWDECIMAL:
        precision, scale = data[0], data[1]
        raw = np.frombuffer(data[2:], np.uint8).reshape(1, -1)
        unscaled, negative = decimal_unscaled(raw, precision, scale)
        return decimal_text(int(unscaled[0]), bool(negative[0]), scale)
    if field_type in (DATE, TIME, DATETIME, TIMESTAMP):
        return '"' + temporal_text(field_type, int.from_bytes(data[:8], "little", signed=True)) + '"'
    if field_type == VAR_STRING:
        return quote(data.decode("utf-8", "replace"))
    encoded = base64.b64encode(data).decode("ascii")
    lines = "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))
    return quote(f"base64:type{field_type}:{lines}")


def temporal_text(field_type: int, packed: int) -> str:
    """MySQL's packed temporal value (``TIME_to_longlong_packed``: ``±(hms << 24 | microseconds)``
    with the date above the time) as ``my_TIME_to_str`` writes it with six fractional digits."""
    magnitude = abs(packed)
    whole, micros = magnitude >> 24, magnitude & 0xFFFFFF
    if field_type == TIME:
        return ("-" if packed < 0 else "") + _clock(whole, micros)
    ymd = whole >> 17
    date = f"{(ymd >> 5) // 13:04d}-{(ymd >> 5) % 13:02d}-{ymd & 31:02d}"
    return date if field_type == DATE else f"{date} {_clock(whole & 0x1FFFF, micros)}"


def _clock(hms: int, micros: int) -> str:
    return f"{hms >> 12 & 0x3FF:02d}:{hms >> 6 & 63:02d}:{hms & 63:02d}.{micros:06d}"
