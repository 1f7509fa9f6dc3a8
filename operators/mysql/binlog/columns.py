"""Column codecs: how wide a column's value is in a rows event and how a batch of its raw
values becomes its canonical Arrow array (``operators/mysql/canonical.py``).

Fixed-width values are gathered as an ``(n, width)`` uint8 matrix and converted with numpy in
one go; variable-width values arrive as a list of ``bytes`` (``None`` for NULL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pyarrow as pa

from operators.mysql.binlog import table_map as tm
from operators.mysql.binlog.charsets import codec, decode_text
from operators.mysql.binlog.decimals import be_uint, decimal_text, decimal_unscaled, decimal_width
from operators.mysql.binlog.mysql_json import json_text
from operators.mysql.canonical import canonical_arrow_type

FRAC_SCALE = {0: 0, 1: 10000, 2: 10000, 3: 100, 4: 100, 5: 1, 6: 1}


@dataclass(frozen=True)
class ColumnCodec:
    width: int
    """Bytes of a fixed-width value; 0 for a length-prefixed one."""
    prefix: int
    """Length-prefix bytes of a variable-width value."""
    convert: Callable
    """Fixed: ``(matrix, null mask) -> pa.Array``; variable: ``(list of bytes/None) -> pa.Array``."""


def le_int(mat: np.ndarray, signed: bool) -> np.ndarray:
    """Little-endian integers of width 1-8 as int64 (uint64 when unsigned and 8 wide)."""
    n, w = mat.shape
    padded = np.zeros((n, 8), np.uint8)
    padded[:, :w] = mat
    if signed and w < 8:
        padded[:, w:] = np.where(mat[:, w - 1] >= 0x80, 0xFF, 0)[:, None]
    return padded.view("<i8" if signed else "<u8").reshape(n)


def _frac_us(mat: np.ndarray, fsp: int) -> np.ndarray:
    return be_uint(mat) * FRAC_SCALE[fsp] if mat.shape[1] else np.zeros(mat.shape[0], np.int64)


def days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (vectorised)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _arrow(values: np.ndarray, mask: np.ndarray, arrow_type: pa.DataType, storage: pa.DataType) -> pa.Array:
    return pa.array(values.astype(storage.to_pandas_dtype()), storage, mask=mask).view(arrow_type)


def _integer(signed: bool, arrow_type: pa.DataType) -> Callable:
    def convert(mat, mask):
        return pa.array(le_int(mat, signed), arrow_type, mask=mask)
    return convert


def _year(mat, mask):
    v = mat[:, 0].astype(np.int64)
    return pa.array(np.where(v == 0, 0, v + 1900), pa.int64(), mask=mask)


def _float(dtype: str, arrow_type: pa.DataType) -> Callable:
    return lambda mat, mask: pa.array(np.ascontiguousarray(mat).view(dtype).reshape(-1), arrow_type, mask=mask)


def _date(mat, mask):
    v = le_int(mat, False).astype(np.int64)
    y, m, d = v >> 9, (v >> 5) & 15, v & 31
    bad = mask | (m == 0) | (d == 0)
    return _arrow(days_from_civil(y, np.maximum(m, 1), d), bad, pa.date32(), pa.int32())


def _datetime_us(y, mo, d, h, mi, s, us):
    return ((days_from_civil(y, np.maximum(mo, 1), d) * 86400 + h * 3600 + mi * 60 + s) * 1_000_000 + us)


def _datetime2(fsp: int) -> Callable:
    def convert(mat, mask):
        v = be_uint(mat[:, :5]) - 0x8000000000
        ymd, hms = v >> 17, v & 0x1FFFF
        ym = ymd >> 5
        y, mo, d = ym // 13, ym % 13, ymd & 31
        us = _datetime_us(y, mo, d, hms >> 12, (hms >> 6) & 63, hms & 63, _frac_us(mat[:, 5:], fsp))
        return _arrow(us, mask | (mo == 0) | (d == 0), pa.timestamp("us"), pa.int64())
    return convert


def _datetime_old(mat, mask):
    v = le_int(mat, False).astype(np.int64)
    date, time = v // 1_000_000, v % 1_000_000
    y, mo, d = date // 10000, date // 100 % 100, date % 100
    us = _datetime_us(y, mo, d, time // 10000, time // 100 % 100, time % 100, 0)
    return _arrow(us, mask | (mo == 0) | (d == 0), pa.timestamp("us"), pa.int64())


def _timestamp2(fsp: int) -> Callable:
    def convert(mat, mask):
        seconds, frac = be_uint(mat[:, :4]), _frac_us(mat[:, 4:], fsp)
        return _arrow(seconds * 1_000_000 + frac, mask | ((seconds == 0) & (frac == 0)),
                      pa.timestamp("us", "UTC"), pa.int64())
    return convert


def _timestamp_old(mat, mask):
    seconds = le_int(mat, False).astype(np.int64)
    return _arrow(seconds * 1_000_000, mask | (seconds == 0), pa.timestamp("us", "UTC"), pa.int64())


def time2_packed(mat: np.ndarray, fsp: int) -> np.ndarray:
    """TIME2 as MySQL's packed value ``±(hms << 24 | microseconds)``: the integer and fraction bytes
    form one two's complement number, so a negative fraction borrows from the integer part."""
    fb = (fsp + 1) // 2
    if fb == 3:
        return be_uint(mat) - 0x800000000000
    intpart = be_uint(mat[:, :3]) - 0x800000
    if fb == 0:
        return intpart << 24
    frac = be_uint(mat[:, 3:])
    borrow = (intpart < 0) & (frac != 0)
    intpart = np.where(borrow, intpart + 1, intpart)
    frac = np.where(borrow, frac - (1 << (8 * fb)), frac)
    return (intpart << 24) + frac * FRAC_SCALE[fsp]


