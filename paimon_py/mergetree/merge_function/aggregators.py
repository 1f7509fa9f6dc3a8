"""The aggregate functions of the ``aggregation`` engine (Java's ``FieldAggregator`` subclasses).

``AGGREGATORS`` maps each function name to its vectorised implementation, registered with
``@aggregator``. An implementation gets the merge's ``Aggregation`` (groups, row masks, the
batched ``group_by``), the field and its column, and whether retractions apply, and returns one
value per group, or ``None`` after registering a finisher that reads the batched ``group_by``.

Retraction (-U/-D): ``sum`` subtracts, ``product`` divides, ``last_value`` becomes null,
``last_non_null_value`` becomes null when the retracted value is non-null; the other functions
raise unless ``fields.<f>.ignore-retract`` (then the retraction is skipped). Paimon has no
``count`` aggregate function (there is no ``FieldCountAgg``), so none is offered here.

Measured choices (per 1M-row column): first/last(-non-null) values by picking one row index per
group with ``np.maximum/minimum.reduceat`` and one ``take`` (~7 ms) rather than
``group_by(use_threads=False).aggregate(hash_last(skip_nulls))`` (~17 ms); integer/float
sum, product, min, max, bool_and/or with ``np.<op>.reduceat`` over the contiguous runs
(~5-10 ms) rather than one batched ``group_by`` (~30 ms for the first aggregate, ~10 ms each
further one; still used for string/decimal/temporal min/max and decimal sums); listagg as a
``ListArray`` over the runs + ``binary_join`` (~21 ms) rather than a numpy byte gather (~60 ms)
or ``hash_list`` + ``binary_join`` (~160 ms); plus ~20 ms for the blank test (RE2 regex).
Products with retractions and decimal products follow Java's step-by-step arithmetic in a
per-group Python loop, for the affected groups only.

Precision notes (documented differences): float/double sums and products are computed in double
precision by pyarrow, not step by step in the column's precision as Java does (float32 results
can differ in the last bit); integer overflow raises ``OverflowError`` when the *final* sum or
product leaves the column's range (Java's ``addExact`` also trips on intermediate overflow);
a decimal sum that overflows its precision becomes null (Java's ``fromBigDecimal``).
"""

from __future__ import annotations

import decimal
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paimon_py.exceptions import OptionError, UnsupportedFeatureError
from paimon_py.mergetree.merge_function.base import RowState
from paimon_py.mergetree.merge_function.groups import Groups, take_rows, valid_mask
from paimon_py.types import (MAX_LENGTH, ArrayType, BigIntType, BooleanType, DataType, DecimalType, DoubleType,
                             FloatType, IntType, MapType, MultisetType, RowType, SmallIntType, TinyIntType,
                             VarCharType)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    function: str
    data_type: DataType
    ignore_retract: bool = False
    delimiter: str = ","


class Aggregation:
    """Per-field aggregation of one ``merge`` call; ``group_by`` aggregates are batched."""

    def __init__(self, table: pa.Table, groups: Groups, state: RowState):
        self.table, self.groups, self.state = table, groups, state
        self.gb_columns: list[pa.ChunkedArray | pa.Array] = []
        self.gb_aggregates: list[tuple[str, str, pc.FunctionOptions | None]] = []
        self.finishers: dict[str, Callable[[pa.Table], pa.Array]] = {}
        # rows whose value enters agg(): inserts and the reset -D of the segment
        self.accumulating = state.seg(state.insert | state.reset)

    def group_by(self, column, function: str, options=None) -> str:
        name = f"c{len(self.gb_columns)}"
        self.gb_columns.append(column)
        self.gb_aggregates.append((name, function, options))
        return f"{name}_{function}"

    def run_group_by(self) -> pa.Table | None:
        if not self.gb_columns:
            return None
        g = self.groups
        data = {"__g": pa.array(g.gid)}
        for i, column in enumerate(self.gb_columns):
            data[f"c{i}"] = column
        result = pa.table(data).group_by("__g", use_threads=False).aggregate(self.gb_aggregates)
        order = result.column("__g").to_numpy()
        if not (order == np.arange(g.count)).all():
            result = result.take(pa.array(np.argsort(order)))
        return result

    def masked(self, column, mask: np.ndarray):
        if mask.all():
            return column
        return pc.if_else(pa.array(mask), column, pa.scalar(None, column.type))

    def reduce(self, column, mask, op, negate):
        """``op.reduceat`` over each group's rows in ``mask`` (nulls skipped; null if none)."""
        g = self.groups
        valid = valid_mask(column) & mask
        values = column.to_numpy() if column.null_count == 0 else \
            pc.fill_null(column, False if pa.types.is_boolean(column.type) else 0).to_numpy()
        identity = {np.add: 0, np.multiply: 1, np.logical_and: True, np.logical_or: False}.get(op)
        if identity is None:                    # min (np.fmin) / max (np.maximum)
            if values.dtype.kind == "f":
                identity = np.nan if op is np.fmin else -np.inf
            else:
                info = np.iinfo(values.dtype)
                identity = info.max if op is np.fmin else info.min
        values = np.where(valid, values, identity)
        if negate is not None:
            values = np.where(negate, -values, values)
        result = op.reduceat(values, g.first)
        return pa.array(result, mask=~np.logical_or.reduceat(valid, g.first))


