"""MySQL's binary JSON -> MySQL's JSON text (``operators/mysql/binlog/mysql_json.py``), no server.

Documents are built by ``encode`` below, written from the format as ``json_binary.h`` describes it
(independent of the decoder), and by hand: the hand-assembled vectors encode the inputs of MySQL's
own unit test (``unittest/gunit/json_binary-t.cc``, ``BasicTest`` and ``DateAndTimeTest``)."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

from operators.mysql.binlog.columns import column_codec
from operators.mysql.binlog.mysql_json import format_double, json_text
from operators.mysql.binlog.table_map import JSON, ColumnLayout
from operators.mysql.source_table import MySqlType
from tests.support.mysql_encoding import decimal_bytes


class Unsigned(int):
    """An integer to store as uint16/uint32/uint64."""


@dataclass(frozen=True)
class Opaque:
    field_type: int
    data: bytes


def encode(value) -> bytes:
    """A binary JSON document: a type byte, then the value."""
    kind, body = _encode(value)
    return bytes([kind]) + body


def _varlen(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append(n & 0x7F | (0x80 if n >> 7 else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _integer(value: int) -> tuple[int, bytes]:
    kinds = ((0x06, "<H"), (0x08, "<I"), (0x0A, "<Q")) if isinstance(value, Unsigned) else \
        ((0x05, "<h"), (0x07, "<i"), (0x09, "<q"), (0x0A, "<Q"))
    for kind, fmt in kinds:
        try:
            return kind, struct.pack(fmt, value)
        except struct.error:
            continue
    raise ValueError(value)


def _encode(value) -> tuple[int, bytes]:
    if value is None or isinstance(value, bool):
        return 0x04, bytes([{None: 0, True: 1, False: 2}[value]])
    if isinstance(value, int):
        return _integer(value)
    if isinstance(value, float):
        return 0x0B, struct.pack("<d", value)
    if isinstance(value, str):
        data = value.encode()
        return 0x0C, _varlen(len(data)) + data
    if isinstance(value, Opaque):
        return 0x0F, bytes([value.field_type]) + _varlen(len(value.data)) + value.data
    is_object = isinstance(value, dict)
    small = _container(value, False)
    return (0x00 if is_object else 0x02, small) if small else (0x01 if is_object else 0x03, _container(value, True))


def _container(value, large: bool):
    """Count, size, key entries, value entries, keys, values; None if too big for the small format."""
    w = 4 if large else 2
    items = list(value.items()) if isinstance(value, dict) else [(None, v) for v in value]
    keys = [k.encode() for k, _ in items if k is not None]
    head = 2 * w + len(keys) * (w + 2) + len(items) * (1 + w)
    children = [_encode(v) for _, v in items]
    inlined = [kind in (0x04, 0x05, 0x06) or (large and kind in (0x07, 0x08)) for kind, _ in children]
    size = head + sum(map(len, keys)) + sum(len(b) for (_, b), i in zip(children, inlined) if not i)
    if not large and size > 0xFFFF:
        return None
    out, offset = [len(items).to_bytes(w, "little"), size.to_bytes(w, "little")], head
    for k in keys:
        out += [offset.to_bytes(w, "little"), len(k).to_bytes(2, "little")]
        offset += len(k)
    data = list(keys)
    for (kind, body), inline in zip(children, inlined):
        out.append(bytes([kind]) + (body.ljust(w, b"\0") if inline else offset.to_bytes(w, "little")))
        if not inline:
            data.append(body)
            offset += len(body)
    return b"".join(out + data)


def _packed_datetime(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> bytes:
    return (((((y * 13 + mo) << 5 | d) << 17 | h << 12 | mi << 6 | s) << 24) | us).to_bytes(8, "little")


def _packed_time(negative: bool, h: int, mi: int, s: int, us: int) -> bytes:
    v = ((h << 12 | mi << 6 | s) << 24) | us
    return (-v if negative else v).to_bytes(8, "little", signed=True)


# json_binary-t.cc BasicTest's '{ "a" : "b", "c" : [ "d" ] }' and '[true,false,null,0,"0","",{},[]]',
# assembled by hand: small object, 2 members, 31 bytes; small array, 8 elements, 39 bytes.
HAND_VECTORS = [
    ("00 0200 1f00 1200 0100 1300 0100 0c 1400 02 1600 61 63 01 62 0100 0900 0c 0700 01 64",
     '{"a": "b", "c": ["d"]}'),
    ("02 0800 2700 04 0100 04 0200 04 0000 05 0000 0c 1c00 0c 1e00 00 1f00 02 2300 01 30 00 0000 0400 0000 0400",
     '[true, false, null, 0, "0", "", {}, []]'),
    # DateAndTimeTest's TIME, DATE and DATETIME as opaque values (packed, 8 bytes little-endian)
    ("0f 0b 08 f1 fb 09 8f d3 00 00 00", '"13:14:15.654321"'),
    ("0f 0a 08 00 00 00 00 00 e2 92 19", '"2014-05-17"'),
    ("0f 0c 08 40 e2 01 11 f4 1e 95 19", '"2015-01-15 15:16:17.123456"'),
    ("05 85ff", "-123"),  # BasicTest's scalars: int16, uint64, string, literal
    ("0a ffffffffffffffff", "18446744073709551615"),
    ("0c 03 616263", '"abc"'),
    ("04 02", "false"),
]


@pytest.mark.parametrize("hex_doc,text", HAND_VECTORS)
def test_hand_assembled_documents(hex_doc, text):
    assert json_text(bytes.fromhex(hex_doc)) == text


def test_the_test_encoder_writes_the_hand_assembled_bytes():
    assert encode({"a": "b", "c": ["d"]}).hex() == HAND_VECTORS[0][0].replace(" ", "")
    assert encode([True, False, None, 0, "0", "", {}, []]).hex() == HAND_VECTORS[1][0].replace(" ", "")


def test_empty_value_is_the_json_null_literal():
    assert json_text(b"") == "null"


def test_nested_objects_and_arrays_keep_the_stored_order():
    doc = {"b": [1, {"z": None, "a": [True, [], {}]}], "a": {"x": {"y": [[[-1]]]}}}
    assert json_text(encode(doc)) == '{"b": [1, {"z": null, "a": [true, [], {}]}], "a": {"x": {"y": [[[-1]]]}}}'


@pytest.mark.parametrize("value,text", [
    (0, "0"), (-32768, "-32768"), (32767, "32767"), (Unsigned(65535), "65535"), (-2 ** 31, "-2147483648"),
    (Unsigned(2 ** 32 - 1), "4294967295"), (-2 ** 63, "-9223372036854775808"), (2 ** 63 - 1, "9223372036854775807"),
    (Unsigned(2 ** 64 - 1), "18446744073709551615"), (None, "null"), (True, "true"), (False, "false"),
    (1.5, "1.5"), ("", '""'),
])
def test_every_scalar_type_at_top_level_and_inlined(value, text):
    assert json_text(encode(value)) == text
    assert json_text(encode([value])) == f"[{text}]"
    assert json_text(encode({"k": value})) == f'{{"k": {text}}}'


@pytest.mark.parametrize("value,text", [
    (1.0, "1.0"), (-2.5, "-2.5"), (3.14, "3.14"), (100.0, "100.0"), (0.1, "0.1"), (0.0001, "0.0001"),
    (1e14, "100000000000000.0"), (1e15, "1e15"), (1.5e300, "1.5e300"), (1e-15, "0.000000000000001"),
    (1e-16, "1e-16"), (-1.25e-20, "-1.25e-20"), (123456789.125, "123456789.125"), (0.0, "0.0"),
    (1.2345678901234567e16, "1.2345678901234568e16"), (1234567890123456.7, "1234567890123456.8"),
])
def test_doubles_print_as_mysql_my_gcvt(value, text):
    assert format_double(value) == text
    assert json_text(encode(value)) == text


def test_unicode_and_escapes():
    doc = {"ключ": "中文 😀 é", "ctl": "a\"b\\c\n\t\r\b\f\x00\x1f\x7f/"}
    assert json_text(encode(doc)) == json.dumps(doc, ensure_ascii=False)
    assert '\\u0000\\u001f\x7f/"}' in json_text(encode(doc))


def test_long_strings_use_multi_byte_lengths():
    for n in (127, 128, 16383, 16384, 70000):
        assert json_text(encode("x" * n)) == f'"{"x" * n}"'


def test_large_objects_and_arrays():
    obj = {f"key{i:04d}": ["v" * 50, i * 100000, Unsigned(i), None] for i in range(1500)}
    raw = encode(obj)
    assert raw[0] == 0x01 and len(raw) > 65536
    assert json_text(raw) == json.dumps(obj)
    array = [True, False, None, "a", 70000, -70000, Unsigned(3_000_000_000)] * 12000
    raw = encode(array)
    assert raw[0] == 0x03
    assert json_text(raw) == json.dumps(array)


def test_small_values_inside_a_large_container():
    doc = ["x" * 70000, {"small": [1, 2.5]}]
    assert encode(doc)[0] == 0x03
    assert json_text(encode(doc)) == json.dumps(doc)


@pytest.mark.parametrize("digits,precision,scale", [
    ("123.45", 5, 2), ("-123.45", 5, 2), ("0.50", 4, 2), ("-0.000000001", 10, 9), ("42", 10, 0),
    ("-99999999999999999999999999999.999999999", 38, 9), ("1" * 56 + ".123456789", 65, 9),
])
def test_opaque_decimals(digits, precision, scale):
    doc = [Opaque(246, bytes([precision, scale]) + decimal_bytes(digits, precision, scale))]
    assert json_text(encode(doc)) == f"[{digits}]"


@pytest.mark.parametrize("field_type,data,text", [
    (10, _packed_datetime(2024, 1, 2), '"2024-01-02"'),
    (12, _packed_datetime(2024, 1, 2, 3, 4, 5), '"2024-01-02 03:04:05.000000"'),
    (7, _packed_datetime(1970, 1, 1, 0, 0, 1, 500), '"1970-01-01 00:00:01.000500"'),
    (12, _packed_datetime(9999, 12, 31, 23, 59, 59, 999999), '"9999-12-31 23:59:59.999999"'),
    (11, _packed_time(False, 13, 14, 15, 654321), '"13:14:15.654321"'),
    (11, _packed_time(True, 838, 59, 59, 0), '"-838:59:59.000000"'),
    (11, _packed_time(True, 0, 0, 0, 1), '"-00:00:00.000001"'),
    (253, "héllo".encode(), '"héllo"'),
    (249, bytes.fromhex("bebafeca"), '"base64:type249:vrr+yg=="'),
])
def test_opaque_temporals_strings_and_others(field_type, data, text):
    assert json_text(encode(Opaque(field_type, data))) == text
    assert json_text(encode({"v": Opaque(field_type, data)})) == f'{{"v": {text}}}'


def test_long_opaque_base64_breaks_lines_every_76_characters():
    text = json_text(encode(Opaque(252, bytes(range(100)))))
    body = json.loads(text)
    assert body.startswith("base64:type252:")
    lines = body[len("base64:type252:"):].split("\n")
    assert [len(line) for line in lines] == [76, 60]
    assert "\\n" in text


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 63, 2 ** 64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=6),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_generated_documents_round_trip(doc):
    text = json_text(encode(doc))
    assert json.loads(text) == doc
    assert text == json.dumps(doc, ensure_ascii=False) or _has_float(doc)


def _has_float(doc) -> bool:
    if isinstance(doc, dict):
        return any(map(_has_float, doc.values()))
    return any(map(_has_float, doc)) if isinstance(doc, list) else isinstance(doc, float)


def test_json_column_codec():
    codec = column_codec(ColumnLayout(JSON, 4, MySqlType("json", charset="utf8mb4")))
    assert (codec.width, codec.prefix) == (0, 4)
    array = codec.convert([encode({"a": [1, 2.0]}), None, b""])
    assert array.type == pa.string()
    assert array.to_pylist() == ['{"a": [1, 2.0]}', None, "null"]
