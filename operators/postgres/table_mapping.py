"""``TableMapping``: one PostgreSQL table's columns -> the Paimon table it is written to, and rows
of PostgreSQL text values -> a ``ChangeBatch`` of that table (the source-neutral part is
``operators/cdc/target_mapping.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pyarrow as pa

from operators.cdc.change_batch import ROW_KIND_FIELD, ChangeBatch
from operators.cdc.table_spec import TableSpec
from operators.cdc.target_mapping import TargetMapping
from operators.cdc.targets import Targets
from operators.postgres import types as pgtypes
from operators.postgres.binary_copy import CopyColumns
from operators.postgres.replication import SourceColumn, SourceTable
from paimon_py.data.row_kind import all_inserts


@dataclass
class TableMapping(TargetMapping):
    columns: tuple[SourceColumn, ...] = ()
    pg_types: tuple = ()
    copy_columns: CopyColumns = CopyColumns(())
    """How a snapshot reads the columns (``SnapshotReader``)."""

    @staticmethod
    def of(target: str, columns: Sequence[SourceColumn], registry, spec: TableSpec, to_string: bool,
           origin: tuple[str, str, str] = ("", "", ""), computed: Sequence[str] = (),
           metadata: Sequence[str] = (), source_keys: Sequence[str] = ()) -> "TableMapping":
        """``computed``/``metadata``: ``--computed_column`` / ``--metadata_column`` specs;
        ``source_keys``: the source table's primary key (what its snapshot is read in order of)."""
        keys = set(spec.primary_keys)
        pg_types = tuple(registry.get(c.type_oid) for c in columns)
        data_types = [pgtypes.paimon_type(pg_type, c.type_modifier, c.nullable and c.name not in keys,
                                          to_string=to_string, column=c.name)
                      for c, pg_type in zip(columns, pg_types)]
        base = TargetMapping.of(target, [c.name for c in columns], data_types, spec, origin, computed, metadata)
        copy_columns = CopyColumns.of([c.name for c in columns], pg_types, [c.type_modifier for c in columns],
                                      data_types, source_keys)
        return TableMapping(base.target, base.names, base.data_types, base.spec, base.origin, base.extras,
                            tuple(columns), pg_types, copy_columns)

    def batch_from_text(self, columns: Sequence[pgtypes.TextColumn], kinds: Sequence[int],
                        op_ts_ms: Sequence[int] = ()) -> ChangeBatch:
        """``columns[i]``: the text values of column i (None or null = NULL), one per row, as
        Python values or an Arrow string array; ``kinds``: the ``RowKind`` value of each row.

        A delete by key (REPLICA IDENTITY DEFAULT) knows only the key columns: use REPLICA
        IDENTITY FULL where complete ``-D``/``-U`` rows matter (the ``input`` changelog producer,
        partial-update and aggregation engines)."""
        arrays = [pgtypes.text_column_to_arrow(values, pg_type, column.type_modifier, data_type)
                  for values, pg_type, column, data_type
                  in zip(columns, self.pg_types, self.columns, self.data_types)]
        return self.batch(arrays, pa.array(kinds, ROW_KIND_FIELD.type), pa.array(op_ts_ms, pa.int64()))

    def batch_from_snapshot(self, table: pa.Table) -> ChangeBatch:
        """A snapshot chunk (one column per source column, in order; a string column holds text
        values, any other is already in its Paimon type's Arrow type): inserts."""
        arrays = [pgtypes.text_column_to_arrow(rows, pg_type, column.type_modifier, data_type)
                  if rows.type == pa.string() else _one_chunk(rows)
                  for rows, pg_type, column, data_type
                  in zip(table.columns, self.pg_types, self.columns, self.data_types)]
        return self.batch(arrays, all_inserts(table.num_rows), pa.array(np.zeros(table.num_rows, np.int64)))


def _one_chunk(array: pa.ChunkedArray) -> pa.Array:
    return array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()


def table_mapping(targets: Targets, table: SourceTable, registry, database: str) -> TableMapping:
    """The mapping of ``table`` to its target (``registry``: the server's ``TypeRegistry``)."""
    return TableMapping.of(targets.name_of(table.schema, table.name), table.columns, registry,
                           targets.spec_of(table.schema, table.name, table.primary_keys), targets.to_string,
                           (database, table.schema, table.name), targets.computed, targets.metadata,
                           table.primary_keys)