Compute = Callable[[Aggregation, FieldSpec, pa.ChunkedArray, bool], "pa.Array | None"]


@dataclass(frozen=True)
class Aggregator:
    compute: Compute
    retractable: bool
    """Java's aggregator overrides ``retract()``; the others raise unless ignore-retract."""


AGGREGATORS: dict[str, Aggregator] = {}


def aggregator(*names: str, retractable: bool = False) -> Callable[[Compute], Compute]:
    """Registers the decorated function in ``AGGREGATORS`` under ``names``."""
    def register(compute: Compute) -> Compute:
        for name in names:
            AGGREGATORS[name] = Aggregator(compute, retractable)
        return compute
    return register


NUMERIC_TYPES = (TinyIntType, SmallIntType, IntType, BigIntType, FloatType, DoubleType, DecimalType)
INT_RANGES = {TinyIntType: (-2**7, 2**7 - 1), SmallIntType: (-2**15, 2**15 - 1),
              IntType: (-2**31, 2**31 - 1), BigIntType: (-2**63, 2**63 - 1)}

# Java's Character.isWhitespace (StringUtils.isBlank in FieldListaggAgg): ASCII controls
# \t \n \x0B \f \r \x1C-\x1F, and Unicode space/line/paragraph separators except the no-break
# spaces U+00A0, U+2007 and U+202F.
_BLANK_REGEX = ("^[\\t\\n\\x0B\\f\\r\\x1C-\\x1F \\x{1680}\\x{2000}-\\x{2006}\\x{2008}-\\x{200A}"
                "\\x{2028}\\x{2029}\\x{205F}\\x{3000}]*$")


@aggregator("sum", retractable=True)
def _sum(agg: Aggregation, spec: FieldSpec, column: pa.ChunkedArray, retracts: bool) -> pa.Array | None:
    s = agg.state
    t = spec.data_type
    if type(t) in INT_RANGES or isinstance(t, (FloatType, DoubleType)):
        wide = column.cast(pa.int64() if type(t) in INT_RANGES else pa.float64())
        mask, negate = agg.accumulating, None
        if retracts:
            negate = s.seg(s.retract)
            mask = mask | negate
        result = agg.reduce(wide, mask, np.add, negate)
        check = None
        if isinstance(t, BigIntType):
            low, high = pc.min_max(column).values()
            bound = max(abs(low.as_py() or 0), abs(high.as_py() or 0)) * int(_largest_group(agg.groups))
            if bound >= 2**63:              # an overflow is possible: sum in double too
                check = agg.reduce(wide.cast(pa.float64()), mask, np.add, negate)
        return _fit(result, t, spec.name, "sum", check)
    if isinstance(t, DecimalType):
        wide = column.cast(pa.decimal128(38, t.scale))
    elif isinstance(t, (FloatType, DoubleType)):
        wide = column.cast(pa.float64())
    else:
        wide = column.cast(pa.int64())
    mask = agg.accumulating
    if retracts:
        negate = s.seg(s.retract)
        wide = pc.if_else(pa.array(negate), pc.negate_checked(wide), wide)
        mask = mask | negate
    wide = agg.masked(wide, mask)
    options = pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)
    out = agg.group_by(wide, "sum", options)
    check = None
    if isinstance(t, BigIntType):
        check = agg.group_by(wide.cast(pa.float64()), "sum", options)

    def finish(r):
        result = r.column(out).combine_chunks()
        return _fit(result, t, spec.name, "sum", r.column(check) if check else None)
    agg.finishers[spec.name] = finish
    return None


