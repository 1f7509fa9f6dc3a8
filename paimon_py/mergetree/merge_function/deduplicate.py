"""``deduplicate`` (Java's ``DeduplicateMergeFunction``): the last record, whatever its kind."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from paimon_py.mergetree.merge_function.base import MergeFunction
from paimon_py.mergetree.merge_function.groups import Groups
from paimon_py.mergetree.record_order import RecordOrder


class DeduplicateMergeFunction(MergeFunction):
    """The latest record wins, whatever its kind."""

    engine = "deduplicate"

    def merge_unordered(self, table: pa.Table, record_order: RecordOrder) -> pa.Table:
        """Finds each key's last record from the keys alone and copies only those rows: one
        ``take`` of the rows kept instead of a sort of every row and a filter."""
        if self.ignore_delete:
            return super().merge_unordered(table, record_order)
        rows = record_order.order(table)
        if rows is None:
            return self.merge(table)
        rows = np.asarray(rows)
        keys = table.select(self.key_names).take(pa.array(rows))
        return table.take(pa.array(rows[Groups(keys, self.key_names).last]))

    def _merge(self, table: pa.Table, groups: Groups) -> pa.Table:
        if groups.count == table.num_rows:
            return table
        return table.filter(pa.array(np.append(groups.starts[1:], True)))
