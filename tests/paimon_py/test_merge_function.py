"""Merge engines (paimon_py/mergetree/merge_function.py) against a record-at-a-time model.

The model ports Paimon Java's merge functions literally (``ReducerMergeFunctionWrapper`` around
``DeduplicateMergeFunction``, ``FirstRowMergeFunction``, ``PartialUpdateMergeFunction``,
``AggregateMergeFunction`` and the ``FieldAggregator``s): one dict per key, records applied in
order. Hypothesis drives random keys (composite), kinds (+I/-U/+U/-D), nulls and options; the
associativity property merge(merge(a) ++ b) == merge(a ++ b) is checked for every engine.
"""

from __future__ import annotations

import dataclasses
import math
import random

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paimon_py
from paimon_py.mergetree.merge_function import create_merge_function
from paimon_py.mergetree.record_order import RecordOrder
from paimon_py.schema.schema_manager import validate_new_schema

SEQ, KIND = "_SEQUENCE_NUMBER", "_VALUE_KIND"
INSERT, UPDATE_BEFORE, UPDATE_AFTER, DELETE = 0, 1, 2, 3

PA_SCHEMA = pa.schema([
    pa.field("k1", pa.int32(), nullable=False),
    pa.field("k2", pa.string(), nullable=False),
    pa.field("i", pa.int64()),
    pa.field("f", pa.float64()),
    pa.field("s", pa.string()),
    pa.field("b", pa.bool_()),
])
VALUE_FIELDS = ["i", "f", "s", "b"]
KV_SCHEMA = pa.schema(list(PA_SCHEMA) + [pa.field(SEQ, pa.int64(), nullable=False),
                                         pa.field(KIND, pa.int8(), nullable=False)])


def make_schema(options, pa_schema=PA_SCHEMA, primary_keys=("k1", "k2")):
    return validate_new_schema(paimon_py.Schema.from_pyarrow_schema(
        pa_schema, primary_keys=list(primary_keys), options={"bucket": "1", **options}))


def merge(options, rows, pa_schema=PA_SCHEMA, primary_keys=("k1", "k2")):
    schema = make_schema(options, pa_schema, primary_keys)
    kv = pa.schema(list(pa_schema) + [pa.field(SEQ, pa.int64(), nullable=False),
                                      pa.field(KIND, pa.int8(), nullable=False)])
    table = pa.Table.from_pylist(rows, schema=kv)
    return create_merge_function(schema).merge(table).to_pylist()


# --- the model ------------------------------------------------------------------------------

