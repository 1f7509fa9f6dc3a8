"""``PredicateBuilder``: builds :class:`Predicate` s by column name, with pypaimon's method names."""

from __future__ import annotations

from typing import Any, Sequence

from paimon_py.exceptions import SchemaError
from paimon_py.predicate.predicate import Predicate


class PredicateBuilder:
    """Predicates over the columns ``field_names`` (``index`` is a column's position there)."""

    def __init__(self, field_names: Sequence[str]):
        self.field_names = list(field_names)

    def _leaf(self, method: str, field: str, literals: list[Any] | None = None) -> Predicate:
        if field not in self.field_names:
            raise SchemaError(f"The field {field} is not in field list {self.field_names}.")
        return Predicate(method, self.field_names.index(field), field, literals)

    def equal(self, field: str, literal: Any) -> Predicate:
        return self._leaf("equal", field, [literal])

    def not_equal(self, field: str, literal: Any) -> Predicate:
        return self._leaf("notEqual", field, [literal])

    def less_than(self, field: str, literal: Any) -> Predicate:
        return self._leaf("lessThan", field, [literal])

    def less_or_equal(self, field: str, literal: Any) -> Predicate:
        return self._leaf("lessOrEqual", field, [literal])

    def greater_than(self, field: str, literal: Any) -> Predicate:
        return self._leaf("greaterThan", field, [literal])

    def greater_or_equal(self, field: str, literal: Any) -> Predicate:
        return self._leaf("greaterOrEqual", field, [literal])

    def is_null(self, field: str) -> Predicate:
        return self._leaf("isNull", field)

    def is_not_null(self, field: str) -> Predicate:
        return self._leaf("isNotNull", field)

    def startswith(self, field: str, pattern_literal: str) -> Predicate:
        return self._leaf("startsWith", field, [pattern_literal])

    def endswith(self, field: str, pattern_literal: str) -> Predicate:
        return self._leaf("endsWith", field, [pattern_literal])

    def contains(self, field: str, pattern_literal: str) -> Predicate:
        return self._leaf("contains", field, [pattern_literal])

    def is_in(self, field: str, literals: Sequence[Any]) -> Predicate:
        return self._leaf("in", field, list(literals))

    def is_not_in(self, field: str, literals: Sequence[Any]) -> Predicate:
        return self._leaf("notIn", field, list(literals))

    def between(self, field: str, included_lower_bound: Any, included_upper_bound: Any) -> Predicate:
        return self._leaf("between", field, [included_lower_bound, included_upper_bound])

    @staticmethod
    def and_predicates(predicates: Sequence[Predicate]) -> Predicate | None:
        return _compound("and", predicates)

    @staticmethod
    def or_predicates(predicates: Sequence[Predicate]) -> Predicate | None:
        return _compound("or", predicates)


def _compound(method: str, predicates: Sequence[Predicate]) -> Predicate | None:
    """None for no predicate, the predicate itself for one, as pypaimon."""
    if not predicates:
        return None
    if len(predicates) == 1:
        return predicates[0]
    return Predicate(method, None, None, list(predicates))
