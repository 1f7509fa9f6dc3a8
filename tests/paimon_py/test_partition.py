"""Tests of paimon_py.partition: escaping, value strings, paths, grouping, and pypaimon's dirs."""

from __future__ import annotations

import datetime as dt
import decimal
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypaimon.catalog.catalog_factory import CatalogFactory
from pypaimon.schema.schema import Schema as PySchema

from paimon_py.partition import (
    PartitionComputer,
    escape_path_name,
    is_null_or_whitespace_only,
    java_float_string,
    partition_of_rows,
    partition_value_string,
)
from paimon_py.types import (
    BigIntType,
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntType,
    LocalZonedTimestampType,
    TimestampType,
    TimeType,
    TinyIntType,
    VarBinaryType,
    VarCharType,
    from_arrow_type,
)


_T12 = dt.datetime(2024, 1, 1, 12)
_BEFORE_EPOCH = dt.datetime(1969, 12, 31, 23, 59, 59, 999000)
_D = "2024-01-01 "


def test_escape_path_name() -> None:
    assert escape_path_name("a b/c=d:e") == "a b%2Fc%3Dd%3Ae"
    assert escape_path_name("\x00\x1f\x7f") == "%00%1F%7F"
    assert escape_path_name("\"#%'*?\\{}[]^") == "%22%23%25%27%2A%3F%5C%7B%7D%5B%5D%5E"
    assert escape_path_name("été 東京 ~!@$&()+,;<>|`") == "été 東京 ~!@$&()+,;<>|`"


def test_java_whitespace() -> None:
    assert is_null_or_whitespace_only(None)
    assert is_null_or_whitespace_only("")
    assert is_null_or_whitespace_only(" \t\n\x1c\u3000")
    assert not is_null_or_whitespace_only("\xa0")
    assert not is_null_or_whitespace_only(" x ")


@pytest.mark.parametrize(
    ("value", "single", "expected"),
    [
        (1.0, False, "1.0"),
        (-0.0, False, "-0.0"),
        (100.0, False, "100.0"),
        (1234567.0, False, "1234567.0"),
        (1e7, False, "1.0E7"),
        (0.001, False, "0.001"),
        (0.0001, False, "1.0E-4"),
        (0.1 + 0.2, False, "0.30000000000000004"),
        (1.7976931348623157e308, False, "1.7976931348623157E308"),
        (5e-324, False, "4.9E-324"),
        (-12345.678, False, "-12345.678"),
        (float("nan"), False, "NaN"),
        (float("-inf"), False, "-Infinity"),
        (float(np.float32(1.1)), True, "1.1"),
        (float(np.float32(0.1)), True, "0.1"),
        (float(np.float32(123456789)), True, "1.2345679E8"),  # JDK <= 18 printed 1.23456792E8
        (float(np.float32(3.4028235e38)), True, "3.4028235E38"),
        (float(np.float32(1.4e-45)), True, "1.4E-45"),
    ],
)
def test_java_float_string(value: float, single: bool, expected: str) -> None:
    assert java_float_string(value, single) == expected


