"""``TargetMapping``: a source table's columns, typed for Paimon, and the lake table they go to;
it makes the table's ``SchemaEvent`` and turns Arrow columns into a ``ChangeBatch``.

Every source builds one per source table (PostgreSQL from its catalog and pgoutput relations,
MySQL from information_schema and TABLE_MAP events) and converts its values into the Arrow type
of each column's Paimon type first; computed and metadata columns are added here. The Arrow
schema that travels in schema events carries each column's Paimon type in the field metadata
(``PAIMON_TYPE``), so VARCHAR(n) and CHAR(n) survive the trip to the operator that creates or
evolves the table.
"""

from __future__ import annotations

import decimal
import json
from dataclasses import dataclass
from typing import Sequence

import pyarrow as pa

from operators.cdc.change_batch import ROW_KIND_FIELD, ChangeBatch
from operators.cdc.computed_columns import ExtraColumn, RowOrigin, computed_column, metadata_column
from operators.cdc.schema_event import SchemaEvent
from operators.cdc.table_spec import PAIMON_TYPE, TableSpec
from paimon_py.types import DataType, to_arrow_type


@dataclass
class TargetMapping:
    target: str
    """``database.table`` in the lake."""
    names: tuple[str, ...]
    """The source columns, in the source's order."""
    data_types: list[DataType]
    """The Paimon type of each source column."""
    spec: TableSpec
    origin: tuple[str, str, str] = ("", "", "")
    """(database, schema, table) of the source, for metadata columns."""
    extras: tuple[ExtraColumn, ...] = ()

    @staticmethod
    def of(target: str, names: Sequence[str], data_types: Sequence[DataType], spec: TableSpec,
           origin: tuple[str, str, str] = ("", "", ""), computed: Sequence[str] = (),
           metadata: Sequence[str] = ()) -> "TargetMapping":
        """``computed``/``metadata``: ``--computed_column`` / ``--metadata_column`` specs."""
        source_types = dict(zip(names, data_types))
        extras = tuple([computed_column(c, source_types) for c in computed]
                       + [metadata_column(m) for m in metadata])
        return TargetMapping(target, tuple(names), list(data_types), spec, origin, extras)

    def schema_event(self) -> SchemaEvent:
        return SchemaEvent(self.target, self.arrow_schema(), self.spec)

    def arrow_schema(self) -> pa.Schema:
        named = list(zip(self.names, self.data_types)) + [(e.name, e.data_type) for e in self.extras]
        return pa.schema([pa.field(name, to_arrow_type(t), t.nullable,
                                   metadata={PAIMON_TYPE: json.dumps(t.to_json())})
                          for name, t in named])

    def batch(self, arrays: list[pa.Array], kinds: pa.Array, op_ts_ms: pa.Array) -> ChangeBatch:
        """``arrays``: one per source column, already in its Paimon type's Arrow type; ``kinds``:
        ``RowKind`` values (int8); ``op_ts_ms``: each row's commit time (for ``op_ts``).

        A NULL in a NOT NULL column (a delete that knows only the key) gets a neutral value (0, '',
        false, epoch), which no read of a primary-key table ever returns."""
        arrays = [fill_neutral(a) if not t.nullable and a.null_count else a
                  for a, t in zip(arrays, self.data_types)]
        if self.extras:
            rows = pa.Table.from_arrays(arrays, names=list(self.names))
            origin = RowOrigin(*self.origin, op_ts_ms=op_ts_ms)
            arrays = arrays + [e.compute(rows, origin) for e in self.extras]
        # all nullable: a delete by key leaves the other columns empty
        schema = pa.schema([f.with_nullable(True) for f in self.arrow_schema()] + [ROW_KIND_FIELD])
        return ChangeBatch.of(self.target, pa.Table.from_arrays([*arrays, kinds], schema=schema))


def fill_neutral(array: pa.Array) -> pa.Array:
    """``array`` with its NULLs replaced by the type's neutral value (0, '', b'', false, [], epoch)."""
    t = array.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        value = ""
    elif pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        value = b"\0" * t.byte_width if pa.types.is_fixed_size_binary(t) else b""
    elif pa.types.is_boolean(t):
        value = False
    elif pa.types.is_list(t) or pa.types.is_large_list(t):
        value = []
    elif pa.types.is_decimal(t):
        value = decimal.Decimal(0)
    else:
        zero = pa.array([0], getattr(pa, f"int{t.bit_width}")()).view(t)[0]  # 0, epoch, midnight
        return array.fill_null(zero)
    return array.fill_null(pa.scalar(value, t))
