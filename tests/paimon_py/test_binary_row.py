"""Tests of paimon_py.data.binary_row and row_kind against §5 test vectors and pypaimon."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pypaimon.schema.data_types import DataField as PyDataField
from pypaimon.schema.data_types import DataTypeParser
from pypaimon.table.row.generic_row import GenericRow, GenericRowSerializer
from pypaimon.table.row.internal_row import RowKind as PyRowKind

from paimon_py.data.binary_row import EMPTY_ROW, BinaryRow
from paimon_py.data.row_kind import RowKind
from paimon_py.types import (
    ArrayType,
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    FloatType,
    IntType,
    LocalZonedTimestampType,
    RowType,
    SmallIntType,
    TimestampType,
    TimeType,
    TinyIntType,
    VarCharType,
)
from tests.support.row_values import KEY_TYPES, UTC, _type_and_values, nullable_value


@st.composite
def typed_rows(draw: st.DrawFn, max_fields: int = 5, nulls: bool = True) -> tuple[list[DataType], list[Any]]:
    """A row: its types and its values."""
    types = draw(st.lists(st.sampled_from(KEY_TYPES), min_size=0, max_size=max_fields))
    strategies = [nullable_value(t) if nulls else _type_and_values(t)[1] for t in types]
    return types, [draw(s) for s in strategies]


# ---------------------------------------------------------------------------------------------
# Test vectors of §5
# ---------------------------------------------------------------------------------------------


def test_worked_example_44_bytes() -> None:
    data = BinaryRow.serialize(("2024-01-01", 5), (VarCharType(), IntType()))
    expected = bytes.fromhex(
        "00000002"
        "0000000000000000"
        "0a00000018000000"
        "0500000000000000"
        "323032342d30312d3031000000000000"
    )
    assert data == expected
    assert len(data) == 44
    assert BinaryRow.deserialize(data, (VarCharType(), IntType())) == ("2024-01-01", 5)


def test_inline_string_slot() -> None:
    row = BinaryRow.encode(("abc",), (VarCharType(),))
    assert row[8:16] == bytes.fromhex("6162630000000083")


def test_null_bitset() -> None:
    row = BinaryRow.encode((None, "hello world!"), (IntType(), VarCharType()))
    assert row[:8] == bytes.fromhex("0001000000000000")
    assert row[8:16] == bytes(8)


def test_timestamp6_example() -> None:
    value = dt.datetime(2024, 1, 1, 12, 0, 0, 123456)
    row = BinaryRow.encode((value,), (TimestampType(6),))
    assert row[8:16] == bytes.fromhex("40f5060010000000")
    assert row[16:24] == bytes.fromhex("7b22e5c48c010000")
    assert BinaryRow.deserialize(BinaryRow.serialize((value,), (TimestampType(6),)), (TimestampType(6),)) == (value,)


def test_empty_row() -> None:
    assert EMPTY_ROW == bytes.fromhex("00000000" "0000000000000000")
    assert BinaryRow.deserialize(EMPTY_ROW, ()) == ()


# ---------------------------------------------------------------------------------------------
# Layout details
# ---------------------------------------------------------------------------------------------


def test_null_reserves_var_bytes_like_java() -> None:
    row = BinaryRow.encode((None, None, None), (DecimalType(38, 2), TimestampType(6), TimestampType(3)))
    assert len(row) == 8 + 24 + 16 + 8
    assert row[0:8] == bytes.fromhex("0007000000000000")
    assert row[8:16] == (32 << 32).to_bytes(8, "little")
    assert row[16:24] == (48 << 32).to_bytes(8, "little")
    assert row[24:32] == bytes(8)
    assert row[32:] == bytes(24)


def test_large_decimal_uses_java_byte_length() -> None:
    t = DecimalType(20, 0)
    for unscaled, expected in [(-128, "80"), (127, "7f"), (128, "0080"), (-129, "ff7f"), (0, "00"), (-1, "ff")]:
        row = BinaryRow.encode((decimal.Decimal(unscaled),), (t,))
        size = int.from_bytes(row[8:12], "little")
        assert row[16 : 16 + size].hex() == expected
        assert row[16 + size : 32] == bytes(16 - size)


def test_fixed_width_slots() -> None:
    types = (BooleanType(), TinyIntType(), SmallIntType(), IntType(), FloatType(), DateType(), TimeType())
    values = (True, -1, -2, -3, 1.5, dt.date(2024, 1, 1), dt.time(1, 2, 3, 4000))
    row = BinaryRow.encode(values, types)
    slots = [row[8 + 8 * i : 16 + 8 * i] for i in range(len(types))]
    assert slots[0] == bytes.fromhex("0100000000000000")
    assert slots[1] == bytes.fromhex("ff00000000000000")
    assert slots[2] == bytes.fromhex("feff000000000000")
    assert slots[3] == bytes.fromhex("fdffffff00000000")
    assert slots[4] == bytes.fromhex("0000c03f00000000")
    assert slots[5] == (19723).to_bytes(8, "little")
    assert slots[6] == (3723004).to_bytes(8, "little")


def test_decimal_rounding_and_overflow() -> None:
    t = DecimalType(5, 2)
    data = BinaryRow.serialize((decimal.Decimal("1.005"),), (t,))
    assert BinaryRow.deserialize(data, (t,)) == (decimal.Decimal("1.01"),)
    assert BinaryRow.deserialize(BinaryRow.serialize((7,), (t,)), (t,)) == (decimal.Decimal("7.00"),)
    with pytest.raises(ValueError):
        BinaryRow.encode((decimal.Decimal("1000"),), (t,))


def test_timestamp_inputs() -> None:
    t9 = TimestampType(9)
    ts = pd.Timestamp("2024-01-01 12:00:00.123456789")
    data = BinaryRow.serialize((ts,), (t9,))
    assert BinaryRow.deserialize(data, (t9,)) == (ts,)
    assert BinaryRow.serialize((np.datetime64("2024-01-01T12:00:00.123456789"),), (t9,)) == data
    naive = dt.datetime(2024, 1, 1, 12)
    aware = dt.datetime(2024, 1, 1, 13, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    ltz = LocalZonedTimestampType(6)
    assert BinaryRow.encode((naive,), (ltz,)) == BinaryRow.encode((aware,), (ltz,))
    decoded = BinaryRow.deserialize(BinaryRow.serialize((aware,), (ltz,)), (ltz,))[0]
    assert decoded == aware and decoded.tzinfo == UTC
    assert BinaryRow.encode((naive.replace(tzinfo=UTC),), (TimestampType(3),)) == BinaryRow.encode(
        (naive,), (TimestampType(3),)
    )
    before_epoch = dt.datetime(1969, 12, 31, 23, 59, 59, 999999)
    assert BinaryRow.deserialize(BinaryRow.serialize((before_epoch,), (t9,)), (t9,)) == (before_epoch,)


def test_nested_types_only_null() -> None:
    types = (ArrayType(IntType()), RowType())
    data = BinaryRow.serialize((None, None), types)
    assert BinaryRow.deserialize(data, types) == (None, None)
    with pytest.raises(NotImplementedError):
        BinaryRow.encode(([1],), (ArrayType(IntType()),))


def test_deserialize_arity() -> None:
    data = BinaryRow.serialize((1,), (IntType(),))
    assert BinaryRow.deserialize(data, (IntType(), VarCharType())) == (1, None)
    with pytest.raises(ValueError):
        BinaryRow.deserialize(BinaryRow.serialize((1, 2), (IntType(), IntType())), (IntType(),))
    with pytest.raises(ValueError):
        BinaryRow.encode((1,), ())


def test_wide_row_bitset() -> None:
    types = [IntType()] * 60
    values = [None if i % 7 == 0 else i for i in range(60)]
    data = BinaryRow.serialize(values, types)
    assert len(data) == 4 + 16 + 8 * 60
    assert BinaryRow.deserialize(data, types) == tuple(values)


@given(typed_rows(max_fields=6))
def test_round_trip(row: tuple[list[DataType], list[Any]]) -> None:
    types, values = row
    assert BinaryRow.deserialize(BinaryRow.serialize(values, types), types) == tuple(values)


def _pypaimon_bytes(types: list[DataType], values: list[Any]) -> bytes:
    fields = [PyDataField(i, f"f{i}", DataTypeParser.parse_data_type(t.to_json())) for i, t in enumerate(types)]
    return GenericRowSerializer.to_bytes(GenericRow(list(values), fields, PyRowKind.INSERT))


def _pypaimon_differs(t: DataType, value: Any) -> bool:
    """Where pypaimon 2.1.0 deviates from Java: reserved bytes of nulls, and the byte length of
    large negative decimals (it uses Python's bit_length, Java BigInteger.toByteArray)."""
    if value is None:
        return isinstance(t, DecimalType) and t.precision > 18 or (
            isinstance(t, (TimestampType, LocalZonedTimestampType)) and t.precision > 3
        )
    if isinstance(t, DecimalType) and t.precision > 18 and value < 0:
        unscaled = int(value.scaleb(t.scale))
        return unscaled.bit_length() != (~unscaled).bit_length()
    return False


@given(typed_rows(max_fields=6))
def test_same_bytes_as_pypaimon(row: tuple[list[DataType], list[Any]]) -> None:
    types, values = row
    assume(not any(_pypaimon_differs(t, v) for t, v in zip(types, values)))
    assert BinaryRow.serialize(values, types) == _pypaimon_bytes(types, values)


def test_pypaimon_known_differences() -> None:
    t = DecimalType(20, 0)
    ours = BinaryRow.serialize((decimal.Decimal(-128),), (t,))
    assert ours != _pypaimon_bytes([t], [decimal.Decimal(-128)])
    assert BinaryRow.serialize((None,), (t,)) != _pypaimon_bytes([t], [None])


def test_row_kind() -> None:
    assert [k.short_string() for k in RowKind] == ["+I", "-U", "+U", "-D"]
    assert [int(k) for k in RowKind] == [0, 1, 2, 3]
    assert RowKind.from_short_string("-D") is RowKind.DELETE
    with pytest.raises(ValueError):
        RowKind.from_short_string("x")
