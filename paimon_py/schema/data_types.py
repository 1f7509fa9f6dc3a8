"""pypaimon's ``pypaimon.schema.data_types`` names over paimon_py's types (:mod:`paimon_py.types`),
so that code written for pypaimon imports them from ``paimon_py.schema.data_types``."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from paimon_py.types import (ArrayType, AtomicType, DataField, DataType, MapType, MultisetType, RowType,
                             VectorType, from_arrow_type, parse_data_type, row_type_from_arrow_schema,
                             to_arrow_field, to_arrow_type)

__all__ = ["ArrayType", "AtomicType", "DataField", "DataType", "DataTypeParser", "MapType", "MultisetType",
           "PyarrowFieldParser", "RowType", "VectorType"]


class DataTypeParser:
    """Types and fields from their JSON form."""

    @staticmethod
    def parse_data_type(json_value: str | dict[str, Any]) -> DataType:
        return parse_data_type(json_value)

    @staticmethod
    def parse_data_field(json_value: dict[str, Any]) -> DataField:
        return DataField.from_json(json_value)


class PyarrowFieldParser:
    """Paimon types, fields and schemas to and from pyarrow."""

    @staticmethod
    def from_paimon_type(data_type: DataType) -> pa.DataType:
        return to_arrow_type(data_type)

    @staticmethod
    def from_paimon_field(data_field: DataField) -> pa.Field:
        return to_arrow_field(data_field)

    @staticmethod
    def from_paimon_schema(data_fields: list[DataField]) -> pa.Schema:
        return pa.schema([to_arrow_field(f) for f in data_fields])

    @staticmethod
    def to_paimon_type(pa_type: pa.DataType, nullable: bool) -> DataType:
        return from_arrow_type(pa_type, nullable)

    @staticmethod
    def to_paimon_field(field_idx: int, pa_field: pa.Field) -> DataField:
        return DataField(field_idx, pa_field.name, from_arrow_type(pa_field.type, pa_field.nullable))

    @staticmethod
    def to_paimon_schema(pa_schema: pa.Schema) -> list[DataField]:
        """Fields with ids assigned as pypaimon and Java assign them."""
        return list(row_type_from_arrow_schema(pa_schema).fields)
