"""Ordering and filtering of key-value records, shared by writers, compaction and readers.

Records with equal keys are ordered by the ``sequence.field`` columns (if any), then by
``_SEQUENCE_NUMBER``; the merge engines (``mergetree/merge_function/``) fold them in that order.
"""

from __future__ import annotations

from typing import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from paimon_py.io.key_value import SEQUENCE_NUMBER, VALUE_KIND

ADD_KINDS = pa.array([0, 2], pa.int8())


def sort_by_key(table: pa.Table, key_names: Sequence[str], sequence_fields: Sequence[str]) -> pa.Table:
    order = [(name, "ascending") for name in [*key_names, *sequence_fields, SEQUENCE_NUMBER]]
    return table.take(pc.sort_indices(table, sort_keys=order))


def drop_retractions(table: pa.Table) -> pa.Table:
    """Rows whose kind is +I or +U (what a batch read returns after merging)."""
    kinds = table.column(VALUE_KIND)
    if pc.all(pc.is_in(kinds, ADD_KINDS)).as_py():
        return table
    return table.filter(pc.is_in(kinds, ADD_KINDS))
