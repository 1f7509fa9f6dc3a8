"""Values of every atomic Paimon type, as Arrow types and Python values, for the interop tests.

Values are chosen to hit the BinaryRow encodings that bucket hashing depends on (format §5):
strings and bytes of 0..7 bytes (inline) and >= 8 bytes (variable part), non-ASCII text,
DECIMAL p <= 18 (compact long) and p > 18 (big-endian bytes of varying length), TIMESTAMP p <= 3
(millis) and p > 3 (millis + nanos-of-milli, incl. pre-1970 instants), negative numbers.
"""

from __future__ import annotations

import datetime as dt
import decimal
import struct

import pyarrow as pa

D = decimal.Decimal
UTC = dt.timezone.utc

_STRINGS = ["", "a", "abcdefg", "abcdefgh", "é", "üüü", "üüüü", "漢字", "漢字漢字漢字",
            "long string value with spaces", "a/b=c?d#%", "Zürich", "\u0000x", "emoji 🙂",
            "0123456789abcdef0123456789abcdef"]
_BYTES = [b"", b"\x00", b"\x01\x02\x03", bytes(range(7)), bytes(range(8)), b"\xff" * 20,
          b"\x80" * 7, "é".encode(), bytes(range(100, 160))]


def _decimal_10_2():
    values = [D("0.00"), D("0.01"), D("-0.01"), D("99999999.99"), D("-99999999.99"), D("12.34")]
    values += [(D(i * 7919) / 100).quantize(D("0.01")) for i in range(-12, 12)]
    return _dedupe(values)


def _decimal_38_10():
    q = D("0.0000000001")
    values = [D("0E-10"), D("1E-10"), D("-1E-10"),
              D("1234567890123456789012345678.0123456789"),
              D("-1234567890123456789012345678.0123456789"),
              D("9999999999999999999999999999.9999999999"),
              D("-9999999999999999999999999999.9999999999"),
              D("127.0000000000"), D("-128.0000000000"), D("0.0000000255")]
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        values += [(D(3) ** e * (1 if e % 2 else -1) / D(7)).quantize(q) for e in range(0, 50, 3)]
        return _dedupe(v.quantize(q) for v in values)


def _float32_exact(values):
    """Round to float32 so that what a FLOAT column returns equals the Python value."""
    return [struct.unpack("f", struct.pack("f", v))[0] for v in values]


def _dedupe(values):
    out = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _dates():
    base = dt.date(1970, 1, 1)
    return [base, dt.date(1969, 12, 31), dt.date(1900, 1, 1), dt.date(2024, 2, 29),
            dt.date(9999, 12, 31), dt.date(1, 1, 1)] + [base + dt.timedelta(days=i * 397)
                                                         for i in range(-15, 15) if i]


def _times():
    return [dt.time(0, 0, 0), dt.time(23, 59, 59, 999000), dt.time(12, 0, 0, 1000)] + [
        dt.time(h, (h * 7) % 60, (h * 13) % 60, (h * 37 % 1000) * 1000) for h in range(24)]


def _ts3():
    base = dt.datetime(2024, 1, 1, 12, 0, 0)
    return [dt.datetime(1970, 1, 1), dt.datetime(1969, 12, 31, 23, 59, 59, 999000),
            dt.datetime(1900, 1, 1, 0, 0, 0, 1000), dt.datetime(2262, 4, 11)] + [
        base + dt.timedelta(milliseconds=i * 123457) for i in range(-15, 15)]


def _ts6():
    base = dt.datetime(2024, 1, 1, 12, 0, 0, 123456)
    return [dt.datetime(1970, 1, 1), dt.datetime(1969, 12, 31, 23, 59, 59, 999999),
            dt.datetime(1969, 12, 31, 23, 59, 59, 1), dt.datetime(1900, 1, 1, 0, 0, 0, 1),
            dt.datetime(2024, 1, 1, 12, 0, 0, 123000)] + [
        base + dt.timedelta(microseconds=i * 123456789) for i in range(-15, 15)]


def _ltz():
    return [t.replace(tzinfo=UTC) for t in _ts6()]


# name -> (arrow type, distinct non-null values)
TYPE_CASES: dict[str, tuple[pa.DataType, list]] = {
    "boolean": (pa.bool_(), [True, False]),
    "tinyint": (pa.int8(), [-128, 127, 0, -1] + list(range(-120, 120, 9))),
    "smallint": (pa.int16(), [-32768, 32767, 0, -1] + list(range(-30000, 30000, 2500))),
    "int": (pa.int32(), [-2**31, 2**31 - 1, 0, -1] + [i * 7919 for i in range(-15, 15) if i not in (0,)]),
    "bigint": (pa.int64(), [-2**63, 2**63 - 1, 0, -1, 1] + [i * 10**12 + i for i in range(-15, 15) if i]),
    "float": (pa.float32(), _float32_exact([0.0, -1.5, 3.25, 1e30, -1e-30] + [i / 8 for i in range(-15, 15) if i])),
    "double": (pa.float64(), [0.0, 0.1, -2.5, 1e300, -5e-324] + [i * 0.1 for i in range(-15, 15) if i]),
    "decimal_10_2": (pa.decimal128(10, 2), _decimal_10_2()),
    "decimal_38_10": (pa.decimal128(38, 10), _decimal_38_10()),
    "string": (pa.string(), _STRINGS + [f"key-{i}" for i in range(15)]),
    "bytes": (pa.binary(), _BYTES + [f"bin-{i}".encode() * (i % 4 + 1) for i in range(15)]),
    "date": (pa.date32(), _dates()),
    "time": (pa.time32("ms"), _times()),
    "timestamp_3": (pa.timestamp("ms"), _ts3()),
    "timestamp_6": (pa.timestamp("us"), _ts6()),
    "timestamp_ltz_6": (pa.timestamp("us", tz="UTC"), _ltz()),
}


def cycle_value(name: str, i: int):
    values = TYPE_CASES[name][1]
    return values[i % len(values)]

TYPE_CASES = {name: (arrow_type, _dedupe(values)) for name, (arrow_type, values) in TYPE_CASES.items()}
