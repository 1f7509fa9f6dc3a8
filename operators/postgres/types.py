"""PostgreSQL column types -> Paimon types, and PostgreSQL text values -> Arrow arrays.

The type mapping follows Apache Paimon's PostgreSQL CDC (``PostgresTypeUtils``), see
:func:`paimon_type`. Values arrive in PostgreSQL's text output format (pgoutput 't' values and
``COPY ... (FORMAT csv)``) under the session settings ``DateStyle=ISO``, ``TimeZone=UTC``,
``IntervalStyle=postgres``, ``extra_float_digits=3``; :func:`text_column_to_arrow` converts a
column of them at once with ``pyarrow.compute`` (arrays are split per row in Python, their
elements converted together). Offsets other than UTC in timestamptz values are honoured too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from operators.cdc.errors import UserError
from paimon_py.types import (
    ArrayType, BigIntType, BooleanType, CharType, DataType, DateType, DecimalType,
    DoubleType, FloatType, IntType, LocalZonedTimestampType, SmallIntType, TimestampType,
    TimeType, VarBinaryType, VarCharType, to_arrow_type,
)

TO_STRING_HINT = ("use --type_mapping to-string to store every column as STRING holding "
                  "PostgreSQL's text form of the value")

_VARHDRSZ = 4
_MAX_DECIMAL_PRECISION = 38
_DEFAULT_TIME_PRECISION = 6
_US_PER_DAY = 86_400_000_000


class UnsupportedTypeError(UserError, ValueError):
    """A column type that has no Paimon type (outside to-string mapping)."""


# --- PostgreSQL types -------------------------------------------------------------------------

@dataclass(frozen=True)
class PgType:
    """A row of ``pg_type``, with the element type of an array and the base type of a domain."""

    oid: int
    name: str
    kind: str
    """'base', 'array', 'enum', 'domain', 'composite', 'range', 'multirange' or 'pseudo'."""
    element: Optional[PgType] = None
    base: Optional[PgType] = None
    namespace: str = "pg_catalog"
    base_type_modifier: int = -1
    """A domain's type modifier (e.g. varchar(10)), used where the column has none."""

    @property
    def display(self) -> str:
        """The type as SQL names it: ``int4``, ``int4[]``, ``public.mood``."""
        if self.kind == "array" and self.element is not None:
            return self.element.display + "[]"
        return self.name if self.namespace == "pg_catalog" else f"{self.namespace}.{self.name}"

    def resolve(self, type_modifier: int) -> tuple[PgType, int]:
        """Through domains down to the type the values really have, with its modifier."""
        pg_type = self
        while pg_type.kind == "domain" and pg_type.base is not None:
            if type_modifier == -1:
                type_modifier = pg_type.base_type_modifier
            pg_type = pg_type.base
        return pg_type, type_modifier


_KINDS = {"b": "base", "c": "composite", "d": "domain", "e": "enum", "p": "pseudo", "r": "range",
          "m": "multirange"}

_TYPE_QUERY = """
SELECT t.typname, n.nspname, t.typtype, t.typelem, t.typbasetype, t.typtypmod,
       COALESCE(e.typarray = t.oid, false)
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem
WHERE t.oid = %s::oid
"""


class TypeRegistry:
    """Resolves type OIDs through a psycopg2 connection: one query per type not seen before."""

    def __init__(self, conn) -> None:
        self._conn = conn
        self._types: dict[int, PgType] = {}

    def get(self, oid: int) -> PgType:
        pg_type = self._types.get(oid)
        if pg_type is None:
            pg_type = self._types[oid] = self._load(oid)
        return pg_type

    def _load(self, oid: int) -> PgType:
        with self._conn.cursor() as cur:
            cur.execute(_TYPE_QUERY, (oid,))
            row = cur.fetchone()
        if row is None:
            raise KeyError(f"no PostgreSQL type with OID {oid}")
        name, namespace, typtype, elem, basetype, typmod, is_array = row
        kind = "array" if is_array else _KINDS.get(typtype, typtype)
        element = self.get(elem) if is_array else None
        base = self.get(basetype) if kind == "domain" else None
        return PgType(oid, name, kind, element, base, namespace, typmod)


# --- the type mapping -------------------------------------------------------------------------

