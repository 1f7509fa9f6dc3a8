"""Paimon data types, their JSON form (format reference §2) and the Arrow mapping.

Every type is a frozen dataclass deriving from :class:`DataType`; ``nullable`` is always the
last field, so ``DecimalType(38, 10)`` and ``IntType(nullable=False)`` both work.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pyarrow as pa

from paimon_py.exceptions import SchemaError

MAX_LENGTH = 2147483647
"""Length of STRING (= VARCHAR(MAX)) and BYTES (= VARBINARY(MAX))."""


class DataType:
    """Base of all Paimon types; every subclass has a ``nullable: bool = True`` field."""

    nullable: bool

    def copy(self, nullable: bool) -> DataType:
        """Return this type with the given nullability."""
        return dataclasses.replace(self, nullable=nullable)

    def to_json(self) -> str | dict[str, Any]:
        """Paimon's JSON form: a string for atomic types, an object for constructed ones."""
        return self._sql() + self._not_null()

    def _sql(self) -> str:
        raise NotImplementedError

    def _not_null(self) -> str:
        return "" if self.nullable else " NOT NULL"

    def __str__(self) -> str:
        return str(self.to_json())

    def to_dict(self) -> str | dict[str, Any]:
        """pypaimon's name for :meth:`to_json`."""
        return self.to_json()

    @classmethod
    def from_dict(cls, data: str | dict[str, Any]) -> DataType:
        """pypaimon's name for :func:`parse_data_type`."""
        return parse_data_type(data)


class _AtomicTypeMeta(type):
    """Lets ``AtomicType('INT')`` (pypaimon's spelling) build the concrete type, ``IntType()``."""

    def __call__(cls, *args: Any, **kwargs: Any) -> DataType:
        if cls is AtomicType:
            return _atomic(*args, **kwargs)
        return super().__call__(*args, **kwargs)


class AtomicType(DataType, metaclass=_AtomicTypeMeta):
    """Base of the types without children; ``type`` is the SQL name (``"DECIMAL(10, 2)"``)."""

    @property
    def type(self) -> str:
        return self._sql()


def _atomic(type: str, nullable: bool = True) -> DataType:
    parsed = _parse_atomic(type)
    return parsed.copy(parsed.nullable and nullable)


def _nullable_first(t: DataType, names: tuple[str, ...]) -> None:
    """Accept pypaimon's argument order, nullability first: ``ArrayType(True, element)``."""
    if not isinstance(getattr(t, names[0]), bool):
        return
    values = [getattr(t, n) for n in names] + [t.nullable]
    object.__setattr__(t, "nullable", values[0])
    for name, value in zip(names, values[1:]):
        object.__setattr__(t, name, value)


@dataclass(frozen=True)
class BooleanType(AtomicType):
    nullable: bool = True

    def _sql(self) -> str:
        return "BOOLEAN"


@dataclass(frozen=True)
class TinyIntType(AtomicType):
    nullable: bool = True

    def _sql(self) -> str:
        return "TINYINT"


@dataclass(frozen=True)
class SmallIntType(AtomicType):
    nullable: bool = True

    def _sql(self) -> str:
        return "SMALLINT"


@dataclass(frozen=True)
class IntType(AtomicType):
    nullable: bool = True

    def _sql(self) -> str:
        return "INT"


@dataclass(frozen=True)
class BigIntType(AtomicType):
    nullable: bool = True

    def _sql(self) -> str:
        return "BIGINT"


@dataclass(frozen=True)
class FloatType(AtomicType):
    nullable: bool = True

    def _sql(self) -> str:
        return "FLOAT"


@dataclass(frozen=True)
class DoubleType(AtomicType):
    nullable: bool = True

    def _sql(self) -> str:
        return "DOUBLE"


@dataclass(frozen=True)
class DecimalType(AtomicType):
    precision: int = 10
    scale: int = 0
    nullable: bool = True

    def _sql(self) -> str:
        return f"DECIMAL({self.precision}, {self.scale})"


@dataclass(frozen=True)
class CharType(AtomicType):
    length: int = 1
    nullable: bool = True

    def _sql(self) -> str:
        return f"CHAR({self.length})"


@dataclass(frozen=True)
class VarCharType(AtomicType):
    length: int = MAX_LENGTH
    nullable: bool = True

    def _sql(self) -> str:
        return "STRING" if self.length == MAX_LENGTH else f"VARCHAR({self.length})"