@pytest.mark.parametrize(
    ("value", "t", "legacy", "cast"),
    [
        (True, BooleanType(), "true", "true"),
        (-5, TinyIntType(), "-5", "-5"),
        (2**40, BigIntType(), "1099511627776", "1099511627776"),
        (1.5, DoubleType(), "1.5", "1.5"),
        (float(np.float32(0.1)), FloatType(), "0.1", "0.1"),
        (decimal.Decimal("5"), DecimalType(10, 2), "5.00", "5.00"),
        (decimal.Decimal("1E-8"), DecimalType(20, 10), "0.0000000100", "0.0000000100"),
        ("a/b", VarCharType(), "a/b", "a/b"),
        (b"xy", VarBinaryType(), "xy", "xy"),
        (dt.date(2024, 1, 1), DateType(), "19723", "2024-01-01"),
        (dt.date(1969, 12, 31), DateType(), "-1", "1969-12-31"),
        (dt.time(12, 0, 0, 101000), TimeType(2), "43200101", "12:00:00.10"),
        (dt.time(12, 0), TimeType(3), "43200000", "12:00:00.0"),
        (dt.time(12, 0, 1), TimeType(0), "43201000", "12:00:01"),
        (_T12, TimestampType(6), "2024-01-01T12:00", "2024-01-01 12:00:00.000000"),
        (_T12, TimestampType(3), "2024-01-01T12:00", "2024-01-01 12:00:00.000"),
        (dt.datetime(2024, 1, 1, 0, 0, 1), TimestampType(0), "2024-01-01T00:00:01", "2024-01-01 00:00:01"),
        (_T12.replace(second=1, microsecond=250000), TimestampType(0), "2024-01-01T12:00:01.250", _D + "12:00:01.25"),
        (_T12.replace(microsecond=500000), TimestampType(6), "2024-01-01T12:00:00.500", "2024-01-01 12:00:00.500000"),
        (_T12.replace(microsecond=123456), TimestampType(6), "2024-01-01T12:00:00.123456", _D + "12:00:00.123456"),
        (
            pd.Timestamp("2024-01-01 12:00:00.000000001"),
            TimestampType(9),
            "2024-01-01T12:00:00.000000001",
            "2024-01-01 12:00:00.000000001",
        ),
        (_BEFORE_EPOCH, TimestampType(3), "1969-12-31T23:59:59.999", "1969-12-31 23:59:59.999"),
        (
            dt.datetime(2024, 1, 1, 14, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            LocalZonedTimestampType(6),
            "2024-01-01T12:00",
            "2024-01-01 12:00:00.000000",
        ),
    ],
)
def test_partition_value_string(value: Any, t: DataType, legacy: str, cast: str) -> None:
    assert partition_value_string(value, t) == legacy
    assert partition_value_string(value, t, legacy=False) == cast


def test_partition_computer_path() -> None:
    computer = PartitionComputer(["dt", "hr", "name"], [DateType(), IntType(), VarCharType()])
    assert computer.path((dt.date(2024, 1, 1), 5, "a=b")) == "dt=19723/hr=5/name=a%3Db"
    assert computer.path((None, 0, "  ")) == "dt=__DEFAULT_PARTITION__/hr=0/name=__DEFAULT_PARTITION__"
    default = "__DEFAULT_PARTITION__"
    assert computer.path((None, None, "")) == f"dt={default}/hr={default}/name={default}"
    custom = PartitionComputer(["k:1"], [DateType()], default_name="null", legacy_name=False)
    assert custom.path((dt.date(2024, 1, 1),)) == "k%3A1=2024-01-01"
    assert custom.path((None,)) == "k%3A1=null"
    assert PartitionComputer([], []).path(()) == ""
    with pytest.raises(ValueError):
        computer.path((1,))


def test_timestamp_partition_is_escaped() -> None:
    computer = PartitionComputer(["ts"], [TimestampType(3)])
    assert computer.path((dt.datetime(2024, 1, 1, 12, 30),)) == "ts=2024-01-01T12%3A30"


# ---------------------------------------------------------------------------------------------
# partition_of_rows
# ---------------------------------------------------------------------------------------------


def _groups(table: pa.Table, keys: list[str]) -> list[tuple[tuple[Any, ...], list[int]]]:
    """(partition, rows) in the order of the partitions' ids."""
    ids, partitions = partition_of_rows(table, keys)
    assert ids.dtype == np.int64 and len(ids) == table.num_rows
    return [(p, np.flatnonzero(ids == i).tolist()) for i, p in enumerate(partitions)]


def test_partition_of_rows_basic() -> None:
    table = pa.table({"p": [1, 2, None, 1, None], "q": ["a", "a", "a", "b", "a"], "v": [0, 1, 2, 3, 4]})
    assert _groups(table, ["p", "q"]) == [
        ((1, "a"), [0]),
        ((2, "a"), [1]),
        ((None, "a"), [2, 4]),
        ((1, "b"), [3]),
    ]


def test_partition_of_rows_trivial_cases() -> None:
    table = pa.table({"p": [7, 7], "v": [1, 2]})
    assert _groups(table, ["p"]) == [((7,), [0, 1])]
    assert _groups(table, []) == [((), [0, 1])]
    assert _groups(table.slice(0, 0), ["p"]) == []
    assert _groups(table.slice(0, 0), []) == []


def test_partition_of_rows_value_types() -> None:
    table = pa.table(
        {
            "d": pa.array([dt.date(2024, 1, 1)] * 2 + [None], pa.date32()),
            "ts": pa.array([dt.datetime(2024, 1, 1, 12)] * 3, pa.timestamp("us")),
            "dec": pa.array([decimal.Decimal("1.50")] * 3, pa.decimal128(5, 2)),
            "b": pa.array([True, True, False]),
            "s": pa.chunked_array([pa.array(["x"]).dictionary_encode(), pa.array(["x", "y"]).dictionary_encode()]),
        }
    )
    assert partition_of_rows(table, table.column_names)[1] == [
        (dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, 12), decimal.Decimal("1.50"), True, "x"),
        (None, dt.datetime(2024, 1, 1, 12), decimal.Decimal("1.50"), False, "y"),
    ]


