"""``MergeFunction``, the base of the merge engines, and ``RowState``, the row masks that
partial-update and aggregation share."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from paimon_py.mergetree.merge_function.groups import (DELETE, INSERT, UPDATE_AFTER, Groups,
                                                       value_kinds)
from paimon_py.mergetree.record_order import RecordOrder, drop_retractions
from paimon_py.schema.table_schema import TableSchema


class MergeFunction:
    """Folds the records of each key (one instance per table schema; stateless between calls)."""

    engine = ""

    def __init__(self, schema: TableSchema):
        self.schema = schema
        self.key_names = list(schema.trimmed_primary_keys)
        self.core_options = schema.core_options
        self.ignore_delete = self.core_options.ignore_delete

    def merge(self, table: pa.Table) -> pa.Table:
        if self.ignore_delete:
            table = drop_retractions(table)
        if table.num_rows == 0:
            return table
        return self._merge(table, Groups(table, self.key_names))

    def merge_unordered(self, table: pa.Table, record_order: RecordOrder) -> pa.Table:
        """:meth:`merge` of records in any order (sorted by ``record_order`` first)."""
        return self.merge(record_order.sort(table))

    def _merge(self, table: pa.Table, groups: Groups) -> pa.Table:
        raise NotImplementedError


class RowState:
    """Row masks shared by partial-update and aggregation."""

    def __init__(self, table: pa.Table, groups: Groups, remove_on_delete: bool):
        kinds = self.kinds = value_kinds(table)
        self.insert = (kinds == INSERT) | (kinds == UPDATE_AFTER)
        delete = kinds == DELETE
        self.reset = delete if remove_on_delete else np.zeros(len(kinds), dtype=bool)
        self.retract = ~self.insert & ~self.reset          # retractions that are not row resets
        self.multi = groups.size >= 2
        # A reset (-D with remove-record-on-delete) replaces the row: only the last reset of a
        # group and what follows matter ("the segment").
        last_reset = groups.last_where(self.reset) if self.reset.any() else None
        if last_reset is not None and (last_reset >= 0).any():
            self.has_reset = last_reset >= 0
            self.segment_start = np.where(self.has_reset, last_reset, groups.first)
            self.in_segment = groups.index >= groups.per_row(self.segment_start)
        else:
            self.has_reset = np.zeros(groups.count, dtype=bool)
            self.segment_start = groups.first
            self.in_segment = None

    def seg(self, mask: np.ndarray) -> np.ndarray:
        return mask if self.in_segment is None else mask & self.in_segment
