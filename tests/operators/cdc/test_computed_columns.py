"""Computed and metadata columns (``operators/cdc/computed_columns.py``) on Arrow batches."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest

from operators.cdc.computed_columns import (InvalidColumnSpec, RowOrigin, computed_column, metadata_column)
from paimon_py.types import BigIntType, IntType, TimestampType, VarCharType

TYPES = {"ts": TimestampType(6), "id": BigIntType(), "name": VarCharType()}
ROWS = pa.table({
    "ts": pa.array([datetime.datetime(2024, 3, 9, 17, 5, 6, 123000), None], pa.timestamp("us")),
    "id": pa.array([1234, None], pa.int64()),
    "name": pa.array(["  Hello ", None]),
})
ORIGIN = RowOrigin("shop", "public", "orders", pa.array([1700000000123, 0], pa.int64()))


@pytest.mark.parametrize("spec, expected", [
    ("y=year(ts)", [2024, None]), ("m=month(ts)", [3, None]), ("d=day(ts)", [9, None]),
    ("h=hour(ts)", [17, None]), ("mi=minute(ts)", [5, None]), ("s=second(ts)", [6, None]),
    ("f=date_format(ts, 'yyyy-MM-dd HH')", ["2024-03-09 17", None]),
    ("sub=substring(name, 2, 5)", ["Hel", None]), ("t=truncate(id, 100)", [1200, None]),
    ("ts8=truncate(name, 4)", ["  He", None]), ("u=upper(name)", ["  HELLO ", None]),
    ("tr=trim(name)", ["Hello", None]),
])
def test_computed_columns(spec, expected):
    column = computed_column(spec, TYPES)
    assert column.compute(ROWS, ORIGIN).to_pylist() == expected
    assert column.name == spec.split("=")[0]


def test_computed_column_types():
    assert computed_column("y=year(ts)", TYPES).data_type == IntType()
    assert computed_column("t=truncate(id, 10)", TYPES).data_type == BigIntType()
    assert computed_column("f=date_format(ts, 'yyyy')", TYPES).data_type == VarCharType()


def test_metadata_columns():
    assert metadata_column("table_name").compute(ROWS, ORIGIN).to_pylist() == ["orders", "orders"]
    assert metadata_column("schema_name").compute(ROWS, ORIGIN).to_pylist() == ["public", "public"]
    assert metadata_column("database_name").compute(ROWS, ORIGIN).to_pylist() == ["shop", "shop"]
    op_ts = metadata_column("op_ts").compute(ROWS, ORIGIN).to_pylist()
    assert op_ts[0] == datetime.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=datetime.timezone.utc)
    assert op_ts[1].timestamp() == 0


@pytest.mark.parametrize("spec, message", [
    ("nope", "write name=function"), ("x=year(missing)", "is not a source column"),
    ("x=frobnicate(ts)", "unknown function frobnicate"), ("x=year(name)", "use a DATE or TIMESTAMP column"),
])
def test_bad_specs(spec, message):
    with pytest.raises(InvalidColumnSpec, match=message):
        computed_column(spec, TYPES)


def test_unknown_metadata_column():
    with pytest.raises(InvalidColumnSpec, match="use one of table_name, database_name, schema_name, op_ts"):
        metadata_column("commit_lsn")
