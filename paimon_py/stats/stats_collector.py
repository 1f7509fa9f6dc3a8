"""Column statistics of a data file (``_KEY_STATS``, ``_VALUE_STATS``), gathered batch by batch.

Key columns get exact min/max. Value columns follow Paimon's default ``truncate(16)`` mode:
strings are cut to 16 characters for the minimum (a prefix is never larger), and a maximum that
would need cutting is recorded as unknown (NULL), which readers treat as "cannot prune". Types
whose order pyarrow and Paimon might not agree on (binary, floating point with NaN, nested
types) get unknown min/max as well; null counts are always exact.
"""

from __future__ import annotations

from typing import Any, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from paimon_py.stats.simple_stats import SimpleStats
from paimon_py.types import (ArrayType, BinaryType, CharType, DataType, DoubleType, FloatType,
                             MapType, MultisetType, RowType, VarBinaryType, VarCharType)

TRUNCATE_LENGTH = 16
_UNORDERED = (ArrayType, MapType, MultisetType, RowType, BinaryType, VarBinaryType)


class _ColumnStats:
    def __init__(self, data_type: DataType, truncate: bool):
        self.data_type = data_type
        self.truncate = truncate and isinstance(data_type, (CharType, VarCharType))
        self.min: Any = None
        self.max: Any = None
        self.min_unknown = self.max_unknown = isinstance(data_type, _UNORDERED)
        self.null_count = 0

    def update(self, column: pa.ChunkedArray) -> None:
        self.null_count += column.null_count
        if (self.min_unknown and self.max_unknown) or column.null_count == len(column):
            return
        if isinstance(self.data_type, (FloatType, DoubleType)) and pc.any(pc.is_nan(column)).as_py():
            self.min_unknown = self.max_unknown = True
            return
        result = pc.min_max(column)
        low, high = result["min"].as_py(), result["max"].as_py()
        if self.truncate:
            low = low[:TRUNCATE_LENGTH]
            if len(high) > TRUNCATE_LENGTH:
                self.max_unknown = True
        self.min = low if self.min is None else min(self.min, low)
        self.max = high if self.max is None else max(self.max, high)

    def values(self) -> tuple[Any, Any]:
        return (None if self.min_unknown else self.min, None if self.max_unknown else self.max)


class StatsCollector:
    """Accumulates the statistics of some columns over the batches of one file."""

    def __init__(self, names: Sequence[str], types: Sequence[DataType], truncate: bool):
        self.names = list(names)
        self.types = list(types)
        self.columns = [_ColumnStats(t, truncate) for t in types]

    def update(self, table: pa.Table) -> None:
        for name, stats in zip(self.names, self.columns):
            stats.update(table.column(name))

    def result(self) -> SimpleStats:
        values = [c.values() for c in self.columns]
        return SimpleStats.of([v[0] for v in values], [v[1] for v in values],
                              [c.null_count for c in self.columns], self.types)
