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

import logging
from typing import Optional

import pyarrow as pa

from operators.cdc.errors import UserError
from operators.cdc.table_spec import TableSpec, paimon_type_of, schema_for
from paimon_py.catalog import FileSystemCatalog
from paimon_py.schema.schema_change import SchemaChange, is_widening
from paimon_py.schema.schema_manager import apply_changes, validate_new_schema, validate_table_schema

LOG = logging.getLogger(__name__)


class IncompatibleSchemaChange(UserError, ValueError):
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
        changes = self._changes(table_name, source_schema)
        if changes:
            self.catalog.alter_table(table_name, changes)
        return changes

    def check(self, table_name: str, source_schema: pa.Schema, spec: Optional[TableSpec] = None) -> None:
        """What ``apply`` would refuse, refused without creating or changing anything."""
        if self.catalog.table_exists(table_name):
            validate_table_schema(apply_changes(self.catalog.get_table(table_name).schema,
                                                self._changes(table_name, source_schema)))
        elif spec is not None:
            validate_new_schema(schema_for(source_schema, spec))

    def _changes(self, table_name: str, source_schema: pa.Schema) -> list[SchemaChange]:
        table = self.catalog.get_table(table_name)
        changes = []
        for field in source_schema:
            new_type = paimon_type_of(field)
            if field.name not in table.schema.field_names:
                changes.append(SchemaChange.add_column(field.name, new_type))
                continue
            old_type = table.schema.field(field.name).type
            changes += self._type_change(table_name, field.name, old_type, new_type)
        return changes

    def _type_change(self, table_name: str, column: str, old, new) -> list[SchemaChange]:
        if old.copy(nullable=True) == new.copy(nullable=True):
            return [SchemaChange.drop_not_null(column)] if new.nullable and not old.nullable else []
        if is_widening(old, new):
            return [SchemaChange.update_column_type(column, new)]
        if is_widening(new, old):
            LOG.info("Ignoring narrowing of %s.%s from %s to %s.", table_name, column, old, new)
            return []
        message = (f"table {table_name}: column '{column}' changed from {old} to {new}, which the "
                   f"Paimon table cannot follow — start the job with --ignore_incompatible to skip "
                   f"such changes (the column keeps its type), or recreate the table")
        if self.ignore_incompatible:
            LOG.warning("%s. Ignored.", message)
            return []
        raise IncompatibleSchemaChange(message)
