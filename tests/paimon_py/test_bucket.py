"""Tests of paimon_py.bucket: §5 vectors, vectorised == row-by-row, and pypaimon's buckets."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypaimon.schema.schema import Schema as PySchema
from pypaimon.schema.table_schema import TableSchema as PyTableSchema
from pypaimon.write.row_key_extractor import FixedBucketRowKeyExtractor

from paimon_py.bucket import bucket_ids, bucket_of, hash_code, key_hashes, murmur3_32
from paimon_py.data.binary_row import BinaryRow
from paimon_py.types import (
    BigIntType,
    DataType,
    DecimalType,
    IntType,
    LocalZonedTimestampType,
    TimestampType,
    VarCharType,
    from_arrow_type,
    to_arrow_type,
)
from tests.support.row_values import KEY_TYPES, nullable_value

# ---------------------------------------------------------------------------------------------
# §5 test vectors
# ---------------------------------------------------------------------------------------------

VECTORS: list[tuple[list[Any], list[DataType], int, tuple[int, int, int]]] = [
    ([1], [IntType()], 1465514398, (0, 2, 8)),
    ([1], [BigIntType()], 1465514398, (0, 2, 8)),
    ([5], [BigIntType()], 260196596, (0, 0, 6)),
    (["abc"], [VarCharType()], -101922419, (1, 3, 9)),
    (["2024-01-01", 5], [VarCharType(), IntType()], -1197116797, (1, 1, 7)),
    ([], [], -1670924195, (1, 3, 5)),
]


@pytest.mark.parametrize(("values", "types", "expected", "buckets"), VECTORS)
def test_vectors_scalar(values: list[Any], types: list[DataType], expected: int, buckets: tuple[int, ...]) -> None:
    assert hash_code(values, types) == expected
    assert tuple(bucket_of(expected, n) for n in (2, 4, 10)) == buckets


@pytest.mark.parametrize(("values", "types", "expected", "buckets"), [v for v in VECTORS if v[0]])
def test_vectors_vectorised(values: list[Any], types: list[DataType], expected: int, buckets: tuple[int, ...]) -> None:
    names = [f"k{i}" for i in range(len(values))]
    table = pa.table({n: pa.array([v], to_arrow_type(t)) for n, v, t in zip(names, values, types)})
    assert key_hashes(table, names, types).tolist() == [expected]
    assert tuple(bucket_ids(table, names, types, n)[0] for n in (2, 4, 10)) == buckets


def test_murmur_ignores_tail_and_mixes_length() -> None:
    assert murmur3_32(b"") == murmur3_32(b"", 42)
    assert murmur3_32(b"abcd\x01") != murmur3_32(b"abcd")
    assert murmur3_32(bytes(8), seed=0) != murmur3_32(bytes(8))


def test_bucket_of_uses_truncating_remainder() -> None:
    assert bucket_of(-7, 4) == 3
    assert bucket_of(-(2**31), 3) == 2
    hashes = np.array([-7, -(2**31), 2**31 - 1], np.int64)
    assert (np.abs(hashes) % 4).tolist() == [bucket_of(int(h), 4) for h in hashes]


def test_empty_table() -> None:
    table = pa.table({"k": pa.array([], pa.int64())})
    assert bucket_ids(table, ["k"], [BigIntType()], 4).tolist() == []
    assert bucket_ids(table, ["k"], [BigIntType()], 4).dtype == np.int32


# ---------------------------------------------------------------------------------------------
# Vectorised == BinaryRow.encode row by row
# ---------------------------------------------------------------------------------------------


@st.composite
def key_tables(draw: st.DrawFn) -> tuple[list[DataType], list[list[Any]]]:
    types = draw(st.lists(st.sampled_from(KEY_TYPES), min_size=1, max_size=4))
    n = draw(st.integers(1, 25))
    columns = [draw(st.lists(nullable_value(t), min_size=n, max_size=n)) for t in types]
    return types, columns


def _expected(types: list[DataType], columns: list[list[Any]]) -> list[int]:
    return [hash_code(row, types) for row in zip(*columns)]


def _arrow_table(types: list[DataType], columns: list[list[Any]]) -> pa.Table:
    return pa.table({f"k{i}": pa.array(c, to_arrow_type(t)) for i, (t, c) in enumerate(zip(types, columns))})


@settings(max_examples=300, deadline=None)
@given(key_tables())
def test_vectorised_equals_row_by_row(case: tuple[list[DataType], list[list[Any]]]) -> None:
    types, columns = case
    table = _arrow_table(types, columns)
    names = table.column_names
    assert key_hashes(table, names, types).tolist() == _expected(types, columns)


@settings(max_examples=50, deadline=None)
@given(key_tables(), st.integers(0, 5))
def test_sliced_and_chunked_input(case: tuple[list[DataType], list[list[Any]]], cut: int) -> None:
    types, columns = case
    table = _arrow_table(types, columns)
    cut = min(cut, table.num_rows)
    chunked = pa.concat_tables([table.slice(0, cut), table.slice(cut)])
    sliced = table.slice(cut)
    names = table.column_names
    expected = _expected(types, columns)
    assert key_hashes(chunked, names, types).tolist() == expected
    assert key_hashes(sliced, names, types).tolist() == expected[cut:]
    assert key_hashes(sliced.to_batches()[0] if sliced.num_rows else sliced, names, types).tolist() == expected[cut:]


def test_input_columns_are_cast_to_the_key_type() -> None:
    table = pa.table(
        {
            "i": pa.array([1, None, -3], pa.int32()),
            "s": pa.array(["x", "a long string value", None], pa.large_string()),
            "d": pa.array(["p", "q", "p"]).dictionary_encode(),
            "m": pa.array([decimal.Decimal("1.5"), None, decimal.Decimal("-2")], pa.decimal128(5, 1)),
        }
    )
    types: list[DataType] = [BigIntType(), VarCharType(), VarCharType(), DecimalType(20, 3)]
    columns = [
        [1, None, -3],
        ["x", "a long string value", None],
        ["p", "q", "p"],
        [decimal.Decimal("1.5"), None, decimal.Decimal("-2")],
    ]
    assert key_hashes(table, ["i", "s", "d", "m"], types).tolist() == _expected(types, columns)


def test_null_wide_decimal_and_timestamp_reserve_var_bytes() -> None:
    types: list[DataType] = [DecimalType(38, 4), TimestampType(6), LocalZonedTimestampType(9)]
    columns: list[list[Any]] = [[None, decimal.Decimal("-1.5")], [dt.datetime(2024, 1, 1), None], [None, None]]
    table = _arrow_table(types, columns)
    row = BinaryRow.encode([None, dt.datetime(2024, 1, 1), None], types)
    assert len(row) == 8 + 24 + 16 + 8 + 8
    assert key_hashes(table, table.column_names, types).tolist() == _expected(types, columns)


def test_nanosecond_timestamps() -> None:
    t = TimestampType(9)
    raw = np.array([1_700_000_000_123_456_789, -1, 0], "datetime64[ns]")
    table = pa.table({"t": pa.array(raw)})
    expected = [hash_code([v], [t]) for v in raw]
    assert key_hashes(table, ["t"], [t]).tolist() == expected


def test_wide_rows_and_long_strings() -> None:
    rng = np.random.default_rng(7)
    n = 2000
    lengths = rng.integers(0, 300, n)
    strings = ["".join(chr(0x61 + int(c)) if c < 20 else "é" for c in rng.integers(0, 26, k)) for k in lengths]
    ints = rng.integers(-(2**62), 2**62, n)
    table = pa.table({"s": strings, "i": ints})
    types: list[DataType] = [VarCharType(), BigIntType()]
    expected = [hash_code([s, int(i)], types) for s, i in zip(strings, ints)]
    assert key_hashes(table, ["s", "i"], types).tolist() == expected


def test_unsupported_key_type() -> None:
    table = pa.table({"a": pa.array([[1]])})
    with pytest.raises(NotImplementedError):
        key_hashes(table, ["a"], [from_arrow_type(table.schema.field("a").type)])


# ---------------------------------------------------------------------------------------------
# Against pypaimon's write path (FixedBucketRowKeyExtractor)
# ---------------------------------------------------------------------------------------------

def _decimals(unscaled: np.ndarray, scale: int) -> list[decimal.Decimal]:
    return [decimal.Decimal(int(v)).scaleb(-scale) for v in unscaled]


_PYPAIMON_COLUMNS: dict[str, tuple[pa.DataType, Any]] = {
    "b": (pa.bool_(), lambda rng, n: rng.integers(0, 2, n).astype(bool)),
    "i8": (pa.int8(), lambda rng, n: rng.integers(-128, 128, n)),
    "i16": (pa.int16(), lambda rng, n: rng.integers(-(2**15), 2**15, n)),
    "i32": (pa.int32(), lambda rng, n: rng.integers(-(2**31), 2**31, n)),
    "i64": (pa.int64(), lambda rng, n: rng.integers(-(2**63), 2**63 - 1, n)),
    "f32": (pa.float32(), lambda rng, n: rng.normal(0, 1e6, n).astype(np.float32)),
    "f64": (pa.float64(), lambda rng, n: rng.normal(0, 1e9, n)),
    "dec": (pa.decimal128(10, 2), lambda rng, n: _decimals(rng.integers(-(10**9), 10**9, n), 2)),
    "bigdec": (pa.decimal128(38, 6), lambda rng, n: [d * 997 for d in _decimals(rng.integers(0, 2**62, n), 6)]),
    "s": (pa.string(), lambda rng, n: ["ké" * int(k) for k in rng.integers(0, 12, n)]),
    "bin": (pa.binary(), lambda rng, n: [rng.bytes(int(k)) for k in rng.integers(0, 20, n)]),
    "d": (pa.date32(), lambda rng, n: rng.integers(-20000, 40000, n).astype("datetime64[D]")),
    "t": (pa.time32("ms"), lambda rng, n: rng.integers(0, 86_400_000, n).astype(np.int32)),
    "ts3": (pa.timestamp("ms"), lambda rng, n: rng.integers(-(10**12), 4 * 10**12, n).astype("datetime64[ms]")),
    "ts6": (pa.timestamp("us"), lambda rng, n: rng.integers(-(10**15), 4 * 10**15, n).astype("datetime64[us]")),
    "ltz": (pa.timestamp("us", tz="UTC"), lambda rng, n: rng.integers(0, 4 * 10**15, n).astype("datetime64[us]")),
}


def _pypaimon_buckets(table: pa.Table, keys: list[str], num_buckets: int) -> list[int]:
    options = {"bucket": str(num_buckets), "bucket-key": ",".join(keys)}
    schema = PyTableSchema.from_schema(0, PySchema.from_pyarrow_schema(table.schema, options=options))
    return FixedBucketRowKeyExtractor(schema)._extract_buckets_batch(table.to_batches()[0])


_PYPAIMON_KEYS = [[name] for name in _PYPAIMON_COLUMNS] + [["s", "i32"], ["i64", "ts6", "bigdec", "bin"]]


@pytest.mark.parametrize("keys", _PYPAIMON_KEYS)
def test_same_buckets_as_pypaimon(keys: list[str]) -> None:
    rng = np.random.default_rng(abs(hash(tuple(keys))) % 2**32)
    n = 300
    table = pa.table({k: pa.array(_PYPAIMON_COLUMNS[k][1](rng, n), _PYPAIMON_COLUMNS[k][0]) for k in keys})
    types = [from_arrow_type(f.type) for f in table.schema]
    for num_buckets in (1, 3, 16):
        ours = bucket_ids(table, keys, types, num_buckets).tolist()
        assert ours == _pypaimon_buckets(table, keys, num_buckets)


def test_same_buckets_as_pypaimon_with_nulls() -> None:
    keys = ["i32", "s", "dec"]
    table = pa.table(
        {
            "i32": pa.array([1, None, 3, None], pa.int32()),
            "s": pa.array([None, "x", "a longer string", None]),
            "dec": pa.array([None, decimal.Decimal("1.25"), None, None], pa.decimal128(10, 2)),
        }
    )
    types = [from_arrow_type(f.type) for f in table.schema]
    assert bucket_ids(table, keys, types, 7).tolist() == _pypaimon_buckets(table, keys, 7)