@dataclass(frozen=True)
class BinaryType(AtomicType):
    length: int = 1
    nullable: bool = True

    def _sql(self) -> str:
        return f"BINARY({self.length})"


@dataclass(frozen=True)
class VarBinaryType(AtomicType):
    length: int = MAX_LENGTH
    nullable: bool = True

    def _sql(self) -> str:
        return "BYTES" if self.length == MAX_LENGTH else f"VARBINARY({self.length})"


@dataclass(frozen=True)
class DateType(AtomicType):
    nullable: bool = True

    def _sql(self) -> str:
        return "DATE"


@dataclass(frozen=True)
class TimeType(AtomicType):
    precision: int = 0
    nullable: bool = True

    def _sql(self) -> str:
        return f"TIME({self.precision})"


@dataclass(frozen=True)
class TimestampType(AtomicType):
    precision: int = 6
    nullable: bool = True

    def _sql(self) -> str:
        return f"TIMESTAMP({self.precision})"


@dataclass(frozen=True)
class LocalZonedTimestampType(AtomicType):
    precision: int = 6
    nullable: bool = True

    def _sql(self) -> str:
        return f"TIMESTAMP({self.precision}) WITH LOCAL TIME ZONE"


@dataclass(frozen=True)
class VariantType(AtomicType):
    nullable: bool = True

    def _sql(self) -> str:
        return "VARIANT"


@dataclass(frozen=True)
class BlobType(AtomicType):
    nullable: bool = True

    def _sql(self) -> str:
        return "BLOB"


@dataclass(frozen=True)
class ArrayType(DataType):
    element: DataType
    nullable: bool = True

    def __post_init__(self) -> None:
        _nullable_first(self, ("element",))

    def to_json(self) -> dict[str, Any]:
        return {"type": "ARRAY" + self._not_null(), "element": self.element.to_json()}


@dataclass(frozen=True)
class MultisetType(DataType):
    element: DataType
    nullable: bool = True

    def __post_init__(self) -> None:
        _nullable_first(self, ("element",))

    def to_json(self) -> dict[str, Any]:
        return {"type": "MULTISET" + self._not_null(), "element": self.element.to_json()}


@dataclass(frozen=True)
class VectorType(DataType):
    element: DataType
    length: int
    nullable: bool = True

    def __post_init__(self) -> None:
        _nullable_first(self, ("element", "length"))

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "VECTOR" + self._not_null(),
            "element": self.element.to_json(),
            "length": self.length,
        }


@dataclass(frozen=True)
class MapType(DataType):
    key: DataType
    value: DataType
    nullable: bool = True

    def __post_init__(self) -> None:
        _nullable_first(self, ("key", "value"))

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "MAP" + self._not_null(),
            "key": self.key.to_json(),
            "value": self.value.to_json(),
        }


@dataclass(frozen=True)
class DataField:
    """A named, id-carrying field of a :class:`RowType` (a schema column)."""

    id: int
    name: str
    type: DataType
    description: str | None = None
    default_value: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON object as Java writes it; absent description/default value keys are omitted."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type.to_json()}
        if self.description is not None:
            out["description"] = self.description
        if self.default_value is not None:
            out["defaultValue"] = self.default_value
        return out

    def to_dict(self) -> dict[str, Any]:
        """pypaimon's name for :meth:`to_json`."""
        return self.to_json()

    @staticmethod
    def from_dict(obj: dict[str, Any]) -> DataField:
        """pypaimon's name for :meth:`from_json`."""
        return DataField.from_json(obj)

    @staticmethod
    def from_json(obj: dict[str, Any]) -> DataField:
        """Parse a DataField object (``id`` is required)."""
        return DataField(
            id=int(obj["id"]),
            name=obj["name"],
            type=parse_data_type(obj["type"]),
            description=obj.get("description"),
            default_value=obj.get("defaultValue"),
        )


