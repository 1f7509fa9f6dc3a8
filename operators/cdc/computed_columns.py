"""Columns a CDC job adds to what the source sends, as Paimon's CDC actions do:

* ``--computed_column 'name=function(column[, args])'``: ``year``, ``month``, ``day``, ``hour``,
  ``minute``, ``second``, ``date_format(col, 'yyyy-MM-dd')`` (Java pattern letters y M d H m s),
  ``substring(col, begin[, end])`` (0-based, end exclusive), ``truncate(col, width)`` (integers
  to multiples of width, strings to their first width characters), ``upper``, ``lower``, ``trim``;
* ``--metadata_column table_name,database_name,schema_name,op_ts``: where a row came from, and
  when its transaction committed (``op_ts``, 0 for snapshot rows, as in Paimon).

All vectorised with pyarrow.compute over a batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from operators.cdc.errors import UserError
from paimon_py.types import (BigIntType, DataType, DateType, IntType, LocalZonedTimestampType, TimestampType,
                             VarCharType, to_arrow_type)

METADATA_COLUMNS = ("table_name", "database_name", "schema_name", "op_ts")


class InvalidColumnSpec(UserError, ValueError):
    """A computed or metadata column that cannot be made."""


@dataclass(frozen=True)
class RowOrigin:
    """Where the rows of a batch came from (for metadata columns)."""

    database: str
    schema: str
    table: str
    op_ts_ms: pa.Array
    """Commit time per row, ms since the epoch (0 for snapshot rows)."""


@dataclass(frozen=True)
class ExtraColumn:
    name: str
    data_type: DataType
    compute: Callable[[pa.Table, RowOrigin], pa.Array]
    """(the batch's source columns, row origin) -> values."""


def metadata_column(name: str) -> ExtraColumn:
    if name not in METADATA_COLUMNS:
        raise InvalidColumnSpec(f"--metadata_column {name}: unknown — use one of {', '.join(METADATA_COLUMNS)}")
    if name == "op_ts":
        return ExtraColumn(name, LocalZonedTimestampType(3, nullable=False),
                           lambda rows, origin: origin.op_ts_ms.cast(pa.timestamp("ms", tz="UTC")))
    attribute = {"table_name": "table", "database_name": "database", "schema_name": "schema"}[name]
    return ExtraColumn(name, VarCharType(nullable=False),
                       lambda rows, origin: pa.array([getattr(origin, attribute)] * rows.num_rows, pa.string()))


_CALL = re.compile(r"^\s*(\w+)\s*=\s*(\w+)\s*\((.*)\)\s*$")


def computed_column(spec: str, source_types: Mapping[str, DataType]) -> ExtraColumn:
    """``name=function(column, args...)`` over the source's columns (their Paimon types)."""
    match = _CALL.match(spec)
    if not match:
        raise InvalidColumnSpec(f"--computed_column {spec!r}: not understood — write name=function(column[, args])")
    name, function, raw_args = match.groups()
    args = [a.strip().strip("'\"") for a in raw_args.split(",")] if raw_args.strip() else []
    if not args or args[0] not in source_types:
        raise InvalidColumnSpec(f"--computed_column {spec!r}: the first argument is not a source column — use one of "
                                f"{', '.join(source_types)}")
    column, rest = args[0], args[1:]
    maker = _FUNCTIONS.get(function.lower())
    if maker is None:
        raise InvalidColumnSpec(f"--computed_column {spec!r}: unknown function {function} — use one of "
                                f"{', '.join(sorted(_FUNCTIONS))}")
    data_type, compute = maker(column, source_types[column], rest, spec)
    return ExtraColumn(name, data_type, lambda rows, origin: compute(rows.column(column)))


def _part(component: str):
    def make(column, source_type, rest, spec):
        _require_temporal(source_type, spec)
        return IntType(), lambda values: getattr(pc, component)(values).cast(pa.int32())
    return make


def _require_temporal(source_type: DataType, spec: str) -> None:
    if not isinstance(source_type, (DateType, TimestampType, LocalZonedTimestampType)):
        raise InvalidColumnSpec(f"--computed_column {spec!r}: the column is a {source_type} — use a DATE or TIMESTAMP column")


_JAVA_PATTERN = [("yyyy", "%Y"), ("yy", "%y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"),
                 ("ss", "%S")]


def _date_format(column, source_type, rest, spec):
    if len(rest) != 1:
        raise InvalidColumnSpec(f"--computed_column {spec!r}: a pattern is missing — write date_format(column, 'pattern')")
    _require_temporal(source_type, spec)
    pattern = rest[0]
    for java, strf in _JAVA_PATTERN:
        pattern = pattern.replace(java, strf)
    return VarCharType(), lambda values: pc.strftime(values, format=pattern)


def _substring(column, source_type, rest, spec):
    begin = int(rest[0]) if rest else 0
    end = int(rest[1]) if len(rest) > 1 else None
    return VarCharType(), lambda values: pc.utf8_slice_codeunits(values.cast(pa.string()), begin, end)


def _truncate(column, source_type, rest, spec):
    if len(rest) != 1:
        raise InvalidColumnSpec(f"--computed_column {spec!r}: a width is missing — write truncate(column, width)")
    width = int(rest[0])

    def compute(values):
        if pa.types.is_integer(values.type):
            numbers = values.to_numpy(zero_copy_only=False)
            mask = values.is_null().to_numpy(zero_copy_only=False)
            out = np.where(mask, 0, numbers - np.mod(numbers, width))
            return pa.array(out, values.type, mask=mask)
        return pc.utf8_slice_codeunits(values.cast(pa.string()), 0, width)
    data_type = source_type.copy(True) if isinstance(source_type, (IntType, BigIntType)) else VarCharType()
    return data_type, compute


def _string_function(name):
    def make(column, source_type, rest, spec):
        return VarCharType(), lambda values: getattr(pc, name)(values.cast(pa.string()))
    return make


_FUNCTIONS = {
    "year": _part("year"), "month": _part("month"), "day": _part("day"), "hour": _part("hour"),
    "minute": _part("minute"), "second": _part("second"), "date_format": _date_format,
    "substring": _substring, "truncate": _truncate, "upper": _string_function("utf8_upper"),
    "lower": _string_function("utf8_lower"), "trim": _string_function("utf8_trim_whitespace"),
}


def arrow_field(column: ExtraColumn) -> pa.Field:
    return pa.field(column.name, to_arrow_type(column.data_type), column.data_type.nullable)
