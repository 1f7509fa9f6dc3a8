"""``SchemaEvolutionLogic``: applies a source table's new shape to its Paimon table, as Paimon
CDC does (``UpdatedDataFieldsProcessFunctionBase``):

* a new column is added (nullable); a column the source dropped stays (it reads as NULL);
* a type that widens (INT to BIGINT, FLOAT to DOUBLE, longer VARCHAR, wider DECIMAL, higher
  timestamp precision) is changed; NOT NULL to nullable is relaxed;
* a type that narrows is ignored (the table keeps the wider type and still holds the values);
* anything else (e.g. STRING to INT, nullable to NOT NULL) fails with a message naming the
  table, the column and the option to change, unless ``ignore_incompatible`` is set.
"""

from __future__ import annotations

import logging

import pyarrow as pa

from paimon_py.catalog import FileSystemCatalog
from paimon_py.schema.schema_change import SchemaChange, is_widening
from paimon_py.types import from_arrow_type

LOG = logging.getLogger(__name__)


class IncompatibleSchemaChange(ValueError):
    """A source column changed in a way the Paimon table cannot follow."""


class SchemaEvolutionLogic:
    def __init__(self, catalog: FileSystemCatalog, ignore_incompatible: bool = False):
        self.catalog = catalog
        self.ignore_incompatible = ignore_incompatible

    def apply(self, table_name: str, source_schema: pa.Schema) -> list[SchemaChange]:
        """Evolve ``table_name`` towards ``source_schema``; returns the changes applied."""
        table = self.catalog.get_table(table_name)
        changes = []
        for field in source_schema:
            new_type = from_arrow_type(field.type, field.nullable)
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
