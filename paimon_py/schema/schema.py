"""``Schema``: what a user asks for when creating a table (columns, keys, options)."""

from __future__ import annotations

import dataclasses
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

    def __post_init__(self) -> None:
        """Primary-key columns are NOT NULL, as in Paimon's ``Schema``."""
        self.fields = [dataclasses.replace(f, type=f.type.copy(False)) if f.name in self.primary_keys else f
                       for f in self.fields]

    @staticmethod
    def from_pyarrow_schema(pa_schema: pa.Schema, partition_keys: list[str] | None = None,
                            primary_keys: list[str] | None = None,
                            options: dict | None = None, comment: str | None = None) -> "Schema":
        """A Schema from Arrow fields; field ids are assigned as Paimon does."""
        row_type = row_type_from_arrow_schema(pa_schema)
        return Schema(list(row_type.fields), list(partition_keys or []), list(primary_keys or []),
                      {str(k): str(v) for k, v in (options or {}).items()}, comment)