@given(st.lists(st.tuples(st.sampled_from([None, 0, 1, 2]), st.sampled_from([None, "a", "b"])), min_size=1))
def test_partition_of_rows_matches_python_grouping(rows: list[tuple[Any, Any]]) -> None:
    table = pa.table(
        {"p": pa.array([r[0] for r in rows], pa.int32()), "q": pa.array([r[1] for r in rows]), "i": range(len(rows))}
    )
    expected: dict[tuple[Any, Any], list[int]] = {}
    for i, row in enumerate(rows):
        expected.setdefault(row, []).append(i)
    assert _groups(table, ["p", "q"]) == list(expected.items())


# ---------------------------------------------------------------------------------------------
# Against pypaimon: the directories it writes are the ones we compute
# ---------------------------------------------------------------------------------------------


def _pypaimon_partition_dirs(warehouse: Path, data: pa.Table, keys: list[str], options: dict[str, str]) -> set[str]:
    catalog = CatalogFactory.create({"warehouse": str(warehouse)})
    catalog.create_database("db", True)
    schema = PySchema.from_pyarrow_schema(data.schema, partition_keys=keys, options=options)
    catalog.create_table("db.t", schema, False)
    table = catalog.get_table("db.t")
    builder = table.new_batch_write_builder()
    write = builder.new_write()
    write.write_arrow(data)
    commit = builder.new_commit()
    commit.commit(write.prepare_commit())
    write.close()
    commit.close()
    root = warehouse / "db.db" / "t"
    dirs = set()
    for path, _, files in os.walk(root):
        relative = Path(path).relative_to(root)
        if any(f.startswith("data-") for f in files) and relative.name.startswith("bucket-"):
            dirs.add(str(relative.parent))
    return dirs


_PARTITIONED = pa.table(
    {
        "d": pa.array([dt.date(2024, 1, 1), dt.date(1969, 12, 31), None, dt.date(2024, 1, 1)], pa.date32()),
        "n": pa.array([5, -1, 7, None], pa.int32()),
        "s": pa.array(["a/b=c:d", "x y#%?", " ", None]),
        "ts": pa.array([_T12, _T12.replace(second=1, microsecond=500000), None, None], pa.timestamp("us")),
        "v": pa.array([1, 2, 3, 4], pa.int64()),
    }
)


@pytest.mark.parametrize("legacy", [True, False])
def test_partition_dirs_match_pypaimon(tmp_path: Path, legacy: bool) -> None:
    keys = ["d", "n", "s", "ts"]
    options = {"bucket": "-1", "partition.legacy-name": str(legacy).lower()}
    theirs = _pypaimon_partition_dirs(tmp_path, _PARTITIONED, keys, options)
    types = [from_arrow_type(_PARTITIONED.schema.field(k).type) for k in keys]
    computer = PartitionComputer(keys, types, legacy_name=legacy)
    ours = {computer.path(values) for values in partition_of_rows(_PARTITIONED, keys)[1]}
    assert ours == theirs
    if legacy:
        assert "d=19723/n=5/s=a%2Fb%3Dc%3Ad/ts=2024-01-01T12%3A00" in ours