@aggregator("product", retractable=True)
def _product(agg: Aggregation, spec: FieldSpec, column: pa.ChunkedArray, retracts: bool) -> pa.Array:
    s, g = agg.state, agg.groups
    t = spec.data_type
    slow_groups = np.zeros(g.count, dtype=bool)
    if retracts:
        slow_groups |= g.any(s.retract) & s.multi
    if isinstance(t, DecimalType):
        slow_groups |= s.multi           # BigDecimal rounding at every step
    if isinstance(t, DecimalType):
        result = pa.nulls(g.count, pa.decimal128(t.precision, t.scale))
    else:
        wide = column.cast(pa.int64() if type(t) in INT_RANGES else pa.float64())
        result = agg.reduce(wide, agg.accumulating, np.multiply, None)
        check = None
        if type(t) in INT_RANGES:           # int64 products wrap: multiply in double too
            check = agg.reduce(wide.cast(pa.float64()), agg.accumulating, np.multiply, None)
        result = _fit(result, t, spec.name, "product", check)
    if slow_groups.any():
        result = _sequential_product(agg, spec, column, slow_groups, result)
    return result


def _sequential_product(agg: Aggregation, spec: FieldSpec, column: pa.ChunkedArray,
                        slow_groups: np.ndarray, result: pa.Array) -> pa.Array:
    """Java's FieldProductAgg step by step, for the groups that need it (rare)."""
    g, s = agg.groups, agg.state
    t = spec.data_type
    values = result.to_pylist()
    column_values = column.to_pylist() if len(column) else []
    for group in np.flatnonzero(slow_groups):
        acc = None
        for row in range(int(g.first[group]), int(g.last[group]) + 1):   # Java may raise early
            value = column_values[row]
            if s.reset[row]:
                acc = value
            elif s.insert[row]:
                acc = value if acc is None else (acc if value is None else _mul(acc, value, t))
            elif spec.ignore_retract:
                continue
            elif acc is not None and value is not None:
                acc = _div(acc, value, t)
        values[group] = acc
    return pa.array(values, type=result.type)


@aggregator("min", "max")
def _min_max_bool(agg: Aggregation, spec: FieldSpec, column: pa.ChunkedArray, retracts: bool) -> pa.Array | None:
    f = spec.function
    if _numpy_kind(spec.data_type):
        # Float.compare: NaN is the greatest value, so max keeps NaN and min skips it
        op = {"min": np.fmin, "max": np.maximum, "bool_and": np.logical_and,
              "bool_or": np.logical_or}[f]
        return agg.reduce(column, agg.accumulating, op, None)
    function = {"bool_and": "all", "bool_or": "any"}.get(f, f)
    out = agg.group_by(agg.masked(column, agg.accumulating), function,
                       pc.ScalarAggregateOptions(skip_nulls=True, min_count=1))
    agg.finishers[spec.name] = lambda r: r.column(out).combine_chunks()
    return None


@aggregator("last_value", retractable=True)
def _last_value(agg: Aggregation, spec: FieldSpec, column: pa.ChunkedArray, retracts: bool) -> pa.Array:
    g, s = agg.groups, agg.state
    if retracts:
        # FieldLastValueAgg.retract -> null
        return take_rows(column, g.last, s.retract[g.last])
    rows = g.last_where(agg.accumulating)
    return take_rows(column, rows, rows < 0)


@aggregator("last_non_null_value", retractable=True)
def _last_non_null_value(agg: Aggregation, spec: FieldSpec, column: pa.ChunkedArray,
                         retracts: bool) -> pa.Array:
    g, s = agg.groups, agg.state
    valid = valid_mask(column)
    if retracts:
        # FieldLastNonNullValueAgg.retract: a non-null retraction nulls the field
        rows = g.last_where(s.seg(valid))
        missing = rows < 0
        missing |= s.retract[np.where(missing, 0, rows)]
        return take_rows(column, rows, missing)
    rows = g.last_where(agg.accumulating & valid)
    return take_rows(column, rows, rows < 0)


