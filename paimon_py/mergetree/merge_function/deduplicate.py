"""``deduplicate`` (Java's ``DeduplicateMergeFunction``): the last record, whatever its kind."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from paimon_py.mergetree.merge_function.base import MergeFunction
from paimon_py.mergetree.merge_function.groups import Groups


class DeduplicateMergeFunction(MergeFunction):
    """The latest record wins, whatever its kind."""

    engine = "deduplicate"

    def _merge(self, table: pa.Table, groups: Groups) -> pa.Table:
        if groups.count == table.num_rows:
            return table
        return table.filter(pa.array(np.append(groups.starts[1:], True)))