_SIMPLE: dict[str, Callable[[], DataType]] = {
    "bool": BooleanType, "int2": SmallIntType, "int4": IntType, "int8": BigIntType,
    "float4": FloatType, "float8": DoubleType, "text": VarCharType, "bytea": VarBinaryType,
    "date": DateType, "uuid": VarCharType, "json": VarCharType, "jsonb": VarCharType,
}


def paimon_type(pg_type: PgType, type_modifier: int, nullable: bool, to_string: bool = False,
                column: Optional[str] = None) -> DataType:
    """The Paimon type of a column (``column`` names it in errors); to-string: always STRING."""
    if to_string:
        return VarCharType(nullable=nullable)
    resolved, typmod = pg_type.resolve(type_modifier)
    if resolved.kind == "array" and resolved.element is not None:
        return ArrayType(_scalar_type(resolved.element, typmod, pg_type, column), nullable)
    return _scalar_type(resolved, typmod, pg_type, column).copy(nullable)


def _scalar_type(pg_type: PgType, typmod: int, declared: PgType, column: Optional[str]) -> DataType:
    pg_type, typmod = pg_type.resolve(typmod)
    if pg_type.kind == "enum":
        return VarCharType()
    if pg_type.namespace == "pg_catalog":
        if pg_type.name in _SIMPLE:
            return _SIMPLE[pg_type.name]()
        mapped = _modified_type(pg_type.name, typmod)
        if mapped is not None:
            return mapped
    what = f"column {column!r}" if column else "a column"
    raise UnsupportedTypeError(f"{what} has PostgreSQL type {declared.display}, which has no "
                               f"Paimon type — {TO_STRING_HINT}")


def _modified_type(name: str, typmod: int) -> Optional[DataType]:
    """The types whose Paimon type depends on the type modifier."""
    if name == "numeric":
        return _decimal_type(typmod)
    if name in ("bpchar", "varchar"):
        if typmod < _VARHDRSZ:
            return VarCharType()
        return (CharType if name == "bpchar" else VarCharType)(typmod - _VARHDRSZ)
    precision = _DEFAULT_TIME_PRECISION if typmod < 0 else typmod
    temporal = {"time": TimeType, "timestamp": TimestampType, "timestamptz": LocalZonedTimestampType}
    return temporal[name](precision) if name in temporal else None


def numeric_precision_scale(typmod: int) -> Optional[tuple[int, int]]:
    """(precision, scale) of a ``numeric`` type modifier; None for plain ``numeric``."""
    if typmod < _VARHDRSZ:
        return None
    bits = typmod - _VARHDRSZ
    return (bits >> 16) & 0xFFFF, ((bits & 0x7FF) ^ 1024) - 1024


def _decimal_type(typmod: int) -> DataType:
    """Paimon's rule: no precision -> DECIMAL(38, 18); beyond DECIMAL's range -> STRING."""
    bounds = numeric_precision_scale(typmod)
    if bounds is None:
        return DecimalType(_MAX_DECIMAL_PRECISION, 18)
    precision, scale = bounds
    if precision > _MAX_DECIMAL_PRECISION or not 0 <= scale <= precision:
        return VarCharType()
    return DecimalType(precision, scale)


def arrow_schema_for(columns: Sequence[tuple[str, PgType, int, bool]],
                     to_string: bool = False) -> tuple[list[DataType], pa.Schema]:
    """Paimon types and the Arrow schema of ``(name, pg_type, type_modifier, nullable)`` columns."""
    data_types = [paimon_type(t, typmod, nullable, to_string, name)
                  for name, t, typmod, nullable in columns]
    schema = pa.schema([pa.field(c[0], to_arrow_type(t), t.nullable)
                        for c, t in zip(columns, data_types)])
    return data_types, schema


# --- text values -> Arrow ---------------------------------------------------------------------

TextColumn = Union[Sequence[Optional[str]], pa.Array, pa.ChunkedArray]
Converter = Callable[[pa.StringArray], pa.Array]


def text_column_to_arrow(values: TextColumn, pg_type: PgType, type_modifier: int,
                         data_type: DataType) -> pa.Array:
    """PostgreSQL text values (None = NULL) of one column as an Arrow array of ``data_type``."""
    return text_converter(pg_type, type_modifier, data_type)(_string_array(values))


def _string_array(values: TextColumn) -> pa.StringArray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if not isinstance(values, pa.Array):
        return pa.array(values, pa.string())
    return values if values.type == pa.string() else values.cast(pa.string())


