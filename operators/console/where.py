"""``--where``: a small filter language, parsed here (never evaluated as Python) into a paimon_py
``Predicate`` that the read pushes down to partitions and file statistics.

    expr    := term (OR term)*            term := factor (AND factor)*
    factor  := NOT factor | '(' expr ')' | column test
    test    := (= | != | <> | < | <= | > | >=) literal | IS [NOT] NULL
             | [NOT] IN '(' literal (',' literal)* ')' | [NOT] BETWEEN literal AND literal
    literal := 'text' (a quote doubled inside) | number | TRUE | FALSE

Keywords are case-insensitive; a column is a bare name or one in double quotes or backticks.
Literals are converted to the column's type ('2026-11-20' for a DATE, 10.5 for a DECIMAL), and
NOT is pushed down to the leaves, which keeps SQL's NULL semantics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

import pyarrow as pa

from operators.console.lake import CommandError, typed_value
from paimon_py.predicate.predicate import Predicate
from paimon_py.predicate.predicate_builder import PredicateBuilder

EXAMPLE = "e.g. --where \"amount >= 10 AND customer IN ('ada', 'bob')\""

_TOKEN = re.compile(r"""\s*(?:
    (?P<string>'(?:[^']|'')*')
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<op><=|>=|<>|!=|=|<|>|\(|\)|,)
  | (?P<quoted>"[^"]+"|`[^`]+`)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<bad>\S)
)""", re.VERBOSE)

KEYWORDS = {"AND", "OR", "NOT", "IS", "NULL", "IN", "BETWEEN", "TRUE", "FALSE"}

COMPARISONS = {"=": "equal", "!=": "notEqual", "<>": "notEqual", "<": "lessThan", "<=": "lessOrEqual",
               ">": "greaterThan", ">=": "greaterOrEqual"}

NEGATED = {"equal": "notEqual", "notEqual": "equal", "lessThan": "greaterOrEqual",
           "greaterOrEqual": "lessThan", "lessOrEqual": "greaterThan", "greaterThan": "lessOrEqual",
           "isNull": "isNotNull", "isNotNull": "isNull", "in": "notIn", "notIn": "in"}


@dataclass(frozen=True)
class Token:
    kind: str
    """``string``, ``number``, ``op``, ``column``, ``keyword`` or ``end``."""
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind is None:
            continue
        value, position = match.group(kind), match.start(kind)
        if kind == "bad":
            raise where_error(f"unexpected character {value!r} at position {position + 1}")
        if kind == "quoted":
            kind, value = "column", value[1:-1]
        elif kind == "word":
            kind, value = ("keyword", value.upper()) if value.upper() in KEYWORDS else ("column", value)
        tokens.append(Token(kind, value, position))
    tokens.append(Token("end", "", len(text)))
    return tokens


def parse_where(text: str, columns: Mapping[str, pa.DataType]) -> Predicate:
    """The predicate of ``text`` over ``columns`` (name -> Arrow type, in table order); a
    ``CommandError`` names what is wrong and where."""
    return _Parser(tokenize(text), columns).parse()


def where_error(what: str) -> CommandError:
    return CommandError(f"--where: {what} — {EXAMPLE}")


class _Parser:
    def __init__(self, tokens: list[Token], columns: Mapping[str, pa.DataType]):
        self.tokens = tokens
        self.i = 0
        self.columns = dict(columns)
        self.builder = PredicateBuilder(list(columns))

    def parse(self) -> Predicate:
        if self.peek().kind == "end":
            raise where_error("the expression is empty")
        predicate = self.expression()
        if self.peek().kind != "end":
            raise self.unexpected("AND, OR or the end")
        return predicate

    # ---- tokens ------------------------------------------------------------------------------

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def accept(self, kind: str, text: str) -> bool:
        token = self.peek()
        if token.kind == kind and token.text == text:
            self.i += 1
            return True
        return False

    def expect(self, kind: str, text: str) -> None:
        if not self.accept(kind, text):
            raise self.unexpected(text)

    def unexpected(self, wanted: str) -> CommandError:
        token = self.peek()
        found = "the end" if token.kind == "end" else repr(token.text)
        return where_error(f"expected {wanted} at position {token.position + 1}, found {found}")

    # ---- grammar -----------------------------------------------------------------------------

    def expression(self) -> Predicate:
        terms = [self.term()]
        while self.accept("keyword", "OR"):
            terms.append(self.term())
        return PredicateBuilder.or_predicates(terms)

    def term(self) -> Predicate:
        factors = [self.factor()]
        while self.accept("keyword", "AND"):
            factors.append(self.factor())
        return PredicateBuilder.and_predicates(factors)

    def factor(self) -> Predicate:
        if self.accept("keyword", "NOT"):
            return negate(self.factor())
        if self.accept("op", "("):
            predicate = self.expression()
            self.expect("op", ")")
            return predicate
        token = self.next()
        if token.kind != "column":
            self.i -= 1
            raise self.unexpected("a column")
        if token.text not in self.columns:
            raise CommandError(f"--where: unknown column {token.text!r} — the table has: {', '.join(self.columns)}")
        return self.test(token.text)

    def test(self, column: str) -> Predicate:
        token = self.peek()
        if token.kind == "op" and token.text in COMPARISONS:
            self.i += 1
            method = COMPARISONS[token.text]
            return Predicate(method, self.builder.field_names.index(column), column, [self.literal(column)])
        if self.accept("keyword", "IS"):
            negated = self.accept("keyword", "NOT")
            self.expect("keyword", "NULL")
            return self.builder.is_not_null(column) if negated else self.builder.is_null(column)
        negated = self.accept("keyword", "NOT")
        if self.accept("keyword", "IN"):
            predicate = self.builder.is_in(column, self.literal_list(column))
        elif self.accept("keyword", "BETWEEN"):
            low = self.literal(column)
            self.expect("keyword", "AND")
            predicate = self.builder.between(column, low, self.literal(column))
        else:
            raise self.unexpected("a comparison (= != < <= > >=), IS [NOT] NULL, IN or BETWEEN")
        return negate(predicate) if negated else predicate

    def literal_list(self, column: str) -> list[Any]:
        self.expect("op", "(")
        values = [self.literal(column)]
        while self.accept("op", ","):
            values.append(self.literal(column))
        self.expect("op", ")")
        return values

    def literal(self, column: str) -> Any:
        token = self.next()
        if token.kind == "string":
            value: Any = token.text[1:-1].replace("''", "'")
        elif token.kind == "number":
            value = Decimal(token.text)
        elif token.kind == "keyword" and token.text in ("TRUE", "FALSE"):
            value = token.text == "TRUE"
        elif token.kind == "keyword" and token.text == "NULL":
            raise where_error(f"a comparison with NULL is never true (position {token.position + 1}); "
                              f"use {column} IS NULL or IS NOT NULL")
        else:
            self.i -= 1
            raise self.unexpected("a value ('text', a number, TRUE or FALSE)")
        return typed_value(value, self.columns[column], column)


def negate(predicate: Predicate) -> Predicate:
    """NOT ``predicate``, pushed down to the leaves (De Morgan; exact under SQL's three-valued logic)."""
    if predicate.method in ("and", "or"):
        method = "or" if predicate.method == "and" else "and"
        return Predicate(method, None, None, [negate(p) for p in predicate.literals])
    if predicate.method == "between":
        low, high = predicate.literals
        return Predicate("or", None, None, [replace_method(predicate, "lessThan", [low]),
                                            replace_method(predicate, "greaterThan", [high])])
    return replace_method(predicate, NEGATED[predicate.method], predicate.literals)


def replace_method(predicate: Predicate, method: str, literals: list[Any] | None) -> Predicate:
    return Predicate(method, predicate.index, predicate.field, literals)
