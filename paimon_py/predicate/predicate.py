"""``Predicate``: a filter over table columns with SQL semantics (a NULL value matches nothing
but ``is_null``), as pypaimon's: ``method``, ``index``, ``field``, ``literals``.

Two evaluations: :meth:`Predicate.to_arrow` filters rows exactly, :meth:`Predicate.may_match`
tells from column statistics whether any row of a file (or partition) can match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc


class ColumnStats(NamedTuple):
    """Statistics of one column over ``row_count`` rows; ``None`` means unknown."""

    min: Any
    max: Any
    null_count: int | None


StatsLookup = Callable[[str], "ColumnStats | None"]
"""Statistics of a column by name; ``None`` when none are known (the column cannot prune)."""

COMPOUND = ("and", "or")


@dataclass(frozen=True)
class Predicate:
    method: str
    index: int | None
    field: str | None
    literals: list[Any] | None = None

    def fields(self) -> set[str]:
        """Names of the columns this predicate reads."""
        if self.method in COMPOUND:
            return set().union(*(p.fields() for p in self.literals))
        return {self.field}

    def to_arrow(self) -> pc.Expression:
        """The exact row filter as an Arrow expression (rows where it is NULL are dropped)."""
        if self.method == "and":
            return _fold([p.to_arrow() for p in self.literals], lambda a, b: a & b)
        if self.method == "or":
            return _fold([p.to_arrow() for p in self.literals], lambda a, b: a | b)
        return _ARROW[self.method](pc.field(self.field), self.literals or [])

    def may_match(self, stats: StatsLookup, row_count: int) -> bool:
        """False only when the statistics prove that no row matches."""
        if self.method == "and":
            return all(p.may_match(stats, row_count) for p in self.literals)
        if self.method == "or":
            return any(p.may_match(stats, row_count) for p in self.literals)
        column = stats(self.field)
        if column is None:
            return True
        try:
            return _may_match_leaf(self.method, self.literals or [], column, row_count)
        except TypeError:  # a literal that does not compare with the statistics' values
            return True


def _fold(expressions: list[pc.Expression], combine) -> pc.Expression:
    result = expressions[0]
    for expression in expressions[1:]:
        result = combine(result, expression)
    return result


def _as_string(field: pc.Expression) -> pc.Expression:
    return field.cast(pa.string())


def _is_in(field: pc.Expression, literals: list) -> pc.Expression:
    values = [v for v in literals if v is not None]
    if not values:
        return pc.scalar(False)
    return field.isin(values) & field.is_valid()


def _not_in(field: pc.Expression, literals: list) -> pc.Expression:
    if any(v is None for v in literals):
        return pc.scalar(False)  # SQL: x NOT IN (..., NULL) is never true
    return ~field.isin(literals) & field.is_valid()


_ARROW: dict[str, Callable[[pc.Expression, list], pc.Expression]] = {
    "equal": lambda f, v: f == v[0],
    "notEqual": lambda f, v: f != v[0],
    "lessThan": lambda f, v: f < v[0],
    "lessOrEqual": lambda f, v: f <= v[0],
    "greaterThan": lambda f, v: f > v[0],
    "greaterOrEqual": lambda f, v: f >= v[0],
    "in": _is_in,
    "notIn": _not_in,
    "isNull": lambda f, v: f.is_null(),
    "isNotNull": lambda f, v: f.is_valid(),
    "between": lambda f, v: (f >= v[0]) & (f <= v[1]),
    "startsWith": lambda f, v: pc.starts_with(_as_string(f), v[0]),
    "endsWith": lambda f, v: pc.ends_with(_as_string(f), v[0]),
    "contains": lambda f, v: pc.match_substring(_as_string(f), v[0]),
}


def _may_match_leaf(method: str, literals: list, column: ColumnStats, row_count: int) -> bool:
    nulls = column.null_count
    if method == "isNull":
        return nulls is None or nulls > 0
    if method == "isNotNull":
        return nulls is None or nulls < row_count
    if nulls is not None and nulls >= row_count:
        return False  # only NULLs, which match no comparison
    if any(v is None for v in literals) and method != "in":
        return False  # a comparison with NULL is never true
    if column.min is None or column.max is None:
        return True
    return _RANGE_TESTS[method](column.min, column.max, literals)


def _starts_with_range(low: Any, high: Any, prefix: str) -> bool:
    if not isinstance(low, str) or not isinstance(high, str):
        return True
    return high >= prefix and (low < prefix or low.startswith(prefix))


_RANGE_TESTS: dict[str, Callable[[Any, Any, list], bool]] = {
    "equal": lambda lo, hi, v: lo <= v[0] <= hi,
    "notEqual": lambda lo, hi, v: not lo == v[0] == hi,
    "lessThan": lambda lo, hi, v: lo < v[0],
    "lessOrEqual": lambda lo, hi, v: lo <= v[0],
    "greaterThan": lambda lo, hi, v: hi > v[0],
    "greaterOrEqual": lambda lo, hi, v: hi >= v[0],
    "in": lambda lo, hi, v: any(lo <= x <= hi for x in v if x is not None),
    "notIn": lambda lo, hi, v: not any(lo == x == hi for x in v),
    "between": lambda lo, hi, v: v[0] <= hi and v[1] >= lo,
    "startsWith": lambda lo, hi, v: _starts_with_range(lo, hi, v[0]),
    "endsWith": lambda lo, hi, v: True,
    "contains": lambda lo, hi, v: True,
}