@aggregator("first_value", "first_non_null_value", "first_not_null_value")
def _first_value(agg: Aggregation, spec: FieldSpec, column: pa.ChunkedArray, retracts: bool) -> pa.Array:
    g = agg.groups
    # The reset -D counts as the first agg() input (see the package docstring).
    mask = agg.accumulating
    if spec.function == "first_non_null_value":
        mask = mask & valid_mask(column)
    rows = g.first_where(mask)
    return take_rows(column, rows, rows >= g.n)


@aggregator("listagg")
def _listagg(agg: Aggregation, spec: FieldSpec, column: pa.ChunkedArray, retracts: bool) -> pa.Array:
    g, s = agg.groups, agg.state
    blank = pc.fill_null(pc.match_substring_regex(column, _BLANK_REGEX), True)
    nonblank = ~blank.to_numpy(zero_copy_only=False).astype(bool) & agg.accumulating
    rows = np.flatnonzero(nonblank)
    present, joined = _join_runs(column, rows, g.gid[rows], spec.delimiter)
    position = np.full(g.count, -1, dtype=np.int64)
    position[present] = np.arange(len(present))
    none = position < 0
    out = joined.take(pa.array(np.where(none, 0, position), mask=none)) if len(joined) \
        else pa.nulls(g.count, column.type)
    if (none & s.has_reset).any():
        # only blank values after the reset: the accumulator keeps the reset row's value
        reset_values = take_rows(column, s.segment_start, ~s.has_reset)
        out = pc.if_else(pa.array(none & s.has_reset), reset_values, out)
    return out.cast(column.type)


aggregator("bool_and", "bool_or")(_min_max_bool)


@aggregator("primary-key", retractable=True)
def _primary_key(agg: Aggregation, spec: FieldSpec, column: pa.ChunkedArray, retracts: bool) -> pa.Array:
    return take_rows(column, agg.groups.last)


INTERNAL_AGGREGATES = ("primary-key",)
SUPPORTED_AGGREGATES = tuple(name for name in AGGREGATORS if name not in INTERNAL_AGGREGATES)
# Functions Paimon has but paimon_py does not implement (yet): NotImplementedError, not ValueError.
PAIMON_ONLY_AGGREGATES = ("collect", "merge_map", "merge_map_with_keytime", "nested_update",
                          "nested_partial_update", "hll_sketch", "theta_sketch", "rbm32", "rbm64",
                          "primary-key")


def check_aggregate_name(function: str, field: str) -> None:
    if function in SUPPORTED_AGGREGATES:
        return
    if function in PAIMON_ONLY_AGGREGATES:
        raise UnsupportedFeatureError(
            f"Aggregate function '{function}' (option 'fields.{field}.aggregate-function' or "
            f"'fields.default-aggregate-function') is not supported by paimon_py yet; supported: "
            f"{', '.join(SUPPORTED_AGGREGATES)}.")
    raise OptionError(
        f"Use unsupported aggregation: '{function}' for field '{field}' (option "
        f"'fields.{field}.aggregate-function' or 'fields.default-aggregate-function'); legal "
        f"values: {', '.join(SUPPORTED_AGGREGATES + PAIMON_ONLY_AGGREGATES)}.")


def _option_hint(name: str) -> str:
    return f" (option 'fields.{name}.aggregate-function' or 'fields.default-aggregate-function')"


def check_aggregate_type(spec: FieldSpec) -> None:
    t, f, name = spec.data_type, spec.function, spec.name
    if f in ("sum", "product") and not isinstance(t, NUMERIC_TYPES):
        raise OptionError(f"Data type for {f} column '{name}' must be 'NumericType' but was '{t}'"
                          f"{_option_hint(name)}.")
    if f in ("bool_and", "bool_or") and not isinstance(t, BooleanType):
        raise OptionError(f"Data type for {f} column '{name}' must be 'BooleanType' but was '{t}'"
                          f"{_option_hint(name)}.")
    if f == "listagg" and not (isinstance(t, VarCharType) and t.length == MAX_LENGTH):
        raise OptionError(f"Data type for list agg column '{name}' must be STRING (unbounded "
                          f"VARCHAR) but was '{t}'{_option_hint(name)}.")
    if f in ("min", "max") and isinstance(t, (ArrayType, MapType, MultisetType, RowType)):
        raise OptionError(f"Data type for {f} column '{name}' must be comparable but was '{t}'"
                          f"{_option_hint(name)}.")


