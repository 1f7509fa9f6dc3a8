"""``SchemaWait``: the sink's operators wait, bounded, for the table a batch needs.

Schema events travel on their own path (the parser's side output, applied by the schema
evolution operator), so a batch can reach the router before its new table exists, or a writer
before its table has the batch's columns or wider types. Both then reload the table until it
fits, as Paimon's CDC writers do (``cdc.schema-change-retry-interval`` between tries, at most
``cdc.schema-change-retry-max-num`` tries), and fail with a message naming the table and the
columns when it never does. A batch is never written with a schema older than its data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import pyarrow as pa

from operators.cdc.table_spec import paimon_type_of
from paimon_py.catalog import FileSystemCatalog
from paimon_py.exceptions import TableNotFound
from paimon_py.schema.schema_change import is_widening


class SchemaNeverArrived(TimeoutError):
    """The table (or the columns) a batch needs did not appear in time."""


@dataclass
class SchemaWait:
    catalog: FileSystemCatalog
    interval_s: float = 0.5
    """``cdc.schema-change-retry-interval``."""
    max_retries: int = 100
    """``cdc.schema-change-retry-max-num``."""

    def table(self, name: str, schema: Optional[pa.Schema] = None):
        """The table ``name`` once it exists and (with ``schema``) holds every column of it."""
        missing: list[str] = []
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.interval_s)
            try:
                table = self.catalog.get_table(name)
            except TableNotFound:
                missing = ["(the table itself)"]
                continue
            missing = unfit_columns(schema, table.schema) if schema is not None else []
            if not missing:
                return table
        raise SchemaNeverArrived(
            f"table {name} still lacks {', '.join(missing)} of the incoming data after {self.max_retries} "
            f"retries — check the schema evolution operator's log, or raise cdc.schema-change-retry-max-num")


def unfit_columns(schema: pa.Schema, table_schema) -> list[str]:
    """Columns of ``schema`` the table lacks, or holds in a narrower type (as ``name TYPE``)."""
    names = set(table_schema.field_names)
    out = []
    for column in schema:
        wanted = paimon_type_of(column)
        if column.name not in names or not is_widening(wanted, table_schema.field(column.name).type):
            out.append(f"column {column.name} {wanted}")
    return out
