"""Row filters: ``Predicate`` (pypaimon's shape), its builder, exact Arrow evaluation and
statistics-based pruning."""

from paimon_py.predicate.predicate import ColumnStats, Predicate
from paimon_py.predicate.predicate_builder import PredicateBuilder

__all__ = ["ColumnStats", "Predicate", "PredicateBuilder"]