JAVA_WHITESPACE = set("\t\n\x0b\f\r\x1c\x1d\x1e\x1f \u1680\u2028\u2029\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B) if c != 0x2007}


def is_blank(value):
    return value is None or all(ch in JAVA_WHITESPACE for ch in value)


class Agg:
    """FieldAggregator semantics; ``retract`` raises when Java's does."""

    def __init__(self, function, ignore_retract=False, delimiter=","):
        self.function, self.ignore_retract, self.delimiter = function, ignore_retract, delimiter
        self.initialized = False

    def reset(self):
        self.initialized = False

    def agg(self, acc, value):
        f = self.function
        if f in ("last_value", "primary-key"):
            return value
        if f == "last_non_null_value":
            return acc if value is None else value
        if f == "first_value":
            if not self.initialized:
                self.initialized = True
                return value
            return acc
        if f == "first_non_null_value":
            if not self.initialized and value is not None:
                self.initialized = True
                return value
            return acc
        if f == "listagg":
            if is_blank(value):
                return acc
            if is_blank(acc):
                return value
            return acc + self.delimiter + value
        if acc is None or value is None:
            return value if acc is None else acc
        return {"sum": lambda: acc + value, "product": lambda: acc * value,
                "min": lambda: min(acc, value), "max": lambda: max(acc, value),
                "bool_and": lambda: acc and value, "bool_or": lambda: acc or value}[f]()

    def retract(self, acc, value):
        if self.ignore_retract:
            return acc
        f = self.function
        if f == "primary-key":
            return value
        if f == "last_value":
            return None
        if f == "last_non_null_value":
            return None if value is not None else acc
        if f == "sum":
            if acc is None or value is None:
                return -value if acc is None and value is not None else acc
            return acc - value
        if f == "product":
            if acc is None or value is None:
                return acc
            if isinstance(acc, int):
                if value == 0:
                    raise ZeroDivisionError("/ by zero")
                q = abs(acc) // abs(value)
                return q if (acc >= 0) == (value >= 0) else -q
            if value == 0:                     # Java double division
                if acc == 0 or math.isnan(acc):
                    return math.nan
                return math.copysign(math.inf, acc) * math.copysign(1.0, value)
            return acc / value
        raise ValueError(f"Aggregate function '{f}' does not support retraction")


def model_key(engine, opts, records, aggs=None):
    """The merged record of one key's records (Java, record at a time), or None."""
    ignore_delete = opts.get("ignore-delete") == "true"
    if ignore_delete:
        records = [r for r in records if r[KIND] in (INSERT, UPDATE_AFTER)]
    if not records:
        return None
    if len(records) == 1:                      # ReducerMergeFunctionWrapper
        return dict(records[0])
    fields = [n for n in records[0] if n not in (SEQ, KIND)]
    if engine == "deduplicate":
        return dict(records[-1])
    if engine == "first-row":
        if any(r[KIND] in (UPDATE_BEFORE, DELETE) for r in records):
            raise ValueError("First row merge engine can not accept DELETE/UPDATE_BEFORE")
        return dict(records[0])
    if engine == "partial-update":
        remove = opts.get("partial-update.remove-record-on-delete") == "true"
        row = {f: None for f in fields}
        meet_insert = filled = False
        seq = 0
        current_delete = False
        for r in records:
            current_delete = False
            if r[KIND] in (UPDATE_BEFORE, DELETE):
                if not filled:
                    row = {f: r[f] for f in fields}
                    filled = True
                seq = r[SEQ]
                if remove:
                    if r[KIND] == DELETE:
                        current_delete = True
                        meet_insert = False    # documented choice: no resurrection by a -U
                        row = {f: r[f] for f in fields}
                    continue
                raise ValueError("Partial update can not accept delete records")
            seq = r[SEQ]
            for f in fields:
                if r[f] is not None:
                    row[f] = r[f]
            meet_insert = filled = True
        return {**row, SEQ: seq, KIND: DELETE if current_delete or not meet_insert else INSERT}
    if engine == "aggregation":
        remove = opts.get("aggregation.remove-record-on-delete") == "true"
        for a in aggs.values():
            a.reset()
        row = {f: None for f in fields}
        current_delete = False
        for r in records:
            current_delete = remove and r[KIND] == DELETE
            if current_delete:
                row = {f: r[f] for f in fields}
                for f, a in aggs.items():      # documented choice: the -D is the first input
                    a.reset()
                    a.initialized = a.function == "first_value" or r[f] is not None
                continue
            retract = r[KIND] in (UPDATE_BEFORE, DELETE)
            for f in fields:
                row[f] = aggs[f].retract(row[f], r[f]) if retract else aggs[f].agg(row[f], r[f])
        return {**row, SEQ: records[-1][SEQ], KIND: DELETE if current_delete else INSERT}
    raise AssertionError(engine)


def model_aggs(opts, fields, primary_keys):
    aggs = {}
    for f in fields:
        if f in primary_keys:
            aggs[f] = Agg("primary-key")
            continue
        function = opts.get(f"fields.{f}.aggregate-function",
                            opts.get("fields.default-aggregate-function", "last_non_null_value"))
        aggs[f] = Agg(function, opts.get(f"fields.{f}.ignore-retract") == "true",
                      opts.get(f"fields.{f}.list-agg-delimiter", ","))
    return aggs


def model(options, rows, key_names=("k1", "k2")):
    """All keys: sorted by key, one merged record each; raises like the implementation."""
    engine = options.get("merge-engine", "deduplicate")
    aggs = model_aggs(options, [n for n in rows[0] if n not in (SEQ, KIND)], key_names) \
        if rows else {}
    by_key: dict = {}
    for r in rows:
        by_key.setdefault(tuple(r[k] for k in key_names), []).append(r)
    out = []
    for key in sorted(by_key, key=lambda k: tuple((x.encode() if isinstance(x, str) else x)
                                                   for x in k)):
        merged = model_key(engine, options, by_key[key], aggs)
        if merged is not None:
            out.append(merged)
    return out


# --- generators -----------------------------------------------------------------------------

def sort_rows(rows):
    return sorted(rows, key=lambda r: (r["k1"], r["k2"].encode(), r[SEQ]))


@st.composite
def record_lists(draw, kinds=(INSERT, UPDATE_BEFORE, UPDATE_AFTER, DELETE), max_size=30):
    n = draw(st.integers(0, max_size))
    keys = draw(st.lists(st.tuples(st.integers(-2, 2), st.sampled_from(["", "a", "b", "\u00e9"])),
                         min_size=1, max_size=4, unique=True))
    rows = []
    for seq in range(n):
        k1, k2 = draw(st.sampled_from(keys))
        rows.append({
            "k1": k1, "k2": k2,
            "i": draw(st.none() | st.integers(-4, 4)),
            "f": draw(st.none() | st.integers(-4, 4).map(float)),
            "s": draw(st.none() | st.sampled_from(["", " ", "x", "yz", "\u00a0", "\u2003"])),
            "b": draw(st.none() | st.booleans()),
            SEQ: seq, KIND: draw(st.sampled_from(kinds)),
        })
    return sort_rows(rows)


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    return a == b and type(a) is type(b) if not isinstance(a, (int, bool)) else a == b


def assert_rows_equal(actual, expected):
    assert len(actual) == len(expected), (actual, expected)
    for x, y in zip(actual, expected):
        assert x.keys() == y.keys()
        for name in x:
            assert same(x[name], y[name]), (name, x, y)


def check_against_model(options, rows):
    try:
        expected = model(options, rows)
    except (ValueError, ArithmeticError):
        # Java stops at the first failing record and field; which error comes first may differ
        with pytest.raises((ValueError, ArithmeticError)):
            merge(options, rows)
        return None
    actual = merge(options, rows)
    assert_rows_equal(actual, expected)
    return actual


def java_not_associative(options, older):
    """Java's AggregateMergeFunction turns a merge of only retractions into +I; a later
    first_value then takes that +I's (null) value instead of the first real insert's."""
    if options.get("merge-engine") != "aggregation":
        return False
    default = options.get("fields.default-aggregate-function")
    functions = {options.get(f"fields.{f}.aggregate-function", default) for f in VALUE_FIELDS}
    if "first_value" not in functions:
        return False
    reset = options.get("aggregation.remove-record-on-delete") == "true"
    by_key = {}
    for r in older:
        by_key.setdefault((r["k1"], r["k2"]), []).append(r[KIND])
    retraction = {UPDATE_BEFORE} if reset else {UPDATE_BEFORE, DELETE}
    return any(len(kinds) >= 2 and all(k in retraction for k in kinds)
               for kinds in by_key.values())


def check_associative(options, rows, split):
    """merge(merge(a) ++ b) == merge(a ++ b), a = records with sequence < split."""
    older = [r for r in rows if r[SEQ] < split]
    newer = [r for r in rows if r[SEQ] >= split]
    if java_not_associative(options, older):
        return
    errors = (ValueError, ArithmeticError)
    try:
        whole = merge(options, rows)
    except errors:
        whole = ValueError
    try:
        staged_first = merge(options, older) if older else []
    except errors:
        return
    try:
        staged = merge(options, sort_rows(staged_first + newer)) if (staged_first or newer) else []
    except errors:
        staged = ValueError
    if whole is ValueError or staged is ValueError:
        assert whole is staged
    else:
        assert_rows_equal(staged, whole)


SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- hypothesis: each engine against the model, and associativity ---------------------------

DEDUP_OPTIONS = st.sampled_from([{}, {"ignore-delete": "true"}])
FIRST_ROW_OPTIONS = st.sampled_from([{"merge-engine": "first-row"},
                                     {"merge-engine": "first-row", "ignore-delete": "true"}])
PARTIAL_OPTIONS = st.sampled_from([
    {"merge-engine": "partial-update"},
    {"merge-engine": "partial-update", "ignore-delete": "true"},
    {"merge-engine": "partial-update", "partial-update.remove-record-on-delete": "true"}])

FUNCTIONS_BY_FIELD = {
    "i": ["sum", "product", "min", "max", "last_value", "last_non_null_value", "first_value",
          "first_non_null_value"],
    "f": ["sum", "product", "min", "max", "last_value", "last_non_null_value", "first_value",
          "first_non_null_value"],
    "s": ["listagg", "min", "max", "last_value", "last_non_null_value", "first_value",
          "first_non_null_value"],
    "b": ["bool_and", "bool_or", "last_value", "last_non_null_value", "first_value",
          "first_non_null_value"],
}


@st.composite
def aggregation_options(draw):
    options = {"merge-engine": "aggregation"}
    remove = draw(st.booleans())
    if remove:
        options["aggregation.remove-record-on-delete"] = "true"
    for field, functions in FUNCTIONS_BY_FIELD.items():
        function = draw(st.sampled_from(functions + [None]))
        if function is not None:
            options[f"fields.{field}.aggregate-function"] = function
        if not remove and draw(st.booleans()):
            options[f"fields.{field}.ignore-retract"] = "true"
        if function == "listagg" and draw(st.booleans()):
            options[f"fields.{field}.list-agg-delimiter"] = "|"
    if draw(st.booleans()):
        options["fields.default-aggregate-function"] = "last_value"
    return options


@pytest.mark.parametrize("engine_options", [DEDUP_OPTIONS, FIRST_ROW_OPTIONS, PARTIAL_OPTIONS,
                                            aggregation_options()],
                         ids=["deduplicate", "first-row", "partial-update", "aggregation"])
def test_engine_matches_model_and_is_associative(engine_options):
    @SETTINGS
    @given(options=engine_options, rows=record_lists(), data=st.data())
    def run(options, rows, data):
        check_against_model(options, rows)
        split = data.draw(st.integers(0, len(rows)))
        check_associative(options, rows, split)
    run()


@SETTINGS
@given(options=st.one_of(PARTIAL_OPTIONS, aggregation_options()),
       rows=record_lists(kinds=(INSERT, UPDATE_AFTER)), data=st.data())
def test_inserts_only_never_raise_and_associate(options, rows, data):
    actual = check_against_model(options, rows)
    assert actual is not None
    check_associative(options, rows, data.draw(st.integers(0, len(rows))))


@SETTINGS
@given(rows=record_lists(max_size=40), chunks=st.integers(1, 4))
def test_chunked_input_is_the_same(rows, chunks):
    schema = make_schema({"merge-engine": "partial-update",
                          "partial-update.remove-record-on-delete": "true"})
    table = pa.Table.from_pylist(rows, schema=KV_SCHEMA)
    step = max(1, len(rows) // chunks)
    pieces = [table.slice(i, step) for i in range(0, len(rows), step)] or [table]
    chunked = pa.concat_tables(pieces)
    mf = create_merge_function(schema)
    assert mf.merge(chunked).equals(mf.merge(table))


@pytest.mark.parametrize("engine_options", [DEDUP_OPTIONS, FIRST_ROW_OPTIONS, PARTIAL_OPTIONS,
                                            aggregation_options()],
                         ids=["deduplicate", "first-row", "partial-update", "aggregation"])
@pytest.mark.parametrize("primary_keys", [("k1",), ("k1", "k2")], ids=["integer-key", "two-keys"])
def test_merge_of_unordered_records_is_the_merge_of_the_sorted_ones(engine_options, primary_keys):
    """``merge_unordered`` (deduplicate copies only the rows it keeps) against sort, then merge;
    the records arrive shuffled, so the sequence order of equal keys is not their row order."""
    @settings(SETTINGS, max_examples=60)
    @given(options=engine_options, rows=record_lists(), seed=st.integers(0, 2**16))
    def run(options, rows, seed):
        schema = make_schema(options, primary_keys=primary_keys)
        random.Random(seed).shuffle(rows)
        table = pa.Table.from_pylist(rows, schema=KV_SCHEMA)
        mf, order = create_merge_function(schema), RecordOrder.of(schema)
        assert outcome(lambda: mf.merge_unordered(table, order)) == outcome(lambda: mf.merge(order.sort(table)))
    run()


def outcome(merge) -> object:
    """The merged rows (a NaN as the string "NaN", so that equal results compare equal), or the type
    of the error the merge raised (bad input, an overflowing sum)."""
    try:
        rows = merge().to_pylist()
    except Exception as error:  # noqa: BLE001 - both ways must fail alike
        return type(error)
    return [{k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()} for row in rows]


# --- targeted unit tests --------------------------------------------------------------------

def rec(seq, kind=INSERT, k1=1, k2="a", i=None, f=None, s=None, b=None):
    return {"k1": k1, "k2": k2, "i": i, "f": f, "s": s, "b": b, SEQ: seq, KIND: kind}


def agg(function, *records, **options):
    opts = {"merge-engine": "aggregation", **{k.replace("_", "-"): v for k, v in options.items()}}
    field = {"sum": "i", "product": "i", "min": "i", "max": "i", "listagg": "s",
             "bool_and": "b", "bool_or": "b"}.get(function, "i")
    opts[f"fields.{field}.aggregate-function"] = function
    return merge(opts, list(records))


def test_sum_ignores_nulls_and_retracts():
    out = agg("sum", rec(0, i=1), rec(1, i=None), rec(2, i=5), rec(3, UPDATE_BEFORE, i=2))
    assert out[0]["i"] == 4 and out[0][KIND] == INSERT and out[0][SEQ] == 3
    assert agg("sum", rec(0), rec(1))[0]["i"] is None
    assert agg("sum", rec(0), rec(1, DELETE, i=3))[0]["i"] == -3       # retract(null, 3) = -3


def test_sum_overflow_raises():
    schema = pa.schema([pa.field("k1", pa.int32(), nullable=False), pa.field("v", pa.int32())])
    rows = [{"k1": 1, "v": 2**31 - 1, SEQ: 0, KIND: 0}, {"k1": 1, "v": 1, SEQ: 1, KIND: 0}]
    with pytest.raises(OverflowError):
        merge({"merge-engine": "aggregation", "fields.v.aggregate-function": "sum"}, rows,
              schema, ["k1"])


def test_sum_decimal_and_float32():
    import decimal
    schema = pa.schema([pa.field("k1", pa.int32(), nullable=False),
                        pa.field("d", pa.decimal128(5, 2)), pa.field("x", pa.float32())])
    rows = [{"k1": 1, "d": decimal.Decimal("1.25"), "x": 1.5, SEQ: 0, KIND: 0},
            {"k1": 1, "d": decimal.Decimal("2.50"), "x": 2.0, SEQ: 1, KIND: 0},
            {"k1": 1, "d": decimal.Decimal("0.25"), "x": 0.5, SEQ: 2, KIND: 1}]
    out = merge({"merge-engine": "aggregation", "fields.d.aggregate-function": "sum",
                 "fields.x.aggregate-function": "sum"}, rows, schema, ["k1"])
    assert out[0]["d"] == decimal.Decimal("3.50") and out[0]["x"] == 3.0
    rows = [{"k1": 1, "d": decimal.Decimal("999.99"), "x": 1.0, SEQ: 0, KIND: 0},
            {"k1": 1, "d": decimal.Decimal("1.00"), "x": 1.0, SEQ: 1, KIND: 0}]
    out = merge({"merge-engine": "aggregation", "fields.d.aggregate-function": "sum"}, rows,
                schema, ["k1"])
    assert out[0]["d"] is None                 # Decimal.fromBigDecimal: overflow -> null


def test_product_and_its_retraction():
    assert agg("product", rec(0, i=2), rec(1, i=None), rec(2, i=-3))[0]["i"] == -6
    # Java divides step by step, truncating toward zero: (7 * 1) / 2 = 3, then * 2 = 6
    out = agg("product", rec(0, i=7), rec(1, i=1), rec(2, UPDATE_BEFORE, i=2), rec(3, i=2))
    assert out[0]["i"] == 6
    assert agg("product", rec(0, i=-7), rec(1, DELETE, i=2))[0]["i"] == -3


def test_min_max_skip_nulls():
    assert agg("min", rec(0, i=3), rec(1), rec(2, i=-1))[0]["i"] == -1
    assert agg("max", rec(0, i=3), rec(1), rec(2, i=-1))[0]["i"] == 3
    assert agg("max", rec(0), rec(1))[0]["i"] is None
    out = merge({"merge-engine": "aggregation", "fields.s.aggregate-function": "max"},
                [rec(0, s="b"), rec(1, s="\u00e9"), rec(2, s="z")])
    assert out[0]["s"] == "\u00e9"             # by UTF-8 bytes, like BinaryString.compareTo


def test_last_and_first_values():
    rows = [rec(0, i=None), rec(1, i=2), rec(2, i=3), rec(3, i=None)]
    assert agg("last_value", *rows)[0]["i"] is None
    assert agg("last_non_null_value", *rows)[0]["i"] == 3
    assert agg("first_value", *rows)[0]["i"] is None
    assert agg("first_non_null_value", *rows)[0]["i"] == 2
    assert agg("first_not_null_value", *rows)[0]["i"] == 2            # legacy name
    # retractions: last_value -> null; last_non_null_value -> null only for a non-null value
    assert agg("last_value", rec(0, i=1), rec(1, UPDATE_BEFORE, i=1))[0]["i"] is None
    assert agg("last_non_null_value", rec(0, i=1), rec(1, UPDATE_BEFORE, i=None))[0]["i"] == 1
    assert agg("last_non_null_value", rec(0, i=1), rec(1, UPDATE_BEFORE, i=5))[0]["i"] is None


def test_default_aggregate_function_java_example():
    # AggregateMergeFunctionTest.testDefaultAggFunc
    schema = pa.schema([pa.field("k", pa.int32(), nullable=False)]
                       + [pa.field(n, pa.int32()) for n in "abcd"])
    values = [(None, 1, 1, 1), (2, None, 2, 2), (3, 3, None, 3), (4, 4, 4, None), (5, 5, 5, 5)]
    rows = [{"k": 1, **dict(zip("abcd", v)), SEQ: n, KIND: 0} for n, v in enumerate(values)]
    out = merge({"merge-engine": "aggregation",
                 "fields.default-aggregate-function": "first_non_null_value",
                 "fields.b.aggregate-function": "sum"}, rows, schema, ["k"])
    assert [out[0][n] for n in "kabcd"] == [1, 2, 13, 1, 1]


def test_listagg():
    out = agg("listagg", rec(0, s="a"), rec(1, s=" "), rec(2, s=None), rec(3, s="b"),
              rec(4, s=""), rec(5, s="c"))
    assert out[0]["s"] == "a,b,c"
    out = merge({"merge-engine": "aggregation", "fields.s.aggregate-function": "listagg",
                 "fields.s.list-agg-delimiter": "-"}, [rec(0, s="1"), rec(1, s="2")])
    assert out[0]["s"] == "1-2"
    assert agg("listagg", rec(0, s=" "), rec(1, s="\u2003"))[0]["s"] is None
    # U+00A0 is not whitespace for Java's Character.isWhitespace
    assert agg("listagg", rec(0, s="\u00a0"), rec(1, s="x"))[0]["s"] == "\u00a0,x"


def test_bool_and_or():
    rows = [rec(0, b=True), rec(1, b=None), rec(2, b=False)]
    assert agg("bool_and", *rows)[0]["b"] is False
    assert agg("bool_or", *rows)[0]["b"] is True
    assert agg("bool_or", rec(0), rec(1))[0]["b"] is None


@pytest.mark.parametrize("function", ["min", "max", "first_value", "first_non_null_value",
                                      "listagg", "bool_and", "bool_or"])
def test_non_retractable_functions_raise_unless_ignore_retract(function):
    field = {"listagg": "s", "bool_and": "b", "bool_or": "b"}.get(function, "i")
    value = {"s": "x", "b": True, "i": 1}[field]
    rows = [rec(0, **{field: value}), rec(1, UPDATE_BEFORE, **{field: value})]
    with pytest.raises(ValueError, match=f"fields.{field}.ignore-retract"):
        agg(function, *rows)
    out = merge({"merge-engine": "aggregation", f"fields.{field}.aggregate-function": function,
                 f"fields.{field}.ignore-retract": "true"}, rows)
    assert out[0][field] == value


def test_aggregation_remove_record_on_delete():
    options = {"merge-engine": "aggregation", "aggregation.remove-record-on-delete": "true",
               "fields.i.aggregate-function": "sum"}
    out = merge(options, [rec(0, i=5), rec(1, DELETE, i=None), rec(2, i=3)])
    assert out[0]["i"] == 3 and out[0][KIND] == INSERT
    out = merge(options, [rec(0, i=5), rec(1, DELETE, i=5)])
    assert out[0][KIND] == DELETE and out[0][SEQ] == 1
    # Java initialises the row from the -D's values and keeps aggregating onto them
    assert merge(options, [rec(0, i=5), rec(1, DELETE, i=5), rec(2, i=3)])[0]["i"] == 8
    # -U is still a retraction
    assert merge(options, [rec(0, i=5), rec(1, UPDATE_BEFORE, i=2)])[0]["i"] == 3


def test_aggregation_primary_key_and_sequence_field():
    options = {"merge-engine": "aggregation", "fields.default-aggregate-function": "sum",
               "sequence.field": "f", "fields.s.aggregate-function": "listagg",
               "fields.b.aggregate-function": "bool_or"}
    out = merge(options, [rec(0, i=1, f=1.0), rec(1, i=2, f=None)])
    assert out[0]["i"] == 3 and out[0]["f"] is None        # sequence field -> last_value
    assert (out[0]["k1"], out[0]["k2"]) == (1, "a")
    with pytest.raises(ValueError, match="Should not define aggregation on sequence field"):
        create_merge_function(make_schema({**options, "fields.f.aggregate-function": "sum"}))


def test_single_record_passes_through():
    options = {"merge-engine": "aggregation", "fields.i.aggregate-function": "sum"}
    out = merge(options, [rec(0, UPDATE_BEFORE, i=4)])
    assert out[0]["i"] == 4 and out[0][KIND] == UPDATE_BEFORE
    out = merge({"merge-engine": "partial-update"}, [rec(0, DELETE, i=4)])
    assert out[0][KIND] == DELETE
    out = merge({"merge-engine": "first-row"}, [rec(0, UPDATE_AFTER, i=4)])
    assert out[0][KIND] == UPDATE_AFTER


def test_deduplicate_keeps_final_delete_and_ignore_delete_drops():
    rows = [rec(0, i=1), rec(1, DELETE, i=1), rec(2, k1=2, i=7)]
    out = merge({}, rows)
    assert [(r["k1"], r[KIND], r[SEQ]) for r in out] == [(1, DELETE, 1), (2, INSERT, 2)]
    out = merge({"ignore-delete": "true"}, rows)
    assert [(r["k1"], r["i"], r[KIND]) for r in out] == [(1, 1, INSERT), (2, 7, INSERT)]
    assert merge({"deduplicate.ignore-delete": "true"}, rows)[0][KIND] == INSERT   # fallback key
    assert merge({"ignore-delete": "true"}, [rec(0, DELETE)]) == []


def test_partial_update():
    rows = [rec(0, i=1, s="a"), rec(1, i=None, s="b", b=True), rec(2, UPDATE_AFTER, f=2.0)]
    out = merge({"merge-engine": "partial-update"}, rows)
    assert (out[0]["i"], out[0]["f"], out[0]["s"], out[0]["b"], out[0][SEQ], out[0][KIND]) == \
        (1, 2.0, "b", True, 2, INSERT)
    with pytest.raises(ValueError, match="partial-update.remove-record-on-delete"):
        merge({"merge-engine": "partial-update"}, rows + [rec(3, DELETE)])
    with pytest.raises(ValueError, match="ignore-delete"):
        merge({"merge-engine": "partial-update"}, rows + [rec(3, UPDATE_BEFORE)])
    out = merge({"merge-engine": "partial-update", "ignore-delete": "true"},
                rows + [rec(3, DELETE, i=9)])
    assert out[0]["i"] == 1 and out[0][KIND] == INSERT and out[0][SEQ] == 2
    options = {"merge-engine": "partial-update", "partial-update.remove-record-on-delete": "true"}
    out = merge(options, rows + [rec(3, DELETE, i=9)])
    assert out[0][KIND] == DELETE and out[0]["i"] == 9 and out[0]["s"] is None
    out = merge(options, rows + [rec(3, DELETE, s="z"), rec(4, i=5)])
    assert (out[0]["i"], out[0]["s"], out[0]["b"], out[0][KIND]) == (5, "z", None, INSERT)
    out = merge(options, rows + [rec(3, UPDATE_BEFORE, i=9)])     # -U ignored
    assert out[0]["i"] == 1 and out[0][KIND] == INSERT and out[0][SEQ] == 3


def test_first_row():
    rows = [rec(0, i=1), rec(1, UPDATE_AFTER, i=2), rec(2, k2="b", i=3)]
    out = merge({"merge-engine": "first-row"}, rows)
    assert [(r["k2"], r["i"], r[SEQ]) for r in out] == [("a", 1, 0), ("b", 3, 2)]
    with pytest.raises(ValueError, match="ignore-delete"):
        merge({"merge-engine": "first-row"}, sort_rows(rows + [rec(3, DELETE)]))
    out = merge({"merge-engine": "first-row", "ignore-delete": "true"},
                [rec(0, DELETE, i=0)] + rows)
    assert out[0]["i"] == 1


@pytest.mark.parametrize("options, error, match", [
    ({"merge-engine": "first-row", "sequence.field": "i"}, ValueError, "sequence field"),
    ({"merge-engine": "aggregation", "fields.i.aggregate-function": "count"}, ValueError,
     "fields.i.aggregate-function.*legal values"),
    ({"merge-engine": "aggregation", "fields.default-aggregate-function": "avg"}, ValueError,
     "fields.default-aggregate-function"),
    ({"merge-engine": "aggregation", "fields.i.aggregate-function": "collect"},
     NotImplementedError, "collect"),
    ({"merge-engine": "aggregation", "fields.s.aggregate-function": "sum"}, ValueError,
     "NumericType"),
    ({"merge-engine": "aggregation", "fields.i.aggregate-function": "bool_or"}, ValueError,
     "BooleanType"),
    ({"merge-engine": "aggregation", "fields.i.aggregate-function": "listagg"}, ValueError,
     "STRING"),
    ({"merge-engine": "aggregation", "aggregation.remove-record-on-delete": "true",
      "fields.i.ignore-retract": "true"}, ValueError, "conflicting"),
    ({"merge-engine": "aggregation", "fields.s.aggregate-function": "listagg",
      "fields.s.distinct": "true"}, NotImplementedError, "fields.s.distinct"),
    ({"merge-engine": "aggregation", "fields.i.ignore-retract": "yes"}, ValueError,
     "fields.i.ignore-retract"),
    ({"merge-engine": "partial-update", "fields.i.sequence-group": "s"}, NotImplementedError,
     "fields.i.sequence-group"),
    ({"merge-engine": "partial-update", "ignore-delete": "true",
      "partial-update.remove-record-on-delete": "true"}, ValueError, "conflicting"),
    ({"merge-engine": "partial-update", "fields.i.aggregate-function": "sum"}, ValueError,
     "sequence group"),
])
def test_option_errors(options, error, match):
    with pytest.raises(error, match=match):
        create_merge_function(make_schema(options))


def test_unknown_merge_engine():
    schema = make_schema({})
    schema = dataclasses.replace(schema, options={**schema.options, "merge-engine": "nope"})
    with pytest.raises(ValueError, match="merge-engine.*deduplicate"):
        create_merge_function(schema)


def test_float_keys_follow_java_comparator():
    schema = pa.schema([pa.field("k", pa.float64(), nullable=False), pa.field("v", pa.int64())])
    rows = [{"k": -0.0, "v": 1, SEQ: 0, KIND: 0}, {"k": 0.0, "v": 2, SEQ: 1, KIND: 0},
            {"k": float("nan"), "v": 3, SEQ: 2, KIND: 0},
            {"k": float("nan"), "v": 4, SEQ: 3, KIND: 0}]
    out = merge({}, rows, schema, ["k"])
    assert [r["v"] for r in out] == [1, 2, 4]


def test_large_random_input_matches_model():
    rng = random.Random(7)
    rows = []
    for seq in range(3000):
        rows.append(rec(seq, rng.choice([0, 0, 0, 2, 1]), k1=rng.randrange(300),
                        k2=rng.choice("ab"), i=rng.choice([None, rng.randrange(-9, 9)]),
                        f=rng.choice([None, float(rng.randrange(-9, 9))]),
                        s=rng.choice([None, "", "p", "q"]), b=rng.choice([None, True, False])))
    rows = sort_rows(rows)
    options = {"merge-engine": "aggregation", "fields.i.aggregate-function": "sum",
               "fields.f.aggregate-function": "last_value",
               "fields.s.aggregate-function": "listagg",
               "fields.s.ignore-retract": "true", "fields.b.aggregate-function": "bool_or",
               "fields.b.ignore-retract": "true"}
    assert_rows_equal(merge(options, rows), model(options, rows))


# --- agreement with pypaimon (inserts only: what pypaimon 2.1.0 merges) ---------------------

@pytest.mark.parametrize("options", [
    {"merge-engine": "partial-update"},
    {"merge-engine": "aggregation", "fields.i.aggregate-function": "sum",
     "fields.f.aggregate-function": "max", "fields.s.aggregate-function": "listagg",
     "fields.b.aggregate-function": "bool_or"},
    {"merge-engine": "aggregation", "fields.i.aggregate-function": "min",
     "fields.f.aggregate-function": "first_non_null_value",
     "fields.s.aggregate-function": "last_value", "fields.b.aggregate-function": "bool_and"},
    {"merge-engine": "aggregation", "fields.i.aggregate-function": "product",
     "fields.f.aggregate-function": "first_value",
     "fields.s.aggregate-function": "last_non_null_value"},
], ids=["partial-update", "agg-sum-max-listagg-or", "agg-min-first-last-and", "agg-product"])
def test_agrees_with_pypaimon(tmp_path, options):
    pypaimon = pytest.importorskip("pypaimon")
    catalog = pypaimon.CatalogFactory.create({"warehouse": str(tmp_path)})
    catalog.create_database("db", ignore_if_exists=True)
    catalog.create_table("db.t", pypaimon.Schema.from_pyarrow_schema(
        PA_SCHEMA, primary_keys=["k1", "k2"], options={"bucket": "1", **options}), False)
    table = catalog.get_table("db.t")
    rng = random.Random(3)
    rows = []
    for seq in range(12):
        row = {"k1": rng.randrange(3), "k2": rng.choice(["a", "b"]),
               "i": rng.choice([None, rng.randrange(1, 5)]),
               "f": rng.choice([None, float(rng.randrange(-5, 5))]),
               "s": rng.choice([None, "x", "y", "zz"]), "b": rng.choice([None, True, False])}
        builder = table.new_batch_write_builder()
        write, commit = builder.new_write(), builder.new_commit()
        write.write_arrow(pa.Table.from_pylist([row], schema=PA_SCHEMA))
        commit.commit(write.prepare_commit())
        write.close()
        commit.close()
        rows.append({**row, SEQ: seq, KIND: INSERT})
    read_builder = table.new_read_builder()
    theirs = read_builder.new_read().to_arrow(read_builder.new_scan().plan().splits())
    theirs = sorted(theirs.to_pylist(), key=lambda r: (r["k1"], r["k2"]))
    ours = [{k: v for k, v in r.items() if k not in (SEQ, KIND)}
            for r in merge(options, sort_rows(rows))]
    assert_rows_equal(ours, theirs)


def test_decimal_product_date_min_and_product_overflow():
    import datetime
    import decimal
    schema = pa.schema([pa.field("k1", pa.int32(), nullable=False),
                        pa.field("d", pa.decimal128(5, 2)), pa.field("day", pa.date32()),
                        pa.field("n", pa.int32())])
    rows = [{"k1": 1, "d": decimal.Decimal("1.50"), "day": datetime.date(2024, 5, 1), "n": 2**16,
             SEQ: 0, KIND: 0},
            {"k1": 1, "d": decimal.Decimal("2.25"), "day": datetime.date(2023, 1, 9), "n": None,
             SEQ: 1, KIND: 0}]
    options = {"merge-engine": "aggregation", "fields.d.aggregate-function": "product",
               "fields.day.aggregate-function": "min", "fields.n.aggregate-function": "product"}
    out = merge(options, rows, schema, ["k1"])
    assert out[0]["d"] == decimal.Decimal("3.38")          # HALF_UP to the scale, like Java
    assert out[0]["day"] == datetime.date(2023, 1, 9) and out[0]["n"] == 2**16
    rows[1]["n"] = 2**16
    with pytest.raises(OverflowError):
        merge(options, rows, schema, ["k1"])
