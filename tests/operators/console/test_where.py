"""``--where``: the filter language parsed into paimon_py predicates (never evaluated as Python)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from operators.console.lake import CommandError
from operators.console.where import negate, parse_where
from paimon_py.predicate.predicate import Predicate

COLUMNS = {"k": pa.int64(), "name": pa.string(), "day": pa.date32(), "amount": pa.decimal128(10, 2),
           "ok": pa.bool_(), "at": pa.timestamp("us"), "and_or": pa.int32()}


def leaf(method, field, *literals):
    return Predicate(method, list(COLUMNS).index(field), field, list(literals) if literals else None)


@pytest.mark.parametrize("text, expected", [
    ("k = 1", leaf("equal", "k", 1)),
    ("k != 1", leaf("notEqual", "k", 1)),
    ("k <> 1", leaf("notEqual", "k", 1)),
    ("k<1", leaf("lessThan", "k", 1)),
    ("k <= -1", leaf("lessOrEqual", "k", -1)),
    ("k > 1", leaf("greaterThan", "k", 1)),
    ("k >= 1", leaf("greaterOrEqual", "k", 1)),
    ("name is null", leaf("isNull", "name")),
    ("name IS NOT NULL", leaf("isNotNull", "name")),
    ("name IN ('a', 'it''s')", leaf("in", "name", "a", "it's")),
    ("name NOT IN ('a')", leaf("notIn", "name", "a")),
    ("day BETWEEN '2026-11-20' AND '2026-11-21'",
     leaf("between", "day", datetime.date(2026, 11, 20), datetime.date(2026, 11, 21))),
    ("amount >= 10.5", leaf("greaterOrEqual", "amount", Decimal("10.50"))),
    ("amount = 3", leaf("equal", "amount", Decimal("3.00"))),
    ("ok = TRUE", leaf("equal", "ok", True)),
    ("at < '2026-11-20 10:30:00'", leaf("lessThan", "at", datetime.datetime(2026, 11, 20, 10, 30))),
    ('"and_or" = 1', leaf("equal", "and_or", 1)),
    ("`k` = '7'", leaf("equal", "k", 7)),
])
def test_leaves(text, expected):
    assert parse_where(text, COLUMNS) == expected


def test_and_binds_tighter_than_or_and_parentheses_group():
    a, b, c = leaf("equal", "k", 1), leaf("equal", "k", 2), leaf("equal", "k", 3)
    assert parse_where("k = 1 OR k = 2 AND k = 3", COLUMNS) == Predicate("or", None, None, [a, Predicate("and", None, None, [b, c])])
    assert parse_where("(k = 1 OR k = 2) AND k = 3", COLUMNS) == Predicate("and", None, None, [Predicate("or", None, None, [a, b]), c])


def test_not_is_pushed_to_the_leaves():
    assert parse_where("NOT (k < 1 AND name IS NULL)", COLUMNS) == Predicate(
        "or", None, None, [leaf("greaterOrEqual", "k", 1), leaf("isNotNull", "name")])
    assert parse_where("k NOT BETWEEN 1 AND 5", COLUMNS) == Predicate(
        "or", None, None, [leaf("lessThan", "k", 1), leaf("greaterThan", "k", 5)])
    assert parse_where("NOT NOT k = 1", COLUMNS) == leaf("equal", "k", 1)
    assert negate(leaf("in", "k", 1, 2)) == leaf("notIn", "k", 1, 2)


def test_the_predicate_filters_like_sql():
    rows = pa.table({"k": [1, 2, 3, None], "name": ["a", None, "c", "d"]})
    predicate = parse_where("NOT (k = 1 OR name = 'c')", {"k": pa.int64(), "name": pa.string()})
    assert rows.filter(predicate.to_arrow()).to_pylist() == []  # k=2 has a NULL name, k=NULL is unknown
    predicate = parse_where("NOT k IN (1, 3)", {"k": pa.int64(), "name": pa.string()})
    assert rows.filter(predicate.to_arrow()).column("k").to_pylist() == [2]


@pytest.mark.parametrize("text, message", [
    ("price = 1", "--where: unknown column 'price' — the table has: k, name, day, amount, ok, at, and_or"),
    ("", "--where: the expression is empty — e.g. --where \"amount >= 10 AND customer IN ('ada', 'bob')\""),
    ("k =", "--where: expected a value ('text', a number, TRUE or FALSE) at position 4, found the end — e.g."),
    ("k = 1 k = 2", "--where: expected AND, OR or the end at position 7, found 'k' — e.g."),
    ("(k = 1", "--where: expected ) at position 7, found the end — e.g."),
    ("k == 1", "--where: expected a value ('text', a number, TRUE or FALSE) at position 4, found '=' — e.g."),
    ("k = 1; drop", "--where: unexpected character ';' at position 6 — e.g."),
    ("k LIKE 'a'", "--where: expected a comparison (= != < <= > >=), IS [NOT] NULL, IN or BETWEEN at position 3, found 'LIKE'"),
    ("= 1", "--where: expected a column at position 1, found '=' — e.g."),
    ("k = NULL", "--where: a comparison with NULL is never true (position 5); use k IS NULL or IS NOT NULL — e.g."),
    ("day = 'tuesday'", "'tuesday' is not a value of column day (date32[day]) — give one such as '2026-11-20'"),
    ("k = 1.5", "1.5 is not a value of column k (int64) — give one such as 42"),
    ("__import__('os') = 1", "--where: unknown column '__import__' — the table has: k,"),
])
def test_errors_say_what_and_where(text, message):
    with pytest.raises(CommandError) as error:
        parse_where(text, COLUMNS)
    assert str(error.value).startswith(message)
