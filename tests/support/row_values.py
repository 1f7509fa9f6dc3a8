"""Hypothesis strategies for row values (used by tests/paimon_py/test_binary_row.py and tests/paimon_py/test_bucket.py):
(type, value) pairs with Python values as ``paimon_py.data.binary_row`` documents them, restricted
to values that decode back to themselves; ``KEY_TYPES``, the types a key can have.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from hypothesis import strategies as st

from paimon_py.data.binary_row import from_unscaled
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

UTC = dt.timezone.utc

def _decimals(precision: int, scale: int) -> st.SearchStrategy[decimal.Decimal]:
    bound = 10**precision - 1
    edges = st.sampled_from([0, 1, -1, bound, -bound, -128, -(2**63), 2**63 - 1, -(2**64)])
    unscaled = st.one_of(st.integers(-bound, bound), edges.filter(lambda v: abs(v) <= bound))
    return unscaled.map(lambda v: from_unscaled(v, scale))


_NAIVE = st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9000, 1, 1))


def _timestamps(precision: int) -> st.SearchStrategy[dt.datetime]:
    if precision <= 3:
        return _NAIVE.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
    return _NAIVE


def _texts(max_size: int) -> st.SearchStrategy[str]:
    return st.text(st.characters(codec="utf-8"), max_size=max_size)


def _type_and_values(t: DataType) -> tuple[DataType, st.SearchStrategy[Any]]:
    values: dict[type, st.SearchStrategy[Any]] = {
        BooleanType: st.booleans(),
        TinyIntType: st.integers(-(2**7), 2**7 - 1),
        SmallIntType: st.integers(-(2**15), 2**15 - 1),
        IntType: st.integers(-(2**31), 2**31 - 1),
        BigIntType: st.integers(-(2**63), 2**63 - 1),
        FloatType: st.floats(width=32, allow_nan=False),
        DoubleType: st.floats(allow_nan=False),
        CharType: _texts(10),
        VarCharType: _texts(40),
        BinaryType: st.binary(max_size=12),
        VarBinaryType: st.binary(max_size=40),
        DateType: st.dates(),
        TimeType: st.times().map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000)),
    }
    if isinstance(t, DecimalType):
        return t, _decimals(t.precision, t.scale)
    if isinstance(t, TimestampType):
        return t, _timestamps(t.precision)
    if isinstance(t, LocalZonedTimestampType):
        return t, _timestamps(t.precision).map(lambda d: d.replace(tzinfo=UTC))
    return t, values[type(t)]


KEY_TYPES: list[DataType] = [
    BooleanType(),
    TinyIntType(),
    SmallIntType(),
    IntType(),
    BigIntType(),
    FloatType(),
    DoubleType(),
    DecimalType(10, 2),
    DecimalType(18, 0),
    DecimalType(38, 10),
    DecimalType(20, 0),
    CharType(10),
    VarCharType(20),
    VarCharType(),
    BinaryType(12),
    VarBinaryType(),
    DateType(),
    TimeType(0),
    TimestampType(3),
    TimestampType(6),
    TimestampType(0),
    LocalZonedTimestampType(3),
    LocalZonedTimestampType(6),
]


def nullable_value(t: DataType) -> st.SearchStrategy[Any]:
    """A value of ``t`` or None."""
    return st.one_of(st.none(), _type_and_values(t)[1])
