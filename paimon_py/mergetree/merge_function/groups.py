"""Runs of equal keys in a key-sorted table, and the column helpers the merge engines share."""

from __future__ import annotations

from functools import cached_property
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paimon_py.io.key_value import VALUE_KIND

INSERT, UPDATE_BEFORE, UPDATE_AFTER, DELETE = 0, 1, 2, 3


def _key_changes(column: pa.ChunkedArray) -> np.ndarray:
    """``changed[i]``: row ``i+1`` has a different key value than row ``i``.

    Floats compare as Java's ``Double.compare`` (all NaNs equal, -0.0 != 0.0), so by bits."""
    n = len(column)
    typ = column.type
    if pa.types.is_floating(typ) or pa.types.is_integer(typ) or pa.types.is_temporal(typ) \
            or pa.types.is_boolean(typ):
        values = column.to_numpy()
        if pa.types.is_floating(typ):
            nan = np.isnan(values)
            bits = values.view(np.int64 if values.dtype.itemsize == 8 else np.int32)
            return (bits[1:] != bits[:-1]) & ~(nan[1:] & nan[:-1])
        if values.dtype.kind in "mM":
            values = values.view(np.int64)
        return values[1:] != values[:-1]
    changed = pc.not_equal(column.slice(1), column.slice(0, n - 1))
    return changed.to_numpy(zero_copy_only=False).astype(bool)


class Groups:
    """Runs of equal keys in a key-sorted table, as numpy index arrays."""

    def __init__(self, table: pa.Table, key_names: Sequence[str]):
        n = self.n = table.num_rows
        starts = np.zeros(n, dtype=bool)
        if n:
            starts[0] = True
            for name in key_names:
                starts[1:] |= _key_changes(table.column(name))
        self.first = np.flatnonzero(starts)                      # first row of each group
        self.count = len(self.first)
        self.last = np.empty(self.count, dtype=np.int64)          # last row of each group
        if self.count:
            self.last[:-1] = self.first[1:] - 1
            self.last[-1] = n - 1
        self.size = self.last - self.first + 1
        self.starts = starts

    @cached_property
    def gid(self) -> np.ndarray:
        """The group of each row."""
        return np.cumsum(self.starts) - 1

    @cached_property
    def index(self) -> np.ndarray:
        """Row numbers."""
        return np.arange(self.n)

    def last_where(self, mask: np.ndarray) -> np.ndarray:
        """Per group, the last row index where ``mask`` holds, else -1."""
        if not self.count:
            return np.empty(0, dtype=np.int64)
        return np.maximum.reduceat(np.where(mask, self.index, -1), self.first)

    def first_where(self, mask: np.ndarray) -> np.ndarray:
        """Per group, the first row index where ``mask`` holds, else ``n``."""
        if not self.count:
            return np.empty(0, dtype=np.int64)
        return np.minimum.reduceat(np.where(mask, self.index, self.n), self.first)

    def any(self, mask: np.ndarray) -> np.ndarray:
        if not self.count:
            return np.zeros(0, dtype=bool)
        return np.logical_or.reduceat(mask, self.first)

    def per_row(self, per_group: np.ndarray) -> np.ndarray:
        return per_group[self.gid]


def valid_mask(column: pa.ChunkedArray) -> np.ndarray:
    if column.null_count == 0:
        return np.ones(len(column), dtype=bool)
    return pc.is_valid(column).to_numpy(zero_copy_only=False).astype(bool)


def take_rows(column: pa.ChunkedArray, rows: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """``column[rows]``, null where ``missing``."""
    if missing is not None and missing.any():
        indices = pa.array(np.where(missing, 0, rows), mask=missing)
    else:
        indices = pa.array(rows)
    result = column.take(indices)
    return result.combine_chunks() if isinstance(result, pa.ChunkedArray) else result


def value_kinds(table: pa.Table) -> np.ndarray:
    return table.column(VALUE_KIND).to_numpy().astype(np.int8, copy=False)


def assemble(table: pa.Table, base_rows: np.ndarray, replaced: dict[str, pa.Array]) -> pa.Table:
    """``table`` taken at ``base_rows``, with some columns replaced (cast to the schema's types)."""
    indices = pa.array(base_rows)
    arrays = []
    for field in table.schema:
        if field.name in replaced:
            array = replaced[field.name]
            if array.type != field.type:
                array = array.cast(field.type)
            arrays.append(array)
        else:
            arrays.append(table.column(field.name).take(indices))
    return pa.Table.from_arrays(arrays, schema=table.schema)
