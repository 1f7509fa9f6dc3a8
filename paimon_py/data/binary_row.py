"""Paimon's BinaryRow layout (format reference §5), for metadata rows and bucket hashing.

Python value conventions (per Paimon type, ``None`` is null):

* BOOLEAN ``bool``; TINYINT/SMALLINT/INT/BIGINT ``int``; FLOAT/DOUBLE ``float``.
* DECIMAL ``decimal.Decimal`` (``int``/``str`` also accepted on encode); rounded HALF_UP to
  the type's scale like Java, a value exceeding the precision raises ``ValueError``.
* CHAR/VARCHAR/STRING ``str`` (UTF-8); BINARY/VARBINARY/BYTES ``bytes``.
* DATE ``datetime.date``; TIME ``datetime.time`` (stored as millis of day).
* TIMESTAMP naive ``datetime.datetime`` (a wall-clock value; a tzinfo is ignored);
  TIMESTAMP WITH LOCAL TIME ZONE a tz-aware ``datetime`` (naive ones are taken as UTC),
  decoded as UTC. ``pandas.Timestamp`` (a datetime carrying ``nanosecond``) and
  ``numpy.datetime64`` are accepted on encode; a value with sub-microsecond digits
  (precision > 6) decodes to ``pandas.Timestamp`` so that the nanoseconds survive.
* ARRAY/MAP/MULTISET/ROW/VARIANT/BLOB: only null is supported (metadata rows use null stats
  for them); a non-null value raises ``NotImplementedError``.

Nulls follow Java's ``BinaryRowWriter``: the null bit is set and the slot is zero, except that
a null DECIMAL with precision > 18 still reserves its 16 var-part bytes and a null TIMESTAMP/LTZ
with precision > 3 its 8 bytes (slot = ``offset << 32``). pypaimon does not reserve them, so it
hashes such rows differently from Java; we follow Java.
"""

from __future__ import annotations

import datetime as dt
import decimal
import struct
from typing import Any, Callable, Sequence

import numpy as np

from paimon_py.exceptions import InvalidDataError, UnsupportedFeatureError
from paimon_py.types import (
    BigIntType,
    BinaryType,
    BooleanType,
    CharType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntType,
    LocalZonedTimestampType,
    SmallIntType,
    TimestampType,
    TimeType,
    TinyIntType,
    VarBinaryType,
    VarCharType,
)

HEADER_SIZE_IN_BITS = 8
MAX_INLINE_LENGTH = 7
MAX_COMPACT_DECIMAL_PRECISION = 18
MAX_COMPACT_TIMESTAMP_PRECISION = 3

