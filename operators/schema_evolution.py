"""``SchemaEvolutionLogic``: applies a source table's new shape to its Paimon table, as Paimon
CDC does (``UpdatedDataFieldsProcessFunctionBase``):

* a new column is added (nullable); a column the source dropped stays (it reads as NULL);
* a type that widens (INT to BIGINT, FLOAT to DOUBLE, longer VARCHAR, wider DECIMAL, higher
  timestamp precision) is changed; NOT NULL to nullable is relaxed;
* a type that narrows is ignored (the table keeps the wider type and still holds the values);
* anything else (e.g. STRING to INT, nullable to NOT NULL) fails with a message naming the
  table, the column and the option to change, unless ``ignore_incompatible`` is set;
* a table that does not exist yet is created when the event carries a ``TableSpec`` (a source
  table that appeared while the job runs).

A field's Paimon type is taken from its ``paimon.type`` metadata (JSON) when present, else
derived from the Arrow type.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Optional

import pyarrow as pa

from paimon_py.catalog import FileSystemCatalog
from paimon_py.schema.schema import Schema
from paimon_py.schema.schema_change import SchemaChange, is_widening
from paimon_py.types import DataField, DataType, from_arrow_type, parse_data_type, row_type_from_arrow_schema

LOG = logging.getLogger(__name__)

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


class IncompatibleSchemaChange(ValueError):
    """A source column changed in a way the Paimon table cannot follow."""


class SchemaEvolutionLogic:
    def __init__(self, catalog: FileSystemCatalog, ignore_incompatible: bool = False):
        self.catalog = catalog
        self.ignore_incompatible = ignore_incompatible

    def apply(self, table_name: str, source_schema: pa.Schema,
              spec: Optional[TableSpec] = None) -> list[SchemaChange]:
        """Evolve ``table_name`` towards ``source_schema`` (create it from ``spec`` if it does not
        exist); returns the changes applied."""
        if spec is not None and not self.catalog.table_exists(table_name):
            database = table_name.split(".")[0]
            self.catalog.create_database(database, ignore_if_exists=True)
            self.catalog.create_table(table_name, schema_for(source_schema, spec), ignore_if_exists=True)
            LOG.info("Created table %s.", table_name)
        table = self.catalog.get_table(table_name)
        changes = []
        for field in source_schema:
            new_type = paimon_type_of(field)
            if field.name not in table.schema.field_names:
                changes.append(SchemaChange.add_column(field.name, new_type))
                continue
            old_type = table.schema.field(field.name).type
            changes += self._type_change(table_name, field.name, old_type, new_type)
        if changes:
            self.catalog.alter_table(table_name, changes)
        return changes

    def _type_change(self, table_name: str, column: str, old, new) -> list[SchemaChange]:
        if old.copy(nullable=True) == new.copy(nullable=True):
            return [SchemaChange.drop_not_null(column)] if new.nullable and not old.nullable else []
        if is_widening(old, new):
            return [SchemaChange.update_column_type(column, new)]
        if is_widening(new, old):
            LOG.info("Ignoring narrowing of %s.%s from %s to %s.", table_name, column, old, new)
            return []
        message = (f"Table {table_name}: column '{column}' changed from {old} to {new}, which the "
                   f"Paimon table cannot follow. Start the job with --ignore_incompatible to skip "
                   f"such changes (the column keeps its type), or recreate the table.")
        if self.ignore_incompatible:
            LOG.warning("%s Ignored.", message)
            return []
        raise IncompatibleSchemaChange(message)
