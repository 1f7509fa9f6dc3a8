"""Paimon's merge engines (option ``merge-engine``), vectorised over Arrow tables.

``create_merge_function(schema).merge(table)`` folds the records of each key into one record, the
way Paimon Java's ``MergeFunction`` wrapped in ``ReducerMergeFunctionWrapper`` does in the write
buffer, in compaction and on read (format §6.3).

Input: a table sorted by the trimmed primary key and, within a key, by record order (the
``sequence.field`` values, then ``_SEQUENCE_NUMBER``; older first), holding every table column
(any column order), ``_SEQUENCE_NUMBER`` (int64) and ``_VALUE_KIND`` (int8: 0 +I, 1 -U, 2 +U,
3 -D). Output: the same schema, sorted by key, one row per key: the merged record, its
``_SEQUENCE_NUMBER`` and its ``_VALUE_KIND`` (a -D result is kept: a merge at a non-last level
must still shadow older levels; readers and full compactions drop -U/-D results).

Semantics (read from Paimon Java master, cited per engine below):

* A key with exactly one record is returned unchanged (``ReducerMergeFunctionWrapper`` calls the
  merge function only from the second record on): a lone -U stays a -U, a lone +U stays a +U and
  a lone -D never raises, whatever the engine's delete options.
* ``ignore-delete`` (and its fallback keys ``deduplicate.ignore-delete``,
  ``partial-update.ignore-delete``, ``first-row.ignore-delete``): -U/-D records are dropped before
  merging (Java writers drop them before they reach a file; the merge functions also skip them).
  A key whose records are all dropped produces no output row.
* ``deduplicate`` (``DeduplicateMergeFunction``): the last record, whatever its kind.
* ``first-row`` (``FirstRowMergeFunction``): the first record; a -U/-D in a key with several
  records raises unless ``ignore-delete``. ``sequence.field`` is refused (``SchemaValidation``).
* ``partial-update`` (``PartialUpdateMergeFunction`` without sequence groups): each field takes the
  last non-null value; the result's sequence number is the last record's; its kind is +I, or -D
  when the last record is a -D (with ``partial-update.remove-record-on-delete``) or when the key
  saw no +I/+U. Retractions raise unless ``ignore-delete`` or
  ``partial-update.remove-record-on-delete``; with the latter a -D *replaces the row by the -D's
  own values* (Java's ``initRow``: later records overlay their non-null fields on the -D's
  values, they do not start from an empty row), a -U is ignored except that, as the first record
  of a merge, it seeds the row with its values (Java's ``notNullColumnFilled`` path). The result
  is -D when no +I/+U follows the last -D (Java looks at +I/+U anywhere in the merge, so a -U
  right after a -D would turn the deleted row into +I, but only within one merge).
* ``aggregation`` (``AggregateMergeFunction`` + ``FieldAggregator`` subclasses): per field
  ``fields.<f>.aggregate-function``, else ``fields.default-aggregate-function``, else
  ``last_non_null_value``; primary-key fields take the last record's value (``primary-key``) and
  ``sequence.field`` fields use ``last_value``. -U/-D records are *retracted*: ``sum`` subtracts,
  ``product`` divides, ``last_value`` becomes null, ``last_non_null_value`` becomes null when the
  retracted value is non-null; the other functions raise unless ``fields.<f>.ignore-retract``
  (then the retraction is skipped). With ``aggregation.remove-record-on-delete`` a -D replaces the
  row by the -D's own values (later records aggregate onto them, as in Java) and the result is a
  -D when the last record is a -D. Paimon has no ``count`` aggregate function (there is no
  ``FieldCountAgg``), so none is offered here.

Associativity: for consecutive records ``a`` (older) and ``b``,
``merge(merge(a) ++ b) == merge(a ++ b)`` (tests/test_merge_function.py checks it with
hypothesis). Two places where Java itself is not associative were resolved in favour of
associativity: (1) Java's ``first_value``/``first_non_null_value`` keep an ``initialized`` flag
that a -D (``aggregation.remove-record-on-delete``) neither sets nor resets, so a -D after an
insert in the same merge pins the -D's value while the same -D at the head of a later merge does
not; here the -D's values always count as the first input (Java's result when an insert precedes
the -D in the same merge). (2) partial-update with ``remove-record-on-delete``: see below. One
Java non-associativity is kept: a merge of only retractions yields +I (``AggregateMergeFunction``),
which a later ``first_value`` takes as the first value. Merging a *middle*
run (older data, then ``merge(a)``, then newer data) is associative too, except where Java's
design is not: partial-update/aggregation with retractions (a merged +I cannot carry "reset
before overlay" or "retract"), exactly as in Java's LSM.

Performance (``benchmarks/bench_merge_function.py``: 1,000,000 sorted rows over 200,000 keys,
5 value columns BIGINT/BIGINT/DOUBLE/STRING/BOOLEAN with 30% nulls; pyarrow CPU threads = 1;
2-core Xeon, shared)::

    case                                              ms    rows/s   / baseline
    baseline: sort_indices + take (shuffled input)   247     4.0 M     1.00
    deduplicate                                       26    38.9 M     0.10
    first-row                                         26    38.6 M     0.10
    partial-update                                    68    14.8 M     0.27
    partial-update, 10% -D, remove-record-on-delete   89    11.2 M     0.36
    aggregation, last_non_null_value (default)        79    12.7 M     0.32
    aggregation, sum/max/sum/listagg/bool_or         167     6.0 M     0.68
    same with 10% -U retracted                       173     5.8 M     0.70

Measured choices (per 1M-row column): group boundaries with numpy over adjacent key values
(0.4 ms) rather than ``pc.not_equal`` (1.7 ms); first/last(-non-null) values by picking one row
index per group with ``np.maximum/minimum.reduceat`` and one ``take`` (~7 ms) rather than
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
from typing import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paimon_py.exceptions import InvalidDataError, OptionError, UnsupportedFeatureError
from paimon_py.io.key_value import VALUE_KIND
from paimon_py.schema.table_schema import TableSchema
from paimon_py.types import (BigIntType, BooleanType, DataType, DecimalType, DoubleType,
                             FloatType, IntType, SmallIntType, TinyIntType, VarCharType,
                             ArrayType, MapType, MultisetType, RowType, MAX_LENGTH)

INSERT, UPDATE_BEFORE, UPDATE_AFTER, DELETE = 0, 1, 2, 3

MERGE_ENGINES = ("deduplicate", "partial-update", "aggregation", "first-row")

SUPPORTED_AGGREGATES = ("sum", "product", "min", "max", "last_value", "last_non_null_value",
                        "first_value", "first_non_null_value", "first_not_null_value", "listagg",
                        "bool_and", "bool_or")
# Functions Paimon has but paimon_py does not implement (yet): NotImplementedError, not ValueError.
PAIMON_ONLY_AGGREGATES = ("collect", "merge_map", "merge_map_with_keytime", "nested_update",
                          "nested_partial_update", "hll_sketch", "theta_sketch", "rbm32", "rbm64",
                          "primary-key")
# FieldAggregator subclasses overriding retract(): the rest throw unless ignore-retract.
RETRACTABLE = ("sum", "product", "last_value", "last_non_null_value", "primary-key")

NUMERIC_TYPES = (TinyIntType, SmallIntType, IntType, BigIntType, FloatType, DoubleType, DecimalType)
INT_RANGES = {TinyIntType: (-2**7, 2**7 - 1), SmallIntType: (-2**15, 2**15 - 1),
              IntType: (-2**31, 2**31 - 1), BigIntType: (-2**63, 2**63 - 1)}

# Java's Character.isWhitespace (StringUtils.isBlank in FieldListaggAgg): ASCII controls
# \t \n \x0B \f \r \x1C-\x1F, and Unicode space/line/paragraph separators except the no-break
# spaces U+00A0, U+2007 and U+202F.
_BLANK_REGEX = ("^[\\t\\n\\x0B\\f\\r\\x1C-\\x1F \\x{1680}\\x{2000}-\\x{2006}\\x{2008}-\\x{200A}"
                "\\x{2028}\\x{2029}\\x{205F}\\x{3000}]*$")

_PU_DELETE_MESSAGE = (
    "By default, Partial update can not accept delete records, you can choose one of the "
    "following solutions:\n"
    "1. Configure 'ignore-delete' to ignore delete records.\n"
    "2. Configure 'partial-update.remove-record-on-delete' to remove the whole row when "
    "receiving delete records.\n"
    "3. Configure 'sequence-group's to retract partial columns (not supported by paimon_py yet).")
_FIRST_ROW_DELETE_MESSAGE = (
    "By default, First row merge engine can not accept DELETE/UPDATE_BEFORE records.\n"
    "You can config 'ignore-delete' to ignore the DELETE/UPDATE_BEFORE records.")


# --- options --------------------------------------------------------------------------------

def _bool_option(options: dict[str, str], key: str, default: bool = False,
                 fallbacks: Sequence[str] = ()) -> bool:
    for k in (key, *fallbacks):
        if k in options:
            text = str(options[k]).strip().lower()
            if text not in ("true", "false"):
                raise OptionError(f"Invalid value {options[k]!r} for table option '{k}': "
                                  f"expected true or false.")
            return text == "true"
    return default


def _ignore_delete(options: dict[str, str]) -> bool:
    # CoreOptions.IGNORE_DELETE with its fallback keys.
    return _bool_option(options, "ignore-delete", fallbacks=(
        "first-row.ignore-delete", "deduplicate.ignore-delete", "partial-update.ignore-delete"))


# --- groups of equal keys ---------------------------------------------------------------------

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
        self.gid = np.cumsum(starts) - 1                          # group of each row
        self.index = np.arange(n)
        self.starts = starts

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


def _valid(column: pa.ChunkedArray) -> np.ndarray:
    if column.null_count == 0:
        return np.ones(len(column), dtype=bool)
    return pc.is_valid(column).to_numpy(zero_copy_only=False).astype(bool)


def _take(column: pa.ChunkedArray, rows: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """``column[rows]``, null where ``missing``."""
    if missing is not None and missing.any():
        indices = pa.array(np.where(missing, 0, rows), mask=missing)
    else:
        indices = pa.array(rows)
    result = column.take(indices)
    return result.combine_chunks() if isinstance(result, pa.ChunkedArray) else result


def _kinds(table: pa.Table) -> np.ndarray:
    return table.column(VALUE_KIND).to_numpy().astype(np.int8, copy=False)


def _drop_retractions(table: pa.Table) -> pa.Table:
    kinds = _kinds(table)
    keep = (kinds == INSERT) | (kinds == UPDATE_AFTER)
    return table if keep.all() else table.filter(pa.array(keep))


def _assemble(table: pa.Table, base_rows: np.ndarray, replaced: dict[str, pa.Array]) -> pa.Table:
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


# --- merge functions ------------------------------------------------------------------------

class MergeFunction:
    """Folds the records of each key (one instance per table schema; stateless between calls)."""

    engine = ""

    def __init__(self, schema: TableSchema):
        self.schema = schema
        self.key_names = list(schema.trimmed_primary_keys)
        self.options = dict(schema.options)
        self.ignore_delete = _ignore_delete(self.options)

    def merge(self, table: pa.Table) -> pa.Table:
        if self.ignore_delete:
            table = _drop_retractions(table)
        if table.num_rows == 0:
            return table
        return self._merge(table, Groups(table, self.key_names))

    def _merge(self, table: pa.Table, groups: Groups) -> pa.Table:
        raise NotImplementedError


class DeduplicateMergeFunction(MergeFunction):
    """``DeduplicateMergeFunction``: the latest record wins, whatever its kind."""

    engine = "deduplicate"

    def _merge(self, table, groups):
        if groups.count == table.num_rows:
            return table
        return table.filter(pa.array(np.append(groups.starts[1:], True)))


class FirstRowMergeFunction(MergeFunction):
    """``FirstRowMergeFunction``: the earliest record wins; retractions are refused."""

    engine = "first-row"

    def __init__(self, schema):
        super().__init__(schema)
        if schema.core_options.sequence_field:
            raise OptionError("Do not support use sequence field on FIRST_ROW merge engine: remove "
                              "option 'sequence.field' or use another 'merge-engine'.")

    def _merge(self, table, groups):
        if groups.count == table.num_rows:
            return table
        if not self.ignore_delete:
            kinds = _kinds(table)
            retract = (kinds == UPDATE_BEFORE) | (kinds == DELETE)
            if (retract & groups.per_row(groups.size >= 2)).any():
                raise InvalidDataError(_FIRST_ROW_DELETE_MESSAGE)
        return table.filter(pa.array(groups.starts))


class _RowState:
    """Row masks shared by partial-update and aggregation."""

    def __init__(self, table: pa.Table, groups: Groups, remove_on_delete: bool):
        kinds = self.kinds = _kinds(table)
        self.insert = (kinds == INSERT) | (kinds == UPDATE_AFTER)
        delete = kinds == DELETE
        self.reset = delete if remove_on_delete else np.zeros(len(kinds), dtype=bool)
        self.retract = ~self.insert & ~self.reset          # retractions that are not row resets
        self.multi = groups.size >= 2
        # A reset (-D with remove-record-on-delete) replaces the row: only the last reset of a
        # group and what follows matter ("the segment").
        last_reset = groups.last_where(self.reset) if self.reset.any() else None
        if last_reset is not None and (last_reset >= 0).any():
            self.has_reset = last_reset >= 0
            self.segment_start = np.where(self.has_reset, last_reset, groups.first)
            self.in_segment = groups.index >= groups.per_row(self.segment_start)
        else:
            self.has_reset = np.zeros(groups.count, dtype=bool)
            self.segment_start = groups.first
            self.in_segment = None

    def seg(self, mask: np.ndarray) -> np.ndarray:
        return mask if self.in_segment is None else mask & self.in_segment


class PartialUpdateMergeFunction(MergeFunction):
    """``PartialUpdateMergeFunction`` without sequence groups: last non-null value per field."""

    engine = "partial-update"

    def __init__(self, schema):
        super().__init__(schema)
        opts = self.options
        for key in opts:
            if key.startswith("fields.") and key.endswith(".sequence-group"):
                raise UnsupportedFeatureError(
                    f"Option '{key}' (partial-update sequence groups) is not supported by "
                    f"paimon_py yet; remove it.")
        if "partial-update.remove-record-on-sequence-group" in opts:
            raise UnsupportedFeatureError(
                "Option 'partial-update.remove-record-on-sequence-group' needs sequence groups, "
                "which paimon_py does not support yet; remove it.")
        self.remove_on_delete = _bool_option(opts, "partial-update.remove-record-on-delete")
        if self.remove_on_delete and self.ignore_delete:
            raise OptionError("ignore-delete and partial-update.remove-record-on-delete have "
                              "conflicting behavior so should not be enabled at the same time.")
        primary_keys = set(schema.primary_keys)
        for name in schema.field_names:
            if name in primary_keys:
                continue
            function = opts.get(f"fields.{name}.aggregate-function",
                                opts.get("fields.default-aggregate-function"))
            if function is not None:
                _check_aggregate_name(function.strip(), name)
                if function.strip() != "last_non_null_value":
                    raise OptionError(
                        f"Must use sequence group for aggregation functions but not found for "
                        f"field {name}: partial-update without 'fields.<f>.sequence-group' only "
                        f"allows 'last_non_null_value' (option 'fields.{name}.aggregate-function' "
                        f"or 'fields.default-aggregate-function').")
        self.not_null = [f.name for f in schema.fields if not f.type.nullable]

    def _merge(self, table, groups):
        if groups.count == table.num_rows:
            return table
        state = _RowState(table, groups, self.remove_on_delete)
        multi_rows = groups.per_row(state.multi)
        if not self.remove_on_delete and (state.retract & multi_rows).any():
            raise InvalidDataError(_PU_DELETE_MESSAGE)
        for name in self.not_null:
            if table.column(name).null_count:
                raise InvalidDataError(f"Field {name} can not be null (it is NOT NULL in the schema).")
        # Rows whose non-null fields overlay the row: inserts, the reset -D, and a leading -U
        # (Java initialises the row from the first record even when it is a retraction).
        contributes = state.seg(state.insert | state.reset
                                | (groups.starts & (state.kinds == UPDATE_BEFORE))) | ~multi_rows
        replaced = {}
        for name in self.schema.field_names:
            column = table.column(name)
            if column.null_count == 0 and self.remove_on_delete is False:
                continue                       # every row contributes: the last row's value
            rows = groups.last_where(contributes & _valid(column))
            replaced[name] = _take(column, rows, rows < 0)
        # Java: DELETE when the last record is a -D or no +I/+U was seen in the whole merge. A -U
        # right after a -D would then turn the deleted row into +I in one merge but not when the
        # -D was merged earlier; we count only +I/+U after the last -D (associative, and equal
        # to Java whenever no -U directly follows a -D).
        last_kinds = state.kinds[groups.last]
        saw_insert = groups.any(state.seg(state.insert))
        kinds = np.where(~saw_insert, DELETE, INSERT).astype(np.int8)
        replaced[VALUE_KIND] = pa.array(np.where(state.multi, kinds, last_kinds).astype(np.int8))
        return _assemble(table, groups.last, replaced)


# --- aggregation ----------------------------------------------------------------------------

def _check_aggregate_name(function: str, field: str) -> None:
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


@dataclass(frozen=True)
class FieldSpec:
    name: str
    function: str
    data_type: DataType
    ignore_retract: bool = False
    delimiter: str = ","


def _OPT(name: str) -> str:
    return f" (option 'fields.{name}.aggregate-function' or 'fields.default-aggregate-function')"


def _check_aggregate_type(spec: FieldSpec) -> None:
    t, f, name = spec.data_type, spec.function, spec.name
    if f in ("sum", "product") and not isinstance(t, NUMERIC_TYPES):
        raise OptionError(f"Data type for {f} column '{name}' must be 'NumericType' but was '{t}'"
                          f"{_OPT(name)}.")
    if f in ("bool_and", "bool_or") and not isinstance(t, BooleanType):
        raise OptionError(f"Data type for {f} column '{name}' must be 'BooleanType' but was '{t}'"
                          f"{_OPT(name)}.")
    if f == "listagg" and not (isinstance(t, VarCharType) and t.length == MAX_LENGTH):
        raise OptionError(f"Data type for list agg column '{name}' must be STRING (unbounded "
                          f"VARCHAR) but was '{t}'{_OPT(name)}.")
    if f in ("min", "max") and isinstance(t, (ArrayType, MapType, MultisetType, RowType)):
        raise OptionError(f"Data type for {f} column '{name}' must be comparable but was '{t}'"
                          f"{_OPT(name)}.")


class AggregateMergeFunction(MergeFunction):
    """``AggregateMergeFunction``: one ``FieldAggregator`` per field."""

    engine = "aggregation"

    def __init__(self, schema):
        super().__init__(schema)
        opts = self.options
        self.remove_on_delete = _bool_option(opts, "aggregation.remove-record-on-delete")
        sequence_fields = schema.core_options.sequence_field
        primary_keys = set(schema.primary_keys)
        default = opts.get("fields.default-aggregate-function")
        self.specs: list[FieldSpec] = []
        for f in schema.fields:
            name = f.name
            explicit = opts.get(f"fields.{name}.aggregate-function")
            if name in sequence_fields:
                if explicit is not None:
                    raise OptionError(f"Should not define aggregation on sequence field: '{name}' "
                                      f"(remove option 'fields.{name}.aggregate-function').")
                function = "last_value"           # AggregateMergeFunction.getAggFuncName
            elif name in primary_keys:
                function = "primary-key"
            else:
                function = (explicit if explicit is not None else default) or "last_non_null_value"
                function = function.strip()
                _check_aggregate_name(function, name)
                if function == "first_not_null_value":          # legacy factory name
                    function = "first_non_null_value"
            ignore_retract = _bool_option(opts, f"fields.{name}.ignore-retract")
            if ignore_retract and self.remove_on_delete:
                raise OptionError(f"aggregation.remove-record-on-delete and fields.{name}."
                                  f"ignore-retract have conflicting behavior so should not be "
                                  f"enabled at the same time.")
            if function == "listagg" and _bool_option(opts, f"fields.{name}.distinct"):
                raise UnsupportedFeatureError(f"Option 'fields.{name}.distinct'=true for listagg is "
                                              f"not supported by paimon_py yet; remove it.")
            spec = FieldSpec(name, function, f.type, ignore_retract,
                             opts.get(f"fields.{name}.list-agg-delimiter", ","))
            _check_aggregate_type(spec)
            self.specs.append(spec)

    def _merge(self, table, groups):
        if groups.count == table.num_rows:
            return table
        state = _RowState(table, groups, self.remove_on_delete)
        multi_rows = groups.per_row(state.multi)
        retracting_rows = state.retract & multi_rows
        any_retraction = bool(retracting_rows.any())
        if any_retraction:
            for spec in self.specs:
                if spec.function not in RETRACTABLE and not spec.ignore_retract:
                    raise InvalidDataError(
                        f"Aggregate function '{spec.function}' does not support retraction "
                        f"(field '{spec.name}' received a -U/-D record), If you allow this "
                        f"function to ignore retraction messages, you can configure "
                        f"'fields.{spec.name}.ignore-retract'='true'.")
        agg = _Aggregation(table, groups, state)
        replaced = {}
        for spec in self.specs:
            column = table.column(spec.name)
            retracts = any_retraction and spec.function in RETRACTABLE and not spec.ignore_retract
            replaced[spec.name] = agg.field(spec, column, retracts)
        results = agg.run_group_by()
        for name, finish in agg.finishers.items():
            replaced[name] = finish(results)
        single = pa.array(~state.multi)
        base = groups.last
        for spec in self.specs:                 # a lone record is passed through unchanged
            if not state.multi.all():
                merged = replaced[spec.name].cast(table.schema.field(spec.name).type)
                replaced[spec.name] = pc.if_else(single, _take(table.column(spec.name), base),
                                                 merged)
        last_kinds = state.kinds[base]
        kinds = np.where(self.remove_on_delete & (last_kinds == DELETE), DELETE, INSERT)
        replaced[VALUE_KIND] = pa.array(np.where(state.multi, kinds, last_kinds).astype(np.int8))
        return _assemble(table, base, replaced)


class _Aggregation:
    """Per-field aggregation of one ``merge`` call; ``group_by`` aggregates are batched."""

    def __init__(self, table: pa.Table, groups: Groups, state: _RowState):
        self.table, self.groups, self.state = table, groups, state
        self.gb_columns: list[pa.ChunkedArray | pa.Array] = []
        self.gb_aggregates: list[tuple[str, str, pc.FunctionOptions | None]] = []
        self.finishers: dict[str, Callable[[pa.Table], pa.Array]] = {}
        # rows whose value enters agg(): inserts and the reset -D of the segment
        self.accumulating = state.seg(state.insert | state.reset)

    def _group_by(self, column, function: str, options=None) -> str:
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

    def _masked(self, column, mask: np.ndarray):
        if mask.all():
            return column
        return pc.if_else(pa.array(mask), column, pa.scalar(None, column.type))

    def field(self, spec: FieldSpec, column: pa.ChunkedArray, retracts: bool) -> pa.Array | None:
        g, s = self.groups, self.state
        f = spec.function
        if f == "primary-key":
            return _take(column, g.last)
        if f == "last_value":
            if retracts:
                # FieldLastValueAgg.retract -> null
                return _take(column, g.last, s.retract[g.last])
            rows = g.last_where(self.accumulating)
            return _take(column, rows, rows < 0)
        if f == "last_non_null_value":
            valid = _valid(column)
            if retracts:
                # FieldLastNonNullValueAgg.retract: a non-null retraction nulls the field
                rows = g.last_where(s.seg(valid))
                missing = rows < 0
                missing |= s.retract[np.where(missing, 0, rows)]
                return _take(column, rows, missing)
            rows = g.last_where(self.accumulating & valid)
            return _take(column, rows, rows < 0)
        if f in ("first_value", "first_non_null_value"):
            # The reset -D counts as the first agg() input (see the module docstring).
            mask = self.accumulating
            if f == "first_non_null_value":
                mask = mask & _valid(column)
            rows = g.first_where(mask)
            return _take(column, rows, rows >= g.n)
        if f == "sum":
            return self._sum(spec, column, retracts)
        if f == "product":
            return self._product(spec, column, retracts)
        if f in ("min", "max", "bool_and", "bool_or") and _numpy_kind(spec.data_type):
            # Float.compare: NaN is the greatest value, so max keeps NaN and min skips it
            op = {"min": np.fmin, "max": np.maximum, "bool_and": np.logical_and,
                  "bool_or": np.logical_or}[f]
            return self._reduce(column, self.accumulating, op, None)
        if f in ("min", "max", "bool_and", "bool_or"):
            function = {"bool_and": "all", "bool_or": "any"}.get(f, f)
            out = self._group_by(self._masked(column, self.accumulating), function,
                                 pc.ScalarAggregateOptions(skip_nulls=True, min_count=1))
            self.finishers[spec.name] = lambda r: r.column(out).combine_chunks()
            return None
        if f == "listagg":
            return self._listagg(spec, column)
        raise AssertionError(f)

    def _reduce(self, column, mask, op, negate):
        """``op.reduceat`` over each group's rows in ``mask`` (nulls skipped; null if none)."""
        g = self.groups
        valid = _valid(column) & mask
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

    def _sum(self, spec, column, retracts):
        s = self.state
        t = spec.data_type
        if type(t) in INT_RANGES or isinstance(t, (FloatType, DoubleType)):
            wide = column.cast(pa.int64() if type(t) in INT_RANGES else pa.float64())
            mask, negate = self.accumulating, None
            if retracts:
                negate = s.seg(s.retract)
                mask = mask | negate
            result = self._reduce(wide, mask, np.add, negate)
            check = None
            if isinstance(t, BigIntType):
                low, high = pc.min_max(column).values()
                bound = max(abs(low.as_py() or 0), abs(high.as_py() or 0)) * int(g_max(self.groups))
                if bound >= 2**63:              # an overflow is possible: sum in double too
                    check = self._reduce(wide.cast(pa.float64()), mask, np.add, negate)
            return _fit(result, t, spec.name, "sum", check)
        if isinstance(t, DecimalType):
            wide = column.cast(pa.decimal128(38, t.scale))
        elif isinstance(t, (FloatType, DoubleType)):
            wide = column.cast(pa.float64())
        else:
            wide = column.cast(pa.int64())
        mask = self.accumulating
        if retracts:
            negate = s.seg(s.retract)
            wide = pc.if_else(pa.array(negate), pc.negate_checked(wide), wide)
            mask = mask | negate
        wide = self._masked(wide, mask)
        options = pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)
        out = self._group_by(wide, "sum", options)
        check = None
        if isinstance(t, BigIntType):
            check = self._group_by(wide.cast(pa.float64()), "sum", options)

        def finish(r):
            result = r.column(out).combine_chunks()
            return _fit(result, t, spec.name, "sum", r.column(check) if check else None)
        self.finishers[spec.name] = finish
        return None

    def _product(self, spec, column, retracts):
        s, g = self.state, self.groups
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
            result = self._reduce(wide, self.accumulating, np.multiply, None)
            check = None
            if type(t) in INT_RANGES:           # int64 products wrap: multiply in double too
                check = self._reduce(wide.cast(pa.float64()), self.accumulating, np.multiply, None)
            result = _fit(result, t, spec.name, "product", check)
        if slow_groups.any():
            result = self._sequential_product(spec, column, slow_groups, result)
        return result

    def _sequential_product(self, spec, column, slow_groups, result):
        """Java's FieldProductAgg step by step, for the groups that need it (rare)."""
        g, s = self.groups, self.state
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

    def _listagg(self, spec, column):
        g, s = self.groups, self.state
        blank = pc.fill_null(pc.match_substring_regex(column, _BLANK_REGEX), True)
        nonblank = ~blank.to_numpy(zero_copy_only=False).astype(bool) & self.accumulating
        rows = np.flatnonzero(nonblank)
        present, joined = _join_runs(column, rows, g.gid[rows], spec.delimiter)
        position = np.full(g.count, -1, dtype=np.int64)
        position[present] = np.arange(len(present))
        none = position < 0
        out = joined.take(pa.array(np.where(none, 0, position), mask=none)) if len(joined) \
            else pa.nulls(g.count, column.type)
        if (none & s.has_reset).any():
            # only blank values after the reset: the accumulator keeps the reset row's value
            reset_values = _take(column, s.segment_start, ~s.has_reset)
            out = pc.if_else(pa.array(none & s.has_reset), reset_values, out)
        return out.cast(column.type)


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


def g_max(groups: Groups) -> int:
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


# --- factory --------------------------------------------------------------------------------

_ENGINES = {"deduplicate": DeduplicateMergeFunction, "partial-update": PartialUpdateMergeFunction,
            "aggregation": AggregateMergeFunction, "first-row": FirstRowMergeFunction}


def create_merge_function(schema: TableSchema) -> MergeFunction:
    """The merge function of ``schema``'s ``merge-engine`` (Java's ``PrimaryKeyTableUtils``)."""
    engine = str(schema.options.get("merge-engine", "deduplicate")).strip().lower()
    if engine not in _ENGINES:
        raise OptionError(f"Invalid value {engine!r} for table option 'merge-engine'; legal "
                          f"values: {', '.join(MERGE_ENGINES)}.")
    if not schema.trimmed_primary_keys:
        raise OptionError("Merge engines apply to primary-key tables; the table has no primary key.")
    return _ENGINES[engine](schema)
