"""``SimpleStats``: min/max/null-count statistics of a set of columns (format §4.4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from paimon_py.data.binary_row import BinaryRow
from paimon_py.types import DataType

EMPTY_ROW = BinaryRow.serialize((), ())


@dataclass(frozen=True)
class SimpleStats:
    """Serialized BinaryRows of minimums and maximums plus per-column null counts."""

    min_values: bytes
    max_values: bytes
    null_counts: list[int | None]

    @staticmethod
    def of(mins: Sequence[Any], maxs: Sequence[Any], null_counts: Sequence[int | None],
           types: Sequence[DataType]) -> "SimpleStats":
        stats_types = [t.copy(nullable=True) for t in types]
        return SimpleStats(BinaryRow.serialize(mins, stats_types),
                           BinaryRow.serialize(maxs, stats_types), list(null_counts))

    def min_row(self, types: Sequence[DataType]) -> tuple:
        return BinaryRow.deserialize(self.min_values, types)

    def max_row(self, types: Sequence[DataType]) -> tuple:
        return BinaryRow.deserialize(self.max_values, types)

    def to_avro(self) -> dict:
        return {"_MIN_VALUES": self.min_values, "_MAX_VALUES": self.max_values,
                "_NULL_COUNTS": list(self.null_counts)}

    @staticmethod
    def from_avro(record: dict) -> "SimpleStats":
        return SimpleStats(record["_MIN_VALUES"], record["_MAX_VALUES"],
                           list(record["_NULL_COUNTS"] or []))


EMPTY_STATS = SimpleStats(EMPTY_ROW, EMPTY_ROW, [])


def stats_avro_schema(name: str) -> dict:
    return {"type": "record", "name": name, "fields": [
        {"name": "_MIN_VALUES", "type": "bytes"},
        {"name": "_MAX_VALUES", "type": "bytes"},
        {"name": "_NULL_COUNTS", "type": ["null", {"type": "array", "items": ["null", "long"]}],
         "default": None},
    ]}
