"""``TableSpec`` and new-table schemas: how a CDC job creates a lake table for a source table.

The Arrow schema of a source table carries each column's Paimon type in its field metadata
(``PAIMON_TYPE``, JSON), so types such as VARCHAR(n) and CHAR(n) survive the trip from the source
to the operator that creates or evolves the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyarrow as pa

from paimon_py.schema.schema import Schema
from paimon_py.types import DataField, DataType, from_arrow_type, parse_data_type, row_type_from_arrow_schema

PAIMON_TYPE = b"paimon.type"


@dataclass(frozen=True)
class TableSpec:
    """How a target table is created when it does not exist yet."""

    primary_keys: tuple[str, ...] = ()
    partition_keys: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)


def paimon_type_of(f: pa.Field) -> DataType:
    meta = f.metadata or {}
    if PAIMON_TYPE in meta:
        return parse_data_type(json.loads(meta[PAIMON_TYPE])).copy(nullable=f.nullable)
    return from_arrow_type(f.type, f.nullable)


def schema_for(source_schema: pa.Schema, spec: TableSpec) -> Schema:
    """A Paimon schema from an Arrow schema (ids as Paimon assigns them) and a ``TableSpec``.
    Types with ROW fields keep the Arrow-derived form (it carries the nested field ids)."""
    fields = []
    for data_field, arrow_field in zip(row_type_from_arrow_schema(source_schema).fields, source_schema):
        typed = paimon_type_of(arrow_field)
        keep_ids = _contains_struct(arrow_field.type)
        fields.append(DataField(data_field.id, data_field.name, data_field.type if keep_ids else typed))
    return Schema(fields, list(spec.partition_keys), list(spec.primary_keys), dict(spec.options))


def _contains_struct(t: pa.DataType) -> bool:
    """Whether a type has ROW fields (whose ids only the Arrow-derived form carries)."""
    if pa.types.is_struct(t):
        return True
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _contains_struct(t.value_type)
    if pa.types.is_map(t):
        return _contains_struct(t.key_type) or _contains_struct(t.item_type)
    return False