@dataclass(frozen=True)
class RowType(DataType):
    fields: tuple[DataField, ...] = ()
    nullable: bool = True

    def __post_init__(self) -> None:
        _nullable_first(self, ("fields",))
        object.__setattr__(self, "fields", tuple(self.fields))

    def to_json(self) -> dict[str, Any]:
        return {"type": "ROW" + self._not_null(), "fields": [f.to_json() for f in self.fields]}

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> DataField:
        """The field called ``name``; ``KeyError`` if there is none."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"no field {name!r} in {self.field_names}")

    def highest_field_id(self) -> int:
        """Largest field id, nested ROW fields included; -1 when there are no fields."""
        return max((f.id for f in _all_fields(self)), default=-1)

    def to_arrow_schema(self) -> pa.Schema:
        return pa.schema([to_arrow_field(f) for f in self.fields])


def _all_fields(t: DataType) -> Iterator[DataField]:
    """All DataFields reachable from ``t``, depth-first."""
    if isinstance(t, RowType):
        for f in t.fields:
            yield f
            yield from _all_fields(f.type)
    for child in _children(t):
        yield from _all_fields(child)


def _children(t: DataType) -> tuple[DataType, ...]:
    if isinstance(t, (ArrayType, MultisetType, VectorType)):
        return (t.element,)
    if isinstance(t, MapType):
        return (t.key, t.value)
    return ()


# ---------------------------------------------------------------------------------------------
# JSON parsing
# ---------------------------------------------------------------------------------------------

_ATOMIC_RE = re.compile(
    r"""^\s*(?P<name>[A-Z_]+(?:\s+PRECISION)?)
        \s*(?:\(\s*(?P<p1>\d+)\s*(?:,\s*(?P<p2>\d+)\s*)?\))?
        (?P<suffix>(?:\s+[A-Z]+)*)
        \s*$""",
    re.VERBOSE,
)

_NOT_NULL_RE = re.compile(r"\s+NOT\s+NULL$|\s+NULL$")

_SIMPLE: dict[str, Callable[[], DataType]] = {
    "BOOLEAN": BooleanType,
    "TINYINT": TinyIntType,
    "SMALLINT": SmallIntType,
    "INT": IntType,
    "INTEGER": IntType,
    "BIGINT": BigIntType,
    "FLOAT": FloatType,
    "DOUBLE": DoubleType,
    "DOUBLE PRECISION": DoubleType,
    "DATE": DateType,
    "STRING": VarCharType,
    "BYTES": VarBinaryType,
    "VARIANT": VariantType,
    "BLOB": BlobType,
}

_LENGTH_TYPES: dict[str, Callable[[int], DataType]] = {
    "CHAR": CharType,
    "VARCHAR": VarCharType,
    "BINARY": BinaryType,
    "VARBINARY": VarBinaryType,
}


def parse_data_type(json_value: str | dict[str, Any]) -> DataType:
    """Parse a type from its JSON form, accepting every spelling Java's parser accepts (§2).

    Defaults without parameters follow Java: CHAR/VARCHAR/BINARY/VARBINARY length 1,
    DECIMAL(10, 0), TIME(0), TIMESTAMP(6). A ``"nullable"`` key in objects is ignored.
    """
    if isinstance(json_value, str):
        return _parse_atomic(json_value)
    kind = json_value["type"]
    nullable = "NOT NULL" not in kind
    if kind.startswith("ARRAY"):
        return ArrayType(parse_data_type(json_value["element"]), nullable)
    if kind.startswith("MULTISET"):
        return MultisetType(parse_data_type(json_value["element"]), nullable)
    if kind.startswith("VECTOR"):
        return VectorType(parse_data_type(json_value["element"]), int(json_value["length"]), nullable)
    if kind.startswith("MAP"):
        return MapType(parse_data_type(json_value["key"]), parse_data_type(json_value["value"]), nullable)
    if kind.startswith("ROW"):
        return RowType(tuple(DataField.from_json(f) for f in json_value["fields"]), nullable)
    return _parse_atomic(kind)


def _parse_atomic(text: str) -> DataType:
    upper = text.strip().upper()
    nullable = not re.search(r"\sNOT\s+NULL$", upper)
    body = _NOT_NULL_RE.sub("", upper)
    m = _ATOMIC_RE.match(body)
    if m is None:
        raise SchemaError(f"cannot parse data type {text!r}")
    name = re.sub(r"\s+", " ", m["name"])
    p1 = None if m["p1"] is None else int(m["p1"])
    p2 = None if m["p2"] is None else int(m["p2"])
    suffix = " ".join(m["suffix"].split())
    t = _atomic_from_parts(name, p1, p2, suffix)
    if t is None:
        raise SchemaError(f"cannot parse data type {text!r}")
    return t.copy(nullable)


def _atomic_from_parts(name: str, p1: int | None, p2: int | None, suffix: str) -> DataType | None:
    if name in _SIMPLE and p1 is None and not suffix:
        return _SIMPLE[name]()
    if name in _LENGTH_TYPES and p2 is None and not suffix:
        return _LENGTH_TYPES[name](1 if p1 is None else p1)
    if name in ("DECIMAL", "NUMERIC", "DEC") and not suffix:
        return DecimalType(10 if p1 is None else p1, 0 if p2 is None else p2)
    if p2 is not None:
        return None
    if name == "TIME" and suffix in ("", "WITHOUT TIME ZONE"):
        return TimeType(0 if p1 is None else p1)
    if name == "TIMESTAMP" and suffix in ("", "WITHOUT TIME ZONE"):
        return TimestampType(6 if p1 is None else p1)
    if name == "TIMESTAMP" and suffix == "WITH LOCAL TIME ZONE" or name == "TIMESTAMP_LTZ" and not suffix:
        return LocalZonedTimestampType(6 if p1 is None else p1)
    return None


# ---------------------------------------------------------------------------------------------
# Arrow mapping
# ---------------------------------------------------------------------------------------------

_ARROW_SIMPLE: dict[type, pa.DataType] = {
    BooleanType: pa.bool_(),
    TinyIntType: pa.int8(),
    SmallIntType: pa.int16(),
    IntType: pa.int32(),
    BigIntType: pa.int64(),
    FloatType: pa.float32(),
    DoubleType: pa.float64(),
    CharType: pa.string(),
    VarCharType: pa.string(),
    BinaryType: pa.binary(),
    VarBinaryType: pa.binary(),
    BlobType: pa.large_binary(),
    DateType: pa.date32(),
}


def _timestamp_unit(precision: int) -> str:
    return "ms" if precision <= 3 else "us" if precision <= 6 else "ns"


def to_arrow_type(t: DataType) -> pa.DataType:
    """The Arrow type for values of ``t``. TIMESTAMP/LTZ units follow the precision (<= 3 ms,
    <= 6 us, else ns; LTZ with tz UTC); TIME is always time32 ms, as Paimon stores it (finer precision is cut to ms)."""
    simple = _ARROW_SIMPLE.get(type(t))
    if simple is not None:
        return simple
    if isinstance(t, DecimalType):
        return pa.decimal128(t.precision, t.scale)
    if isinstance(t, TimeType):
        return pa.time32("ms")  # Paimon stores TIME as int32 millis of the day, any precision
    if isinstance(t, TimestampType):
        return pa.timestamp(_timestamp_unit(t.precision))
    if isinstance(t, LocalZonedTimestampType):
        return pa.timestamp(_timestamp_unit(t.precision), tz="UTC")
    return _to_arrow_nested(t)


def _to_arrow_nested(t: DataType) -> pa.DataType:
    if isinstance(t, ArrayType):
        return pa.list_(pa.field("element", to_arrow_type(t.element), t.element.nullable))
    if isinstance(t, VectorType):
        return pa.list_(pa.field("element", to_arrow_type(t.element), t.element.nullable), t.length)
    if isinstance(t, MapType):
        return pa.map_(
            pa.field("key", to_arrow_type(t.key), False),
            pa.field("value", to_arrow_type(t.value), t.value.nullable),
        )
    if isinstance(t, MultisetType):
        return pa.map_(pa.field("key", to_arrow_type(t.element), False), pa.field("value", pa.int32(), False))
    if isinstance(t, RowType):
        return pa.struct([to_arrow_field(f) for f in t.fields])
    if isinstance(t, VariantType):
        return pa.struct([pa.field("value", pa.binary(), False), pa.field("metadata", pa.binary(), False)])
    raise TypeError(f"no Arrow mapping for {t!r}")


def to_arrow_field(field: DataField) -> pa.Field:
    """Arrow field carrying the name, nullability and (as metadata) the description."""
    metadata = None if field.description is None else {b"description": field.description.encode()}
    return pa.field(field.name, to_arrow_type(field.type), field.type.nullable, metadata)


_UNIT_PRECISION = {"s": 0, "ms": 3, "us": 6, "ns": 9}

_FROM_ARROW_SIMPLE: list[tuple[Callable[[pa.DataType], bool], Callable[[], DataType]]] = [
    (pa.types.is_boolean, BooleanType),
    (pa.types.is_int8, TinyIntType),
    (pa.types.is_int16, SmallIntType),
    (pa.types.is_int32, IntType),
    (pa.types.is_int64, BigIntType),
    (pa.types.is_float32, FloatType),
    (pa.types.is_float64, DoubleType),
    (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t), VarCharType),
    (lambda t: pa.types.is_binary(t) or pa.types.is_large_binary(t), VarBinaryType),
    (pa.types.is_date, DateType),
]


def from_arrow_type(pa_type: pa.DataType, nullable: bool = True) -> DataType:
    """The Paimon type for an Arrow type. Nested ROW fields get struct-local ids 0..n-1;
    use :func:`row_type_from_arrow_schema` for schema-wide ids."""
    for test, factory in _FROM_ARROW_SIMPLE:
        if test(pa_type):
            return factory().copy(nullable)
    if pa.types.is_dictionary(pa_type):
        return from_arrow_type(pa_type.value_type, nullable)
    if pa.types.is_fixed_size_binary(pa_type):
        return BinaryType(pa_type.byte_width, nullable)
    if pa.types.is_decimal(pa_type):
        return DecimalType(pa_type.precision, pa_type.scale, nullable)
    if pa.types.is_timestamp(pa_type):
        precision = _UNIT_PRECISION[pa_type.unit]
        if pa_type.tz is None:
            return TimestampType(precision, nullable)
        return LocalZonedTimestampType(precision, nullable)
    if pa.types.is_time(pa_type):
        return TimeType(_UNIT_PRECISION[pa_type.unit], nullable)
    return _from_arrow_nested(pa_type, nullable)


def _from_arrow_nested(pa_type: pa.DataType, nullable: bool) -> DataType:
    if pa.types.is_fixed_size_list(pa_type):
        field = pa_type.value_field
        return VectorType(from_arrow_type(field.type, field.nullable), pa_type.list_size, nullable)
    if pa.types.is_list(pa_type) or pa.types.is_large_list(pa_type):
        field = pa_type.value_field
        return ArrayType(from_arrow_type(field.type, field.nullable), nullable)
    if pa.types.is_map(pa_type):
        key = from_arrow_type(pa_type.key_field.type, False)
        value = from_arrow_type(pa_type.item_field.type, pa_type.item_field.nullable)
        return MapType(key, value, nullable)
    if pa.types.is_struct(pa_type):
        fields = [_field_from_arrow(i, pa_type.field(i)) for i in range(pa_type.num_fields)]
        return RowType(tuple(fields), nullable)
    raise TypeError(f"no Paimon type for Arrow type {pa_type}")


def _field_from_arrow(field_id: int, field: pa.Field) -> DataField:
    meta = field.metadata or {}
    description = meta[b"description"].decode() if b"description" in meta else None
    return DataField(field_id, field.name, from_arrow_type(field.type, field.nullable), description)


def row_type_from_arrow_schema(schema: pa.Schema, first_field_id: int = 0) -> RowType:
    """RowType for an Arrow schema with schema-wide unique field ids.

    Id assignment matches pypaimon's ``PyarrowFieldParser.to_paimon_schema`` and Java's
    ``Schema.Builder.column`` + ``ReassignFieldId``: each top-level column takes the next id,
    then the ROW fields nested in its type are numbered depth-first from the same counter,
    each nested field's own children *before* the field itself. E.g. ``a INT,
    b ROW<x INT, y ROW<z INT>>, c INT`` gets a=0, b=1, x=2, z=3, y=4, c=5.
    """
    counter = _Counter(first_field_id)
    fields = []
    for i in range(len(schema)):
        top_id = counter.next()
        field = _field_from_arrow(top_id, schema.field(i))
        fields.append(dataclasses.replace(field, type=_reassign_ids(field.type, counter)))
    return RowType(tuple(fields))


class _Counter:
    def __init__(self, start: int) -> None:
        self._next = start

    def next(self) -> int:
        value, self._next = self._next, self._next + 1
        return value


def _reassign_ids(t: DataType, counter: _Counter) -> DataType:
    if isinstance(t, RowType):
        fields = []
        for f in t.fields:
            child_type = _reassign_ids(f.type, counter)
            fields.append(dataclasses.replace(f, id=counter.next(), type=child_type))
        return RowType(tuple(fields), t.nullable)
    if isinstance(t, (ArrayType, MultisetType, VectorType)):
        return dataclasses.replace(t, element=_reassign_ids(t.element, counter))
    if isinstance(t, MapType):
        return dataclasses.replace(t, key=_reassign_ids(t.key, counter), value=_reassign_ids(t.value, counter))
    return t