def text_converter(pg_type: PgType, type_modifier: int, data_type: DataType) -> Converter:
    """How text values of a column of ``pg_type`` become Arrow values of ``data_type``."""
    pg_type, typmod = pg_type.resolve(type_modifier)
    if isinstance(data_type, ArrayType) and pg_type.element is not None:
        return _array_converter(text_converter(pg_type.element, typmod, data_type.element),
                                to_arrow_type(data_type))
    target = to_arrow_type(data_type)
    if isinstance(data_type, (VarCharType, CharType)):
        return _identity
    if isinstance(data_type, (SmallIntType, IntType, BigIntType, FloatType, DoubleType)):
        return lambda arr: _cast(arr, target, pg_type)
    if isinstance(data_type, DecimalType):
        return lambda arr: _decimal(arr, data_type)
    if isinstance(data_type, (TimestampType, LocalZonedTimestampType)):
        return lambda arr: _timestamp(arr, target)
    converter = _SIMPLE_CONVERTERS.get(type(data_type))
    if converter is None:
        raise TypeError(f"no conversion of PostgreSQL {pg_type.display} text to Paimon {data_type}")
    return lambda arr: converter(arr, target)


def _identity(arr: pa.StringArray) -> pa.Array:
    return arr


def _cast(arr: pa.StringArray, target: pa.DataType, pg_type: PgType) -> pa.Array:
    try:
        return arr.cast(target)
    except pa.ArrowInvalid as e:
        raise ValueError(f"cannot convert PostgreSQL {pg_type.display} text to {target}: {e}") from None


def _first_invalid(arr: pa.StringArray, bad: pa.BooleanArray) -> Optional[str]:
    """The first value where ``bad`` is true (nulls in ``bad`` count as false)."""
    bad = pc.fill_null(bad, False)
    return arr.filter(bad)[0].as_py() if pc.any(bad).as_py() else None


def _refuse(value: str, target: str) -> ValueError:
    return ValueError(f"PostgreSQL value {value!r} cannot be stored as Paimon {target}; {TO_STRING_HINT}")


def _bool(arr: pa.StringArray, target: pa.DataType) -> pa.Array:
    bad = _first_invalid(arr, pc.and_(arr.is_valid(), pc.invert(pc.is_in(arr, pa.array(["t", "f"])))))
    if bad is not None:
        raise ValueError(f"not a PostgreSQL boolean text value: {bad!r}")
    return pc.equal(arr, "t")


def _decimal(arr: pa.StringArray, data_type: DecimalType) -> pa.Array:
    """Exact when every value fits (always when the column is numeric(p, s) of the target's
    p and s); otherwise rounded HALF_UP to the scale, as Paimon does. Too many integer digits
    is an error (Paimon would write NULL)."""
    special = _first_invalid(arr, pc.is_in(arr, pa.array(["NaN", "Infinity", "-Infinity"])))
    if special is not None:
        raise _refuse(special, str(data_type))
    target = to_arrow_type(data_type)
    parsed = _try_cast(arr, target)  # exact: no value has more digits than the target keeps
    if parsed is not None:
        return parsed
    try:
        kept = data_type.scale + 1  # enough digits to round on
        cut = pc.replace_substring_regex(arr, rf"(\.\d{{{kept}}})\d+$", r"\1")
        wide = cut.cast(pa.decimal256(76, kept))
        return pc.round(wide, data_type.scale, round_mode="half_towards_infinity").cast(target)
    except pa.ArrowInvalid as e:
        raise ValueError(f"numeric value does not fit Paimon {data_type}: {e}; {TO_STRING_HINT}") from None


_DATE = r"(?P<y>\d{4,})-(?P<mo>\d\d)-(?P<d>\d\d)"
_TIME = r"(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)(?:\.(?P<f>\d{1,6}))?"
_ZONE = r"(?:(?P<zs>[+-])(?P<zh>\d\d)(?::(?P<zm>\d\d))?(?::(?P<zsec>\d\d))?)?"
_DATE_RE = f"^{_DATE}(?P<bc> BC)?$"
_TIMESTAMP_RE = f"^{_DATE} {_TIME}{_ZONE}(?P<bc> BC)?$"
_TIME_RE = f"^{_TIME}$"