def _join_runs(column, rows: np.ndarray, run_ids: np.ndarray, delimiter: str):
    """Concatenate ``column[rows]`` per run of equal ``run_ids`` with ``delimiter``.

    The runs are contiguous, so a ``ListArray`` over the selected strings with the run starts as
    offsets plus ``binary_join`` does it (~21 ms for 700k strings; a numpy byte gather took
    ~60 ms and ``group_by().aggregate(hash_list)`` ~160 ms). Returns (run ids, joined strings)."""
    if not len(rows):
        return np.empty(0, dtype=np.int64), pa.array([], column.type)
    selected = column.take(pa.array(rows))
    selected = selected.combine_chunks() if isinstance(selected, pa.ChunkedArray) else selected
    first = np.ones(len(rows), dtype=bool)
    first[1:] = run_ids[1:] != run_ids[:-1]
    run_starts = np.flatnonzero(first)
    offsets = pa.array(np.append(run_starts, len(rows)).astype(np.int32))
    lists = pa.ListArray.from_arrays(offsets, selected)
    return run_ids[run_starts], pc.binary_join(lists, delimiter)


def _largest_group(groups: Groups) -> int:
    return int(groups.size.max()) if groups.count else 0


def _numpy_kind(t: DataType) -> bool:
    return type(t) in INT_RANGES or isinstance(t, (FloatType, DoubleType, BooleanType))


def _fit(result: pa.Array, t: DataType, name: str, what: str, check) -> pa.Array:
    """Bring a widened sum/product back to the column type (Java raises on integer overflow)."""
    if isinstance(t, DecimalType):
        limit = decimal.Decimal(10) ** (t.precision - t.scale)
        overflow = pc.fill_null(pc.greater_equal(pc.abs(result), pa.scalar(limit, result.type)),
                                False)
        result = pc.if_else(overflow, pa.scalar(None, result.type), result)
        return result.cast(pa.decimal128(t.precision, t.scale))
    if type(t) in INT_RANGES:
        low, high = INT_RANGES[type(t)]
        values = result
        if check is not None:
            values = pc.fill_null(check, 0.0).to_numpy(zero_copy_only=False)
            if (np.abs(values) >= 2.0 ** 63).any():
                raise OverflowError(f"{type(t).__name__} overflow in {what} of field '{name}'.")
        if not isinstance(t, BigIntType):
            lo, hi = pc.min_max(result).values()
            if lo.is_valid and (lo.as_py() < low or hi.as_py() > high):
                raise OverflowError(f"{type(t).__name__} overflow in {what} of field '{name}'.")
        return result
    return result


def _mul(a, b, t: DataType):
    if isinstance(t, DecimalType):
        return _round_decimal(a * b, t)
    if type(t) in INT_RANGES:
        value = a * b
        low, high = INT_RANGES[type(t)]
        if not low <= value <= high:
            raise OverflowError(f"{type(t).__name__} overflow: {a} * {b}")
        return value
    return a * b


def _div(a, b, t: DataType):
    if isinstance(t, DecimalType):
        return _round_decimal(a / b, t)
    if type(t) in INT_RANGES:
        if b == 0:
            raise ZeroDivisionError(f"/ by zero in product retraction ({a} / {b})")
        quotient = abs(a) // abs(b)               # Java truncates toward zero
        return quotient if (a >= 0) == (b >= 0) else -quotient
    if b == 0:                                    # Java double division
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _round_decimal(value: decimal.Decimal, t: DecimalType):
    """``Decimal.fromBigDecimal``: HALF_UP to the scale, null when the precision overflows."""
    with decimal.localcontext() as ctx:
        ctx.prec = 80
        rounded = value.quantize(decimal.Decimal(1).scaleb(-t.scale),
                                 rounding=decimal.ROUND_HALF_UP)
    if len(rounded.as_tuple().digits) > t.precision and rounded != 0:
        return None
    return rounded
