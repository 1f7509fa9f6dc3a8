"""``MySqlTableMapping``: one MySQL table's columns -> the Paimon table it is written to, and
canonical Arrow columns (``operators/mysql/canonical.py``) -> a ``ChangeBatch`` of that table.

``reconcile`` keeps a column's type as information_schema described it (which alone knows a
TINYINT's display width) as long as a TABLE_MAP shows the same column with the same shape, so
the rows of a table read at start and the rows of its binlog events map to the same Paimon type.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import pyarrow as pa

from operators.cdc.change_batch import ChangeBatch
from operators.cdc.target_mapping import TargetMapping
from operators.cdc.targets import Targets
from operators.mysql.canonical import TEXT_FORM_BYTES, text_form
from operators.mysql.source_config import TypeMapping
from operators.mysql.source_table import MySqlTable, MySqlType
from operators.mysql.types import paimon_type, to_paimon_arrow


@dataclass
class MySqlTableMapping:
    table: MySqlTable
    target: TargetMapping
    zone: str
    """server-time-zone: TIMESTAMP instants become wall-clock times there (as in Paimon CDC)."""

    @staticmethod
    def of(table: MySqlTable, targets: Targets, type_mapping: TypeMapping, zone: str) -> "MySqlTableMapping":
        spec = targets.spec_of(table.database, table.name, table.primary_keys)
        data_types = [paimon_type(c, type_mapping, c.name in spec.primary_keys) for c in table.columns]
        target = TargetMapping.of(targets.name_of(table.database, table.name), [c.name for c in table.columns],
                                  data_types, spec, (table.database, table.database, table.name),
                                  targets.computed, targets.metadata)
        return MySqlTableMapping(table, target, zone)

    @property
    def name(self) -> str:
        return self.target.target

    @property
    def keyed(self) -> bool:
        return bool(self.target.spec.primary_keys)

    def batch(self, columns: Sequence[pa.Array], kinds: pa.Array, op_ts_ms: pa.Array) -> ChangeBatch:
        """``columns``: canonical arrays, one per column of ``table``."""
        arrays = [to_paimon_arrow(_canonical(array, column.type), column.type, data_type, self.zone, column.name)
                  for array, column, data_type in zip(columns, self.table.columns, self.target.data_types)]
        return self.target.batch(arrays, kinds, op_ts_ms)


def _canonical(array: pa.Array, t: MySqlType) -> pa.Array:
    """The binlog's bytes of a UUID/INET6/INET4 column (known from information_schema) as its text."""
    return text_form(array, t.name) if t.name in TEXT_FORM_BYTES and pa.types.is_binary(array.type) else array


def reconcile(known: MySqlTable, logged: MySqlTable) -> MySqlTable:
    """``logged`` (from a TABLE_MAP) with each column that ``known`` has in the same shape taking
    ``known``'s type (information_schema's, with display widths) and nullability."""
    by_name = {c.name: c for c in known.columns}
    columns = []
    for column in logged.columns:
        old = by_name.get(column.name)
        columns.append(old if old is not None and same_shape(old.type, column.type) else column)
    return replace(logged, columns=tuple(columns), primary_keys=logged.primary_keys or known.primary_keys)


def same_shape(a: MySqlType, b: MySqlType) -> bool:
    """The same type as far as a TABLE_MAP can tell (integer display widths and the spelling of
    JSON aside)."""
    if a.name in TEXT_FORM_BYTES:  # the binlog shows these as BINARY(n)
        return b.name == a.name or (b.name == "binary" and b.length == TEXT_FORM_BYTES[a.name])
    if _base(a.name) != _base(b.name):
        return False
    sized = a.name not in ("tinyint", "smallint", "mediumint", "int", "bigint", "year")
    return (a.unsigned, a.precision, a.scale, a.fsp, a.elements) == (b.unsigned, b.precision, b.scale, b.fsp,
                                                                     b.elements) \
        and (not sized or a.length == b.length)


def _base(name: str) -> str:
    return {"json": "longtext", "integer": "int", "numeric": "decimal", "real": "double"}.get(name, name)