def _date(arr: pa.StringArray, target: pa.DataType) -> pa.Array:
    """Arrow's parser for years 1..9999; the general path for BC and five-digit years."""
    parsed = _try_cast(arr, target)
    if parsed is not None:
        return parsed
    days = _epoch_days(_match(arr, _DATE_RE, "DATE"))
    return days.cast(pa.int32()).view(target)


def _try_cast(arr: pa.Array, target: pa.DataType) -> Optional[pa.Array]:
    """Arrow's cast, or None where it cannot parse a value."""
    try:
        return arr.cast(target)
    except pa.ArrowInvalid:
        return None


def _timestamp(arr: pa.StringArray, target: pa.TimestampType) -> pa.Array:
    """Arrow's parser for the common form; the general path for BC, five-digit years and
    UTC offsets with seconds (historical local mean times)."""
    parsed = _try_cast(arr, target)
    if parsed is not None:
        return parsed
    parts = _match(arr, _TIMESTAMP_RE, "TIMESTAMP")
    offset_us = pc.multiply(_offset_seconds(parts), 1_000_000)
    try:  # PostgreSQL's last 30 years (after 294247-01-10) overflow int64 microseconds
        micros = pc.add_checked(pc.multiply_checked(_epoch_days(parts), _US_PER_DAY), _micros_of_day(parts))
        micros = pc.subtract_checked(micros, offset_us)
    except pa.ArrowInvalid:
        late = _first_invalid(arr, pc.greater_equal(_int(parts, "y"), 294247))
        raise _refuse(late, "TIMESTAMP (it ends at 294247-01-10)") from None
    if target.unit == "ms":
        micros = pc.divide(micros, 1000)
    return micros.view(target)


def _time(arr: pa.StringArray, target: pa.DataType) -> pa.Array:
    """Through Arrow's timestamp parser on 1970-01-01; '24:00:00' (and leap second 60) is
    refused: Paimon's TIME ends at 23:59:59.999999."""
    parsed = _try_cast(pc.binary_join_element_wise("1970-01-01 ", arr, ""), pa.timestamp("us"))
    if parsed is not None:
        micros = parsed.cast(pa.int64())
    else:
        micros = _micros_of_day(_match(arr, _TIME_RE, "TIME"))
        too_late = _first_invalid(arr, pc.greater_equal(micros, _US_PER_DAY))
        if too_late is not None:
            raise _refuse(too_late, "TIME")
    if target == pa.time32("ms"):
        return pc.divide(micros, 1000).cast(pa.int32()).view(target)
    return micros.view(target)


def _match(arr: pa.StringArray, pattern: str, what: str) -> pa.StructArray:
    parts = pc.extract_regex(arr, pattern)
    bad = _first_invalid(arr, pc.and_(arr.is_valid(), parts.is_null()))
    if bad is not None:
        raise _refuse(bad, what)
    return parts


def _int(parts: pa.StructArray, name: str) -> pa.Array:
    """A matched group as int64; an optional group that did not match is 0."""
    return pc.utf8_lpad(pc.struct_field(parts, name), 1, "0").cast(pa.int64())


def _epoch_days(parts: pa.StructArray) -> pa.Array:
    """Days since 1970-01-01 of a proleptic Gregorian date (the civil-from-days algorithm in
    reverse, in eras of 400 years); 'BC' years are 1 - year."""
    year = _int(parts, "y")
    year = pc.if_else(pc.equal(pc.struct_field(parts, "bc"), " BC"), pc.subtract(1, year), year)
    month, day = _int(parts, "mo"), _int(parts, "d")
    year = pc.subtract(year, pc.less_equal(month, 2).cast(pa.int64()))
    era = pc.divide(pc.if_else(pc.less(year, 0), pc.subtract(year, 399), year), 400)
    year_of_era = pc.subtract(year, pc.multiply(era, 400))
    shifted_month = pc.if_else(pc.greater(month, 2), pc.subtract(month, 3), pc.add(month, 9))
    day_of_year = pc.add(pc.divide(pc.add(pc.multiply(shifted_month, 153), 2), 5), pc.subtract(day, 1))
    day_of_era = pc.add(pc.subtract(pc.add(pc.multiply(year_of_era, 365), pc.divide(year_of_era, 4)),
                                    pc.divide(year_of_era, 100)), day_of_year)
    return pc.subtract(pc.add(pc.multiply(era, 146_097), day_of_era), 719_468)


