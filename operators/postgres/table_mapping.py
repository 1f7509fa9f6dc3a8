"""``TableMapping``: one source table's columns -> the Paimon table it is written to, and rows of
PostgreSQL text values -> a ``ChangeBatch`` of that table.

The Arrow schema that travels in schema events carries each column's Paimon type in the field
metadata (``schema_evolution.PAIMON_TYPE``), so VARCHAR(n) and CHAR(n) survive the trip to the
schema evolution operator, which creates or evolves the table from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional, Sequence

import pyarrow as pa

from operators.change_batch import ROW_KIND, ChangeBatch
from operators.postgres import types as pgtypes
from operators.postgres.replication import SourceColumn
from operators.schema_evolution import PAIMON_TYPE, TableSpec
from paimon_py.types import DataType, to_arrow_type


@dataclass
class TableMapping:
    target: str
    """``database.table`` in the lake."""
    columns: tuple[SourceColumn, ...]
    pg_types: list
    data_types: list[DataType]
    spec: TableSpec

    @staticmethod
    def of(target: str, columns: Sequence[SourceColumn], registry, spec: TableSpec,
           to_string: bool) -> "TableMapping":
        pg_types, data_types = [], []
        keys = set(spec.primary_keys)
        for column in columns:
            pg_type = registry.get(column.type_oid)
            nullable = column.nullable and column.name not in keys
            data_types.append(pgtypes.paimon_type(pg_type, column.type_modifier, nullable,
                                                  to_string=to_string, column=column.name))
            pg_types.append(pg_type)
        return TableMapping(target, tuple(columns), pg_types, data_types, spec)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, to_arrow_type(t), t.nullable,
                                   metadata={PAIMON_TYPE: json.dumps(t.to_json())})
                          for c, t in zip(self.columns, self.data_types)])

    def batch(self, columns: Sequence[Sequence[Optional[str]]], kinds: Sequence[str]) -> ChangeBatch:
        """``columns[i]``: the text values of column i (None = NULL), one per row.

        A delete by key (REPLICA IDENTITY DEFAULT) knows only the key columns: its NOT NULL
        columns get a neutral value (0, '', false, epoch), which no read of a primary-key table
        ever returns; use REPLICA IDENTITY FULL where complete ``-D``/``-U`` rows matter (the
        ``input`` changelog producer, partial-update and aggregation engines)."""
        arrays = [pgtypes.text_column_to_arrow(list(values), pg_type, column.type_modifier, data_type)
                  for values, pg_type, column, data_type
                  in zip(columns, self.pg_types, self.columns, self.data_types)]
        arrays = [_neutral_nulls(a) if not t.nullable and a.null_count else a
                  for a, t in zip(arrays, self.data_types)]
        return self.batch_from_arrays(arrays, pa.array(kinds, pa.string()))

    def batch_from_strings(self, table: pa.Table, kind: str) -> ChangeBatch:
        """A snapshot chunk read as strings (one column per source column, in order)."""
        arrays = [pgtypes.text_column_to_arrow(table.column(i), pg_type, column.type_modifier, data_type)
                  for i, (pg_type, column, data_type)
                  in enumerate(zip(self.pg_types, self.columns, self.data_types))]
        return self.batch_from_arrays(arrays, pa.array([kind] * table.num_rows, pa.string()))

    def batch_from_arrays(self, arrays: list, kinds: pa.Array) -> ChangeBatch:
        # all nullable: a delete by key leaves the other columns empty
        schema = pa.schema([f.with_nullable(True) for f in self.arrow_schema()]
                           + [pa.field(ROW_KIND, pa.string(), False)])
        return ChangeBatch.of(self.target, pa.Table.from_arrays([*arrays, kinds], schema=schema))


def _neutral_nulls(array: pa.Array) -> pa.Array:
    t = array.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        value = ""
    elif pa.types.is_binary(t) or pa.types.is_large_binary(t):
        value = b""
    elif pa.types.is_boolean(t):
        value = False
    elif pa.types.is_list(t) or pa.types.is_large_list(t):
        value = []
    elif pa.types.is_decimal(t):
        import decimal
        value = decimal.Decimal(0)
    else:
        zero = pa.array([0], getattr(pa, f"int{t.bit_width}")()).view(t)[0]  # 0, epoch, midnight
        return array.fill_null(zero)
    return array.fill_null(pa.scalar(value, t))
