"""``SchemaChange``: the evolutions ``SchemaManager.commit_changes`` applies to a table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pyarrow as pa

from paimon_py.exceptions import SchemaChangeError
from paimon_py.types import (BigIntType, BinaryType, CharType, DataType, DecimalType, DoubleType,
                             FloatType, IntType, LocalZonedTimestampType, SmallIntType, TimeType,
                             TimestampType, TinyIntType, VarBinaryType, VarCharType,
                             from_arrow_type)


@dataclass(frozen=True)
class SchemaChange:
    """One change. Build them with the static constructors."""

    action: str
    name: str
    data_type: DataType | None = None
    new_name: str | None = None
    comment: str | None = None
    value: str | None = None

    @staticmethod
    def add_column(name: str, data_type: DataType | pa.DataType, comment: str | None = None) -> "SchemaChange":
        """Append a nullable column; files written before read it as NULL."""
        return SchemaChange("add_column", name, _as_paimon_type(data_type).copy(nullable=True),
                            comment=comment)

    @staticmethod
    def rename_column(name: str, new_name: str) -> "SchemaChange":
        """Rename keeps the field id, so old files still map to the column."""
        return SchemaChange("rename_column", name, new_name=new_name)

    @staticmethod
    def update_column_type(name: str, data_type: DataType | pa.DataType) -> "SchemaChange":
        """Widen a column's type (e.g. INT to BIGINT); narrowing is refused."""
        return SchemaChange("update_column_type", name, _as_paimon_type(data_type))

    @staticmethod
    def drop_column(name: str | Sequence[str]) -> "SchemaChange":
        """Drop a column (not a key column); its values in older files are no longer read. A
        column added later under the same name is a new column. ``[name]`` is pypaimon's form."""
        return SchemaChange("drop_column", name if isinstance(name, str) else _top_level(name))

    @staticmethod
    def drop_not_null(name: str) -> "SchemaChange":
        """Make a NOT NULL column nullable (primary-key columns excepted)."""
        return SchemaChange("drop_not_null", name)

    @staticmethod
    def set_option(key: str, value: str) -> "SchemaChange":
        return SchemaChange("set_option", key, value=str(value))

    @staticmethod
    def remove_option(key: str) -> "SchemaChange":
        return SchemaChange("remove_option", key)


def _top_level(path: Sequence[str]) -> str:
    if len(path) != 1:
        raise SchemaChangeError(f"Cannot drop nested field {'.'.join(path)}: only top-level columns.")
    return path[0]


def _as_paimon_type(data_type: DataType | pa.DataType) -> DataType:
    return from_arrow_type(data_type) if isinstance(data_type, pa.DataType) else data_type


_INTEGER_RANK = {TinyIntType: 1, SmallIntType: 2, IntType: 3, BigIntType: 4}
_STRING_TYPES = (CharType, VarCharType)
_BINARY_TYPES = (BinaryType, VarBinaryType)


def is_widening(old: DataType, new: DataType) -> bool:
    """Whether every value of ``old`` converts to ``new`` without loss (nullability aside)."""
    old, new = old.copy(nullable=True), new.copy(nullable=True)
    if old == new:
        return True
    if type(old) in _INTEGER_RANK and type(new) in _INTEGER_RANK:
        return _INTEGER_RANK[type(new)] >= _INTEGER_RANK[type(old)]
    if type(old) in _INTEGER_RANK and isinstance(new, DoubleType):
        return _INTEGER_RANK[type(old)] <= 3
    if isinstance(old, FloatType) and isinstance(new, DoubleType):
        return True
    if isinstance(old, DecimalType) and isinstance(new, DecimalType):
        return new.scale >= old.scale and new.precision - new.scale >= old.precision - old.scale
    if isinstance(old, _STRING_TYPES) and isinstance(new, VarCharType):
        return new.length >= old.length
    if isinstance(old, _BINARY_TYPES) and isinstance(new, VarBinaryType):
        return new.length >= old.length
    if isinstance(old, (TimestampType, LocalZonedTimestampType, TimeType)) and type(old) is type(new):
        return new.precision >= old.precision
    return False