def _micros_of_day(parts: pa.StructArray) -> pa.Array:
    seconds = pc.add(pc.multiply(pc.add(pc.multiply(_int(parts, "h"), 60), _int(parts, "mi")), 60),
                     _int(parts, "s"))
    fraction = pc.utf8_rpad(pc.struct_field(parts, "f"), 6, "0").cast(pa.int64())
    return pc.add(pc.multiply(seconds, 1_000_000), fraction)


def _offset_seconds(parts: pa.StructArray) -> pa.Array:
    seconds = pc.add(pc.multiply(pc.add(pc.multiply(_int(parts, "zh"), 60), _int(parts, "zm")), 60),
                     _int(parts, "zsec"))
    return pc.if_else(pc.equal(pc.struct_field(parts, "zs"), "-"), pc.negate(seconds), seconds)


_HEX_DIGITS = np.full(256, 255, np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX_DIGITS[_c] = _HEX_DIGITS[bytes([_c]).upper()[0]] = _i


def _bytea(arr: pa.StringArray, target: pa.DataType) -> pa.Array:
    """bytea's hex format ``\\x0a1b``, decoded with numpy over the whole data buffer."""
    if pc.any(pc.invert(pc.starts_with(arr, "\\x"))).as_py():
        raise ValueError("bytea values must be in hex format ('\\x...'): set bytea_output=hex")
    digits = pc.utf8_slice_codeunits(arr, 2).cast(pa.binary())
    offsets = np.frombuffer(digits.buffers()[1], np.int32, len(digits) + 1, digits.offset * 4)
    data = digits.buffers()[2]
    chars = np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]] if data else np.empty(0, np.uint8)
    nibbles = _HEX_DIGITS[chars]
    if np.any(np.diff(offsets) % 2) or np.any(nibbles == 255):
        raise ValueError("malformed bytea hex value")
    decoded = (nibbles[0::2] << 4) | nibbles[1::2]
    validity = arr.is_valid().buffers()[1] if arr.null_count else None
    new_offsets = ((offsets - offsets[0]) // 2).astype(np.int32)
    return pa.Array.from_buffers(target, len(arr), [validity, pa.py_buffer(new_offsets),
                                                    pa.py_buffer(decoded)], arr.null_count)


_SIMPLE_CONVERTERS: dict[type, Callable[[pa.StringArray, pa.DataType], pa.Array]] = {
    BooleanType: _bool, DateType: _date, TimeType: _time, VarBinaryType: _bytea,
}


# --- arrays -----------------------------------------------------------------------------------

_ELEMENT = re.compile(r'"((?:[^"\\]|\\.)*)"|([^,"{}\\]*)', re.S)
_ESCAPE = re.compile(r"\\(.)", re.S)


def parse_array_text(text: str) -> list[Optional[str]]:
    """The elements of a one-dimensional array's text form: ``{1,NULL,"a,b","q\\"x"}``."""
    if text.startswith("["):  # explicit bounds, e.g. [0:1]={a,b}
        text = text[text.index("=") + 1:]
    if len(text) < 2 or text[0] != "{" or text[-1] != "}":
        raise ValueError(f"not a PostgreSQL array value: {text!r}")
    body, items, pos = text[1:-1], [], 0
    if not body:
        return items
    if '"' not in body and "{" not in body:  # nothing quoted: a plain split
        return [None if item == "NULL" else item for item in body.split(",")]
    while True:
        match = _ELEMENT.match(body, pos)
        quoted, plain = match.groups()
        if quoted is not None:
            items.append(_ESCAPE.sub(r"\1", quoted) if "\\" in quoted else quoted)
        else:
            items.append(None if plain == "NULL" else plain)
        pos = match.end()
        if pos == len(body):
            return items
        if body[pos] == "{":
            raise ValueError(f"only one-dimensional arrays are supported, got {text!r}; {TO_STRING_HINT}")
        if body[pos] != ",":
            raise ValueError(f"malformed PostgreSQL array value {text!r}")
        pos += 1


def _array_converter(element: Converter, target: pa.ListType) -> Converter:
    def convert(arr: pa.StringArray) -> pa.Array:
        offsets, flat = [0], []
        for text in arr.to_pylist():
            if text is not None:
                flat.extend(parse_array_text(text))
            offsets.append(len(flat))
        values = element(pa.array(flat, pa.string()))
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values, type=target,
                                        mask=arr.is_null())
    return convert