def _time_us(sign, h, mi, s, us):
    return sign * ((h * 3600 + mi * 60 + s) * 1_000_000 + us)


def _time2(fsp: int) -> Callable:
    def convert(mat, mask):
        packed = time2_packed(mat, fsp)
        mag = np.abs(packed)
        hms = mag >> 24
        us = _time_us(np.where(packed < 0, -1, 1), (hms >> 12) & 0x3FF, (hms >> 6) & 63, hms & 63, mag & 0xFFFFFF)
        return _arrow(us, mask, pa.duration("us"), pa.int64())
    return convert


def _time_old(mat, mask):
    v = le_int(mat, True)
    a = np.abs(v)
    us = _time_us(np.where(v < 0, -1, 1), a // 10000, a // 100 % 100, a % 100, 0)
    return _arrow(us, mask, pa.duration("us"), pa.int64())


def _decimal(precision: int, scale: int, arrow_type: pa.DataType) -> Callable:
    def convert(mat, mask):
        acc, negative = decimal_unscaled(mat, precision, scale)
        if precision > 38:
            return pa.array([None if m else decimal_text(int(v), neg, scale)
                             for v, neg, m in zip(acc, negative, mask)], pa.string())
        if precision <= 18:
            signed = np.where(negative, -acc, acc)
            data = np.stack([signed, signed >> 63], axis=1).astype("<i8").tobytes()
        else:  # a NULL's bytes are not a value (they may not fit in 16 bytes): 0 in its place
            data = b"".join((0 if m else -int(v) if neg else int(v)).to_bytes(16, "little", signed=True)
                            for v, neg, m in zip(acc, negative, mask))
        validity = pa.py_buffer(np.packbits(~mask, bitorder="little")) if mask.any() else None
        return pa.Array.from_buffers(arrow_type, len(mat), [validity, pa.py_buffer(data)])
    return convert


def _fixed_binary(width: int) -> Callable:
    def convert(mat, mask):
        validity = pa.py_buffer(np.packbits(~mask, bitorder="little")) if mask.any() else None
        fixed = pa.Array.from_buffers(pa.binary(width), len(mat), [validity, pa.py_buffer(mat.tobytes())])
        return fixed.cast(pa.binary())
    return convert


def _enum(elements: tuple[str, ...]) -> Callable:
    values = pa.array(("",) + elements, pa.string())
    return lambda mat, mask: values.take(pa.array(le_int(mat, False).astype(np.int64), mask=mask))


def _set(elements: tuple[str, ...]) -> Callable:
    def convert(mat, mask):
        bits = le_int(mat, False).tolist()
        return pa.array([None if m else [e for i, e in enumerate(elements) if b >> i & 1]
                         for b, m in zip(bits, mask)], pa.list_(pa.string()))
    return convert


def _text(charset: Optional[str]) -> Callable:
    python_codec = codec(charset or "binary")
    if python_codec is None:
        return lambda values: pa.array(values, pa.binary())
    if python_codec == "utf-8":
        return lambda values: pa.array(values, pa.binary()).cast(pa.string())
    return lambda values: pa.array([None if v is None else decode_text(v, python_codec) for v in values],
                                   pa.string())


def _padded(length: int) -> Callable:
    return lambda values: pa.array([v if v is None or len(v) >= length else v.ljust(length, b"\0")
                                    for v in values], pa.binary())


def _json(values: list) -> pa.Array:
    return pa.array([None if v is None else json_text(v) for v in values], pa.string())


def column_codec(layout: tm.ColumnLayout) -> ColumnCodec:
    code, meta, t = layout.code, layout.meta, layout.type
    arrow_type = canonical_arrow_type(t)
    fb = (t.fsp + 1) // 2
    bit_width = (meta >> 8) + bool(meta & 0xFF)
    fixed = {
        tm.TINY: lambda: (1, _integer(not t.unsigned, arrow_type)),
        tm.SHORT: lambda: (2, _integer(not t.unsigned, arrow_type)),
        tm.INT24: lambda: (3, _integer(not t.unsigned, arrow_type)),
        tm.LONG: lambda: (4, _integer(not t.unsigned, arrow_type)),
        tm.LONGLONG: lambda: (8, _integer(not t.unsigned, arrow_type)),
        tm.YEAR: lambda: (1, _year),
        tm.FLOAT: lambda: (4, _float("<f4", arrow_type)),
        tm.DOUBLE: lambda: (8, _float("<f8", arrow_type)),
        tm.DATE: lambda: (3, _date), tm.NEWDATE: lambda: (3, _date),
        tm.TIME2: lambda: (3 + fb, _time2(t.fsp)), tm.TIME: lambda: (3, _time_old),
        tm.DATETIME2: lambda: (5 + fb, _datetime2(t.fsp)), tm.DATETIME: lambda: (8, _datetime_old),
        tm.TIMESTAMP2: lambda: (4 + fb, _timestamp2(t.fsp)), tm.TIMESTAMP: lambda: (4, _timestamp_old),
        tm.NEWDECIMAL: lambda: (decimal_width(t.precision, t.scale), _decimal(t.precision, t.scale, arrow_type)),
        tm.BIT: lambda: (bit_width, _fixed_binary(bit_width)),
        tm.ENUM: lambda: (meta, _enum(t.elements)),
        tm.SET: lambda: (meta, _set(t.elements)),
    }
    if code in fixed:
        width, convert = fixed[code]()
        return ColumnCodec(width, 0, convert)
    if code in (tm.VARCHAR, tm.VAR_STRING, tm.STRING):
        convert = _padded(t.length) if t.name == "binary" else _text(t.charset)
        return ColumnCodec(0, 1 if meta < 256 else 2, convert)
    if code in (tm.BLOB, tm.GEOMETRY, tm.TINY_BLOB, tm.MEDIUM_BLOB, tm.LONG_BLOB):
        return ColumnCodec(0, meta, _text(t.charset if code != tm.GEOMETRY else "binary"))
    if code == tm.JSON:
        return ColumnCodec(0, meta, _json)
    raise NotImplementedError(f"binlog column type {code} has no decoder")
