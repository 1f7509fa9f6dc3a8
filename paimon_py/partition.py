"""Partition directory names (format reference §1) and the partition of every row of Arrow data.

The path of a partition is ``k1=v1/k2=v2``: each value is turned into text as Java's
``InternalRowPartitionComputer`` does (``toString()`` of the internal value with
``partition.legacy-name=true``, the default; a CAST to STRING otherwise), null or
whitespace-only text becomes the default partition name, and keys and values are escaped
with :func:`escape_path_name`. Readers recompute these paths, so they must match Java
byte for byte. Values follow the Python conventions of :mod:`paimon_py.data.binary_row`.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paimon_py.data.binary_row import from_unscaled, to_epoch_days, to_epoch_nanos, to_millis_of_day, to_unscaled
from paimon_py.types import (
    BinaryType,
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    LocalZonedTimestampType,
    TimestampType,
    TimeType,
    VarBinaryType,
)

DEFAULT_PARTITION_NAME = "__DEFAULT_PARTITION__"

_ESCAPED = frozenset([chr(c) for c in range(0x20)] + ["\x7f", *"\"#%'*/:=?\\{}[]^"])
_NOT_JAVA_WHITESPACE = frozenset("\x85\xa0\u2007\u202f")
_EPOCH = dt.datetime(1970, 1, 1)


def escape_path_name(s: str) -> str:
    """Java ``PartitionPathUtils.escapePathName``: 0x00-0x1F, 0x7F and ``"#%'*/:=?\\{}[]^``
    become ``%XX`` (uppercase hex); everything else, spaces and non-ASCII included, is kept."""
    return "".join(f"%{ord(c):02X}" if c in _ESCAPED else c for c in s)


def is_null_or_whitespace_only(text: str | None) -> bool:
    """Java ``StringUtils.isNullOrWhitespaceOnly`` (``Character.isWhitespace`` per char)."""
    return text is None or all(c.isspace() and c not in _NOT_JAVA_WHITESPACE for c in text)


# ---------------------------------------------------------------------------------------------
# Value -> text
# ---------------------------------------------------------------------------------------------


def partition_value_string(value: Any, t: DataType, legacy: bool = True) -> str:
    """Text of a non-null partition value: Java ``toString()`` of the internal value when
    ``legacy`` (DATE as epoch days, TIME as millis of day, TIMESTAMP as ``LocalDateTime``),
    else Java's CAST to STRING. TIMESTAMP WITH LOCAL TIME ZONE uses UTC wall-clock fields
    (Java's non-legacy cast would use the JVM time zone)."""
    if isinstance(t, BooleanType):
        return "true" if value else "false"
    if isinstance(t, (FloatType, DoubleType)):
        return java_float_string(float(value), single=isinstance(t, FloatType))
    if isinstance(t, DecimalType):
        return format(from_unscaled(to_unscaled(value, t.precision, t.scale), t.scale), "f")
    if isinstance(t, (BinaryType, VarBinaryType)):
        return bytes(value).decode("utf-8", errors="replace")
    formatter = (_LEGACY_FORMATTERS if legacy else _CAST_FORMATTERS).get(type(t))
    return str(value) if formatter is None else formatter(value, t)


def _date_time(value: Any, t: DataType) -> tuple[dt.datetime, int]:
    """Wall-clock date-time (seconds resolution) and nano of second of a timestamp value."""
    seconds, nanos = divmod(to_epoch_nanos(value, isinstance(t, LocalZonedTimestampType)), 1_000_000_000)
    return _EPOCH + dt.timedelta(seconds=seconds), nanos


def _local_date_time_string(value: Any, t: DataType) -> str:
    """Java ``LocalDateTime.toString()``: ``HH:mm``, ``:ss`` only if needed, fraction in
    groups of 3 digits."""
    when, nanos = _date_time(value, t)
    text = when.strftime("%H:%M")
    if when.second or nanos:
        text += f":{when.second:02d}"
    if nanos:
        digits = f"{nanos:09d}"
        text += "." + (digits[:3] if nanos % 1_000_000 == 0 else digits[:6] if nanos % 1000 == 0 else digits)
    return f"{when.date().isoformat()}T{text}"


def _cast_timestamp_string(value: Any, t: Any) -> str:
    """Java ``DateTimeUtils.formatTimestamp(ts, precision)``: nine fraction digits stripped of
    trailing zeros, but never below ``precision`` digits."""
    when, nanos = _date_time(value, t)
    fraction = f"{nanos:09d}"
    while len(fraction) > t.precision and fraction.endswith("0"):
        fraction = fraction[:-1]
    text = f"{when.date().isoformat()} {when.strftime('%H:%M:%S')}"
    return f"{text}.{fraction}" if fraction else text


def _cast_time_string(value: dt.time, t: Any) -> str:
    """Java ``DateTimeUtils.formatTimestampMillis(millis, precision)``: fraction digits off the
    milliseconds until only zeros are left."""
    millis = value.microsecond // 1000
    text = value.strftime("%H:%M:%S")
    if t.precision <= 0:
        return text
    digits = []
    for _ in range(t.precision):
        digits.append(str(millis // 100))
        millis = millis % 100 * 10
        if millis == 0:
            break
    return f"{text}.{''.join(digits)}"


_Formatter = Callable[[Any, Any], str]

_LEGACY_FORMATTERS: dict[type, _Formatter] = {
    DateType: lambda v, t: str(to_epoch_days(v)),
    TimeType: lambda v, t: str(to_millis_of_day(v)),
    TimestampType: _local_date_time_string,
    LocalZonedTimestampType: _local_date_time_string,
}

_CAST_FORMATTERS: dict[type, _Formatter] = {
    DateType: lambda v, t: v.isoformat() if not isinstance(v, dt.datetime) else v.date().isoformat(),
    TimeType: _cast_time_string,
    TimestampType: _cast_timestamp_string,
    LocalZonedTimestampType: _cast_timestamp_string,
}


def java_float_string(x: float, single: bool = False) -> str:
    """Java ``Double.toString`` (or ``Float.toString`` if ``single``) as of JDK 19+: the
    shortest decimal that round-trips (at least 2 digits considered); plain for
    1e-3 <= |x| < 1e7, else ``d.dddE±n``. Older JDKs sometimes print more digits."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    scientific = np.format_float_scientific(np.float32(x) if single else np.float64(x), unique=True)
    if len(scientific.lstrip("-").split("e")[0].rstrip("0").rstrip(".")) == 1:
        scientific = f"{x:.1e}"  # Java picks the closest of the 1- and 2-digit candidates
    mantissa, exponent_text = scientific.split("e")
    sign = "-" if mantissa.startswith("-") else ""
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    exponent = int(exponent_text)
    if -3 <= exponent < 7:
        return sign + _plain(digits, exponent)
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def _plain(digits: str, exponent: int) -> str:
    if exponent < 0:
        return "0." + "0" * (-exponent - 1) + digits
    integer = digits[: exponent + 1].ljust(exponent + 1, "0")
    return f"{integer}.{digits[exponent + 1:] or '0'}"


# ---------------------------------------------------------------------------------------------
# Partition paths
# ---------------------------------------------------------------------------------------------


class PartitionComputer:
    """Computes the relative directory of a partition (a tuple of partition values)."""

    def __init__(
        self,
        partition_keys: Sequence[str],
        partition_types: Sequence[DataType],
        default_name: str = DEFAULT_PARTITION_NAME,
        legacy_name: bool = True,
    ) -> None:
        if len(partition_keys) != len(partition_types):
            raise ValueError(f"{len(partition_keys)} partition keys for {len(partition_types)} types")
        self.partition_keys = list(partition_keys)
        self.partition_types = list(partition_types)
        self.default_name = default_name
        self.legacy_name = legacy_name

    def path(self, values: Sequence[Any]) -> str:
        """``k1=v1/k2=v2`` (escaped); the empty string for an unpartitioned table."""
        if len(values) != len(self.partition_keys):
            raise ValueError(f"{len(values)} values for partition keys {self.partition_keys}")
        parts = []
        for key, value, t in zip(self.partition_keys, values, self.partition_types):
            text = None if value is None else partition_value_string(value, t, self.legacy_name)
            if is_null_or_whitespace_only(text):
                text = self.default_name
            parts.append(f"{escape_path_name(key)}={escape_path_name(text)}")
        return "/".join(parts)


# ---------------------------------------------------------------------------------------------
# The partition of every row
# ---------------------------------------------------------------------------------------------


def partition_of_rows(table: pa.Table, partition_keys: Sequence[str]) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """The partition of every row, vectorised: an index per row (int64) into the list of
    distinct partition tuples, numbered in order of first appearance (nulls are a value of
    their own). Partition values are Python objects (``as_py()``)."""
    n = table.num_rows
    if not partition_keys:
        return np.zeros(n, np.int64), ([()] if n else [])
    if n == 0:
        return np.zeros(0, np.int64), []
    encoded = [_dictionary_encode(table.column(k)) for k in partition_keys]
    ids = _group_ids(encoded)
    running_max = np.maximum.accumulate(ids)  # ids appear in order: id k first where the max reaches k
    first_rows = pa.array(np.flatnonzero(np.diff(running_max, prepend=-1) > 0))
    columns = [e.dictionary.take(e.indices.take(first_rows)).to_pylist() for e in encoded]
    return ids, list(zip(*columns))


def _dictionary_encode(column: pa.ChunkedArray) -> pa.DictionaryArray:
    array = column.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    return pc.dictionary_encode(array, null_encoding="encode")


def _group_ids(encoded: list[pa.DictionaryArray]) -> np.ndarray:
    """Dense id per row of the combination of dictionary codes, in order of first appearance
    (``dictionary_encode`` numbers values so; combinations are re-encoded key by key)."""
    ids = encoded[0].indices.to_numpy(zero_copy_only=False).astype(np.int64)
    for e in encoded[1:]:
        combined = ids * len(e.dictionary) + e.indices.to_numpy(zero_copy_only=False)
        ids = pc.dictionary_encode(pa.array(combined)).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return ids
