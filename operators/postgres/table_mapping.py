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

import numpy as np
import pyarrow as pa

from operators.cdc.change_batch import ROW_KIND_FIELD, ChangeBatch
from operators.cdc.computed_columns import ExtraColumn, RowOrigin, computed_column, metadata_column
from operators.postgres import types as pgtypes
from operators.postgres.replication import SourceColumn, SourceTable
from operators.cdc.schema_event import SchemaEvent
from operators.cdc.table_spec import PAIMON_TYPE, TableSpec
from operators.cdc.targets import Targets
from paimon_py.data.row_kind import all_inserts
from paimon_py.types import DataType, to_arrow_type


@dataclass
class TableMapping:
    target: str
    """``database.table`` in the lake."""
    columns: tuple[SourceColumn, ...]
    pg_types: list
    data_types: list[DataType]
    spec: TableSpec
    origin: tuple[str, str, str] = ("", "", "")
    """(database, schema, table) of the source, for metadata columns."""
    extras: tuple[ExtraColumn, ...] = ()

    @staticmethod
    def of(target: str, columns: Sequence[SourceColumn], registry, spec: TableSpec, to_string: bool,
           origin: tuple[str, str, str] = ("", "", ""), computed: Sequence[str] = (),
           metadata: Sequence[str] = ()) -> "TableMapping":
        """``computed``/``metadata``: ``--computed_column`` / ``--metadata_column`` specs."""
        pg_types, data_types = [], []
        keys = set(spec.primary_keys)
        for column in columns:
            pg_type = registry.get(column.type_oid)
            nullable = column.nullable and column.name not in keys
            data_types.append(pgtypes.paimon_type(pg_type, column.type_modifier, nullable,
                                                  to_string=to_string, column=column.name))
            pg_types.append(pg_type)
        source_types = {c.name: t for c, t in zip(columns, data_types)}
        extras = tuple([computed_column(c, source_types) for c in computed]
                       + [metadata_column(m) for m in metadata])
        return TableMapping(target, tuple(columns), pg_types, data_types, spec, origin, extras)

    def schema_event(self) -> SchemaEvent:
        return SchemaEvent(self.target, self.arrow_schema(), self.spec)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def arrow_schema(self) -> pa.Schema:
        named = [(c.name, t) for c, t in zip(self.columns, self.data_types)]
        named += [(e.name, e.data_type) for e in self.extras]
        return pa.schema([pa.field(name, to_arrow_type(t), t.nullable,
                                   metadata={PAIMON_TYPE: json.dumps(t.to_json())})
                          for name, t in named])

    def batch(self, columns: Sequence[Sequence[Optional[str]]], kinds: Sequence[int],
              op_ts_ms: Sequence[int] = ()) -> ChangeBatch:
        """``columns[i]``: the text values of column i (None = NULL), one per row; ``kinds``: the
        ``RowKind`` value of each row.

        A delete by key (REPLICA IDENTITY DEFAULT) knows only the key columns: its NOT NULL
        columns get a neutral value (0, '', false, epoch), which no read of a primary-key table
        ever returns; use REPLICA IDENTITY FULL where complete ``-D``/``-U`` rows matter (the
        ``input`` changelog producer, partial-update and aggregation engines)."""
        arrays = [pgtypes.text_column_to_arrow(values, pg_type, column.type_modifier, data_type)
                  for values, pg_type, column, data_type
                  in zip(columns, self.pg_types, self.columns, self.data_types)]
        arrays = [_neutral_nulls(a) if not t.nullable and a.null_count else a
                  for a, t in zip(arrays, self.data_types)]
        return self.batch_from_arrays(arrays, pa.array(kinds, ROW_KIND_FIELD.type), pa.array(op_ts_ms, pa.int64()))

    def batch_from_strings(self, table: pa.Table) -> ChangeBatch:
        """A snapshot chunk read as strings (one column per source column, in order): inserts."""
        arrays = [pgtypes.text_column_to_arrow(table.column(i), pg_type, column.type_modifier, data_type)
                  for i, (pg_type, column, data_type)
                  in enumerate(zip(self.pg_types, self.columns, self.data_types))]
        return self.batch_from_arrays(arrays, all_inserts(table.num_rows),
                                      pa.array(np.zeros(table.num_rows, np.int64)))

    def batch_from_arrays(self, arrays: list, kinds: pa.Array, op_ts_ms: pa.Array) -> ChangeBatch:
        """``op_ts_ms``: commit time of each row's transaction (for the ``op_ts`` column)."""
        if self.extras:
            rows = pa.Table.from_arrays(arrays, names=self.names)
            origin = RowOrigin(*self.origin, op_ts_ms=op_ts_ms)
            arrays = arrays + [e.compute(rows, origin) for e in self.extras]
        # all nullable: a delete by key leaves the other columns empty
        schema = pa.schema([f.with_nullable(True) for f in self.arrow_schema()]
                           + [ROW_KIND_FIELD])
        return ChangeBatch.of(self.target, pa.Table.from_arrays([*arrays, kinds], schema=schema))


def table_mapping(targets: Targets, table: SourceTable, registry, database: str) -> TableMapping:
    """The mapping of ``table`` to its target (``registry``: the server's ``TypeRegistry``)."""
    return TableMapping.of(targets.name_of(table.schema, table.name), table.columns, registry,
                           targets.spec_of(table.schema, table.name, table.primary_keys), targets.to_string,
                           (database, table.schema, table.name), targets.computed, targets.metadata)


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
