"""``SchemaEvent``: a source table's (new) shape, sent before the first change that needs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pyarrow as pa

from operators.cdc.table_spec import TableSpec


@dataclass(frozen=True)
class SchemaEvent:
    table: str
    """Target table, ``database.table``."""
    schema: pa.Schema
    """The source table's columns as Arrow fields, Paimon types in their metadata."""
    spec: Optional[TableSpec] = None
    """How to create the table if it does not exist yet (None: it must exist)."""
