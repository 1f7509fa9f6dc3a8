"""``Schema``: what a user asks for when creating a table (columns, keys, options)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from paimon_py.types import DataField, row_type_from_arrow_schema


@dataclass
class Schema:
    fields: list[DataField]
    partition_keys: list[str] = field(default_factory=list)
    primary_keys: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    comment: str | None = None

    @staticmethod
    def from_pyarrow_schema(pa_schema: pa.Schema, partition_keys: list[str] | None = None,
                            primary_keys: list[str] | None = None,
                            options: dict | None = None, comment: str | None = None) -> "Schema":
        """A Schema from Arrow fields; field ids are assigned as Paimon does."""
        row_type = row_type_from_arrow_schema(pa_schema)
        return Schema(list(row_type.fields), list(partition_keys or []), list(primary_keys or []),
                      {str(k): str(v) for k, v in (options or {}).items()}, comment)