_EPOCH_DATE = dt.date(1970, 1, 1)
_EPOCH_NAIVE = dt.datetime(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_NANOS_PER_MILLI = 1_000_000
_ROUNDING_CONTEXT = decimal.Context(prec=100, rounding=decimal.ROUND_HALF_UP)


def null_bits_width(arity: int) -> int:
    """Bytes of the header + null bitset: ``((arity + 63 + 8) // 64) * 8``."""
    return ((arity + 63 + HEADER_SIZE_IN_BITS) // 64) * 8


def _round_to_word(n: int) -> int:
    return (n + 7) & ~7


def null_reserved_bytes(t: DataType) -> int:
    """Var-part bytes Java reserves even for a null value of type ``t`` (16, 8 or 0)."""
    if isinstance(t, DecimalType) and t.precision > MAX_COMPACT_DECIMAL_PRECISION:
        return 16
    if isinstance(t, (TimestampType, LocalZonedTimestampType)) and t.precision > MAX_COMPACT_TIMESTAMP_PRECISION:
        return 8
    return 0


# ---------------------------------------------------------------------------------------------
# Conversions between Python values and Paimon's internal representations
# ---------------------------------------------------------------------------------------------


def to_epoch_days(value: dt.date) -> int:
    """DATE internal value: days since 1970-01-01."""
    if isinstance(value, dt.datetime):
        value = value.date()
    return (value - _EPOCH_DATE).days


def to_millis_of_day(value: dt.time) -> int:
    """TIME internal value: milliseconds of the day (sub-millisecond digits dropped)."""
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000


def to_epoch_nanos(value: Any, local_zoned: bool) -> int:
    """Nanoseconds since the epoch; wall clock as if UTC unless ``local_zoned`` and tz-aware."""
    if isinstance(value, np.datetime64):
        return int(value.astype("datetime64[ns]").astype(np.int64))
    if local_zoned and value.tzinfo is not None:
        delta = value - _EPOCH_UTC
    else:
        delta = value.replace(tzinfo=None) - _EPOCH_NAIVE
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros * 1000 + getattr(value, "nanosecond", 0)


def to_unscaled(value: Any, precision: int, scale: int) -> int:
    """DECIMAL internal value: the unscaled integer at ``scale`` (HALF_UP rounding)."""
    d = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
    q = d.quantize(decimal.Decimal(1).scaleb(-scale), context=_ROUNDING_CONTEXT)
    sign, digits, _ = q.as_tuple()
    unscaled = int("".join(map(str, digits)) or "0")
    if len(str(unscaled)) > precision:
        raise InvalidDataError(f"{value} does not fit DECIMAL({precision}, {scale})")
    return -unscaled if sign else unscaled


def _java_bit_length(value: int) -> int:
    """Java ``BigInteger.bitLength()``: bits of the minimal two's complement, sign excluded."""
    return (~value).bit_length() if value < 0 else value.bit_length()


def from_unscaled(unscaled: int, scale: int) -> decimal.Decimal:
    """Exact ``Decimal`` for an unscaled integer at ``scale``."""
    digits = tuple(int(c) for c in str(abs(unscaled)))
    return decimal.Decimal((1 if unscaled < 0 else 0, digits, -scale))


def from_epoch_nanos(nanos: int, local_zoned: bool) -> Any:
    """Inverse of :func:`to_epoch_nanos`: a ``datetime``, or a ``pandas.Timestamp`` when
    sub-microsecond digits are present (only possible for precision > 6)."""
    if nanos % 1000:
        import pandas as pd

        ts = pd.Timestamp(nanos, unit="ns")
        return ts.tz_localize("UTC") if local_zoned else ts
    value = _EPOCH_NAIVE + dt.timedelta(microseconds=nanos // 1000)
    return value.replace(tzinfo=dt.timezone.utc) if local_zoned else value


# ---------------------------------------------------------------------------------------------
# Field writers: (value, type, var part, offset of the var part's end) -> 8-byte slot
# ---------------------------------------------------------------------------------------------

_SlotWriter = Callable[[Any, Any, bytearray, int], bytes]


def _int_writer(width: int) -> _SlotWriter:
    def write(value: Any, t: Any, var: bytearray, offset: int) -> bytes:
        return int(value).to_bytes(width, "little", signed=True).ljust(8, b"\0")

    return write


def _write_bool(value: Any, t: Any, var: bytearray, offset: int) -> bytes:
    return (b"\1" if value else b"\0").ljust(8, b"\0")


def _write_float(value: Any, t: Any, var: bytearray, offset: int) -> bytes:
    return struct.pack("<f", value).ljust(8, b"\0")


def _write_double(value: Any, t: Any, var: bytearray, offset: int) -> bytes:
    return struct.pack("<d", value)


def _offset_and_size(offset: int, size: int) -> bytes:
    return struct.pack("<Q", (offset << 32) | size)


def _write_var_bytes(data: bytes, var: bytearray, offset: int) -> bytes:
    if len(data) <= MAX_INLINE_LENGTH:
        return data.ljust(7, b"\0") + bytes([0x80 | len(data)])
    var += data.ljust(_round_to_word(len(data)), b"\0")
    return _offset_and_size(offset, len(data))


def _write_string(value: Any, t: Any, var: bytearray, offset: int) -> bytes:
    return _write_var_bytes(value.encode("utf-8"), var, offset)


def _write_binary(value: Any, t: Any, var: bytearray, offset: int) -> bytes:
    return _write_var_bytes(bytes(value), var, offset)


def _write_decimal(value: Any, t: Any, var: bytearray, offset: int) -> bytes:
    unscaled = to_unscaled(value, t.precision, t.scale)
    if t.precision <= MAX_COMPACT_DECIMAL_PRECISION:
        return struct.pack("<q", unscaled)
    data = unscaled.to_bytes(_java_bit_length(unscaled) // 8 + 1, "big", signed=True)
    var += data.ljust(16, b"\0")
    return _offset_and_size(offset, len(data))


def _write_timestamp(value: Any, t: Any, var: bytearray, offset: int) -> bytes:
    millis, nano_of_milli = divmod(to_epoch_nanos(value, isinstance(t, LocalZonedTimestampType)), _NANOS_PER_MILLI)
    if t.precision <= MAX_COMPACT_TIMESTAMP_PRECISION:
        return struct.pack("<q", millis)
    var += struct.pack("<q", millis)
    return _offset_and_size(offset, nano_of_milli)


def _write_date(value: Any, t: Any, var: bytearray, offset: int) -> bytes:
    return struct.pack("<i", to_epoch_days(value)).ljust(8, b"\0")


def _write_time(value: Any, t: Any, var: bytearray, offset: int) -> bytes:
    return struct.pack("<i", to_millis_of_day(value)).ljust(8, b"\0")


_WRITERS: dict[type, _SlotWriter] = {
    BooleanType: _write_bool,
    TinyIntType: _int_writer(1),
    SmallIntType: _int_writer(2),
    IntType: _int_writer(4),
    BigIntType: _int_writer(8),
    FloatType: _write_float,
    DoubleType: _write_double,
    DecimalType: _write_decimal,
    CharType: _write_string,
    VarCharType: _write_string,
    BinaryType: _write_binary,
    VarBinaryType: _write_binary,
    DateType: _write_date,
    TimeType: _write_time,
    TimestampType: _write_timestamp,
    LocalZonedTimestampType: _write_timestamp,
}


def _writer(t: DataType) -> _SlotWriter:
    writer = _WRITERS.get(type(t))
    if writer is None:
        raise UnsupportedFeatureError(f"BinaryRow values of type {t} are not supported (only null)")
    return writer


# ---------------------------------------------------------------------------------------------
# Field readers: (row bytes, slot offset, type) -> value
# ---------------------------------------------------------------------------------------------

_SlotReader = Callable[[bytes, int, Any], Any]


def _unpack_reader(fmt: str) -> _SlotReader:
    return lambda data, slot, t: struct.unpack_from(fmt, data, slot)[0]


def _read_var_bytes(data: bytes, slot: int) -> bytes:
    mark = data[slot + 7]
    if mark & 0x80:
        return bytes(data[slot : slot + (mark & 0x7F)])
    offset, size = _read_offset_and_size(data, slot)
    return bytes(data[offset : offset + size])


def _read_offset_and_size(data: bytes, slot: int) -> tuple[int, int]:
    word = struct.unpack_from("<Q", data, slot)[0]
    return word >> 32, word & 0xFFFFFFFF


def _read_decimal(data: bytes, slot: int, t: Any) -> decimal.Decimal:
    if t.precision <= MAX_COMPACT_DECIMAL_PRECISION:
        return from_unscaled(struct.unpack_from("<q", data, slot)[0], t.scale)
    offset, size = _read_offset_and_size(data, slot)
    return from_unscaled(int.from_bytes(data[offset : offset + size], "big", signed=True), t.scale)


def _read_timestamp(data: bytes, slot: int, t: Any) -> Any:
    local_zoned = isinstance(t, LocalZonedTimestampType)
    if t.precision <= MAX_COMPACT_TIMESTAMP_PRECISION:
        millis, nano_of_milli = struct.unpack_from("<q", data, slot)[0], 0
    else:
        offset, nano_of_milli = _read_offset_and_size(data, slot)
        millis = struct.unpack_from("<q", data, offset)[0]
    return from_epoch_nanos(millis * _NANOS_PER_MILLI + nano_of_milli, local_zoned)


def _read_time(data: bytes, slot: int, t: Any) -> dt.time:
    millis = struct.unpack_from("<i", data, slot)[0]
    return (_EPOCH_NAIVE + dt.timedelta(milliseconds=millis)).time()


_READERS: dict[type, _SlotReader] = {
    BooleanType: lambda data, slot, t: data[slot] != 0,
    TinyIntType: _unpack_reader("<b"),
    SmallIntType: _unpack_reader("<h"),
    IntType: _unpack_reader("<i"),
    BigIntType: _unpack_reader("<q"),
    FloatType: _unpack_reader("<f"),
    DoubleType: _unpack_reader("<d"),
    DecimalType: _read_decimal,
    CharType: lambda data, slot, t: _read_var_bytes(data, slot).decode("utf-8"),
    VarCharType: lambda data, slot, t: _read_var_bytes(data, slot).decode("utf-8"),
    BinaryType: lambda data, slot, t: _read_var_bytes(data, slot),
    VarBinaryType: lambda data, slot, t: _read_var_bytes(data, slot),
    DateType: lambda data, slot, t: _EPOCH_DATE + dt.timedelta(days=struct.unpack_from("<i", data, slot)[0]),
    TimeType: _read_time,
    TimestampType: _read_timestamp,
    LocalZonedTimestampType: _read_timestamp,
}


# ---------------------------------------------------------------------------------------------
# BinaryRow
# ---------------------------------------------------------------------------------------------


class BinaryRow:
    """Encoder/decoder of Paimon BinaryRows (RowKind byte always 0 = +I)."""

    @staticmethod
    def encode(values: Sequence[Any], types: Sequence[DataType]) -> bytes:
        """Row bytes without the arity prefix (what the bucket hash consumes)."""
        if len(values) != len(types):
            raise ValueError(f"{len(values)} values for {len(types)} types")
        width = null_bits_width(len(types))
        fixed = bytearray(width + 8 * len(types))
        var = bytearray()
        for i, (value, t) in enumerate(zip(values, types)):
            slot = width + 8 * i
            if value is None:
                fixed[(i + HEADER_SIZE_IN_BITS) // 8] |= 1 << ((i + HEADER_SIZE_IN_BITS) % 8)
                reserved = null_reserved_bytes(t)
                if reserved:
                    fixed[slot : slot + 8] = _offset_and_size(len(fixed) + len(var), 0)
                    var += bytes(reserved)
            else:
                fixed[slot : slot + 8] = _writer(t)(value, t, var, len(fixed) + len(var))
        return bytes(fixed + var)

    @staticmethod
    def serialize(values: Sequence[Any], types: Sequence[DataType]) -> bytes:
        """Manifest form: 4-byte big-endian arity, then the row bytes."""
        return struct.pack(">i", len(types)) + BinaryRow.encode(values, types)

    @staticmethod
    def deserialize(data: bytes, types: Sequence[DataType]) -> tuple[Any, ...]:
        """Decode the manifest form. ``types`` may be longer than the stored arity (a row
        written before columns were added): the missing trailing fields are None."""
        arity = struct.unpack_from(">i", data, 0)[0]
        if arity > len(types):
            raise ValueError(f"row has {arity} fields but only {len(types)} types were given")
        row = memoryview(data)[4:].tobytes()
        width = null_bits_width(arity)
        values = [_read_field(row, i, width, t) for i, t in enumerate(types[:arity])]
        return tuple(values) + (None,) * (len(types) - arity)


def _read_field(row: bytes, i: int, width: int, t: DataType) -> Any:
    bit = i + HEADER_SIZE_IN_BITS
    if row[bit // 8] & (1 << (bit % 8)):
        return None
    reader = _READERS.get(type(t))
    if reader is None:
        raise UnsupportedFeatureError(f"BinaryRow values of type {t} are not supported (only null)")
    return reader(row, width + 8 * i, t)


EMPTY_ROW = BinaryRow.serialize((), ())
"""The serialized arity-0 row (partition of an unpartitioned table)."""
