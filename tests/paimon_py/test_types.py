"""Tests of paimon_py.types: JSON form, parsing, Arrow mapping, field ids."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypaimon.schema.data_types import DataTypeParser, PyarrowFieldParser

from paimon_py.types import (
    ArrayType,
    BigIntType,
    BinaryType,
    BlobType,
    BooleanType,
    CharType,
    DataField,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntType,
    LocalZonedTimestampType,
    MapType,
    MultisetType,
    RowType,
    SmallIntType,
    TimestampType,
    TimeType,
    TinyIntType,
    VarBinaryType,
    VarCharType,
    VariantType,
    VectorType,
    from_arrow_type,
    parse_data_type,
    row_type_from_arrow_schema,
    to_arrow_field,
    to_arrow_type,
)


def test_positional_parameters_and_nullable_keyword() -> None:
    assert DecimalType(38, 10) == DecimalType(precision=38, scale=10, nullable=True)
    assert IntType(nullable=False).nullable is False
    assert IntType().copy(False) == IntType(False)
    assert DecimalType(38, 10).copy(False) == DecimalType(38, 10, False)


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (BooleanType(), "BOOLEAN"),
        (TinyIntType(False), "TINYINT NOT NULL"),
        (SmallIntType(), "SMALLINT"),
        (IntType(), "INT"),
        (BigIntType(False), "BIGINT NOT NULL"),
        (FloatType(), "FLOAT"),
        (DoubleType(), "DOUBLE"),
        (DecimalType(38, 10, False), "DECIMAL(38, 10) NOT NULL"),
        (DecimalType(), "DECIMAL(10, 0)"),
        (CharType(3), "CHAR(3)"),
        (VarCharType(20), "VARCHAR(20)"),
        (VarCharType(), "STRING"),
        (BinaryType(16), "BINARY(16)"),
        (VarBinaryType(8), "VARBINARY(8)"),
        (VarBinaryType(), "BYTES"),
        (DateType(), "DATE"),
        (TimeType(), "TIME(0)"),
        (TimestampType(3), "TIMESTAMP(3)"),
        (TimestampType(), "TIMESTAMP(6)"),
        (LocalZonedTimestampType(), "TIMESTAMP(6) WITH LOCAL TIME ZONE"),
        (LocalZonedTimestampType(9, False), "TIMESTAMP(9) WITH LOCAL TIME ZONE NOT NULL"),
        (VariantType(), "VARIANT"),
        (BlobType(), "BLOB"),
    ],
)
def test_atomic_json(t: DataType, expected: str) -> None:
    assert t.to_json() == expected
    assert parse_data_type(expected) == t


def test_constructed_json() -> None:
    row = RowType((DataField(1, "a", IntType(False), "doc"), DataField(2, "b", VarCharType())), False)
    t = MapType(VarCharType(nullable=False), ArrayType(row))
    expected = {
        "type": "MAP",
        "key": "STRING NOT NULL",
        "value": {
            "type": "ARRAY",
            "element": {
                "type": "ROW NOT NULL",
                "fields": [
                    {"id": 1, "name": "a", "type": "INT NOT NULL", "description": "doc"},
                    {"id": 2, "name": "b", "type": "STRING"},
                ],
            },
        },
    }
    assert t.to_json() == expected
    assert parse_data_type(expected) == t
    multiset = MultisetType(IntType(), False)
    assert multiset.to_json() == {"type": "MULTISET NOT NULL", "element": "INT"}
    vector = VectorType(FloatType(False), 3)
    assert vector.to_json() == {"type": "VECTOR", "element": "FLOAT NOT NULL", "length": 3}
    assert parse_data_type(vector.to_json()) == vector


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("INTEGER", IntType()),
        ("integer not null", IntType(False)),
        ("INT NULL", IntType()),
        ("NUMERIC(12, 3)", DecimalType(12, 3)),
        ("DEC(7)", DecimalType(7, 0)),
        ("DECIMAL", DecimalType(10, 0)),
        ("DECIMAL(5,2) NOT NULL", DecimalType(5, 2, False)),
        ("TIMESTAMP_LTZ(3)", LocalZonedTimestampType(3)),
        ("TIMESTAMP_LTZ", LocalZonedTimestampType(6)),
        ("TIMESTAMP", TimestampType(6)),
        ("TIMESTAMP(3) WITHOUT TIME ZONE", TimestampType(3)),
        ("TIMESTAMP WITHOUT TIME ZONE NOT NULL", TimestampType(6, False)),
        ("TIMESTAMP WITH LOCAL TIME ZONE", LocalZonedTimestampType(6)),
        ("TIME", TimeType(0)),
        ("TIME(3) WITHOUT TIME ZONE", TimeType(3)),
        ("CHAR", CharType(1)),
        ("VARCHAR", VarCharType(1)),
        ("BINARY", BinaryType(1)),
        ("VARBINARY", VarBinaryType(1)),
        ("VARCHAR(2147483647)", VarCharType()),
        ("DOUBLE PRECISION", DoubleType()),
        ("STRING NOT NULL", VarCharType(nullable=False)),
        ("BYTES", VarBinaryType()),
    ],
)
def test_parse_spellings(text: str, expected: DataType) -> None:
    assert parse_data_type(text) == expected


@pytest.mark.parametrize("text", ["FOO", "INT(3)", "TIMESTAMP(3) WITH TIME ZONE", "DECIMAL(1, 2, 3)", ""])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_data_type(text)


def test_parse_ignores_nullable_key() -> None:
    obj = {"type": "ARRAY", "element": "INT", "nullable": True}
    assert parse_data_type(obj) == ArrayType(IntType())
    assert parse_data_type({"type": "ROW NOT NULL", "fields": [], "nullable": False}) == RowType((), False)


def test_data_field_json() -> None:
    f = DataField(7, "x", BigIntType(False), description="d", default_value="0")
    obj = f.to_json()
    assert obj == {"id": 7, "name": "x", "type": "BIGINT NOT NULL", "description": "d", "defaultValue": "0"}
    assert DataField.from_json(obj) == f
    assert DataField(1, "y", IntType()).to_json() == {"id": 1, "name": "y", "type": "INT"}


_ATOMIC = st.one_of(
    st.builds(BooleanType, st.booleans()),
    st.builds(TinyIntType, st.booleans()),
    st.builds(SmallIntType, st.booleans()),
    st.builds(IntType, st.booleans()),
    st.builds(BigIntType, st.booleans()),
    st.builds(FloatType, st.booleans()),
    st.builds(DoubleType, st.booleans()),
    st.integers(1, 38).flatmap(lambda p: st.builds(DecimalType, st.just(p), st.integers(0, p), st.booleans())),
    st.builds(CharType, st.integers(1, 255), st.booleans()),
    st.builds(VarCharType, st.sampled_from([1, 20, 2147483647]), st.booleans()),
    st.builds(BinaryType, st.integers(1, 255), st.booleans()),
    st.builds(VarBinaryType, st.sampled_from([1, 20, 2147483647]), st.booleans()),
    st.builds(DateType, st.booleans()),
    st.builds(TimeType, st.integers(0, 9), st.booleans()),
    st.builds(TimestampType, st.integers(0, 9), st.booleans()),
    st.builds(LocalZonedTimestampType, st.integers(0, 9), st.booleans()),
)


def _extend(children: st.SearchStrategy[DataType]) -> st.SearchStrategy[DataType]:
    names = st.text("abcxyz", min_size=1, max_size=4)
    fields = st.lists(st.tuples(names, children), max_size=3, unique_by=lambda p: p[0]).map(
        lambda pairs: tuple(DataField(i, n, t) for i, (n, t) in enumerate(pairs))
    )
    return st.one_of(
        st.builds(ArrayType, children, st.booleans()),
        st.builds(MultisetType, children, st.booleans()),
        st.builds(MapType, children, children, st.booleans()),
        st.builds(RowType, fields, st.booleans()),
    )


_TYPES = st.recursive(_ATOMIC, _extend, max_leaves=6)


def _without_nullable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _without_nullable(v) for k, v in obj.items() if k != "nullable"}
    if isinstance(obj, list):
        return [_without_nullable(v) for v in obj]
    return obj


@given(_TYPES)
def test_json_round_trip(t: DataType) -> None:
    assert parse_data_type(t.to_json()) == t


@given(_TYPES)
def test_pypaimon_reads_our_json(t: DataType) -> None:
    ours = t.to_json()
    theirs = DataTypeParser.parse_data_type(ours).to_dict()
    assert _without_nullable(theirs) == ours
    assert parse_data_type(theirs) == t


@pytest.mark.parametrize(
    ("t", "arrow"),
    [
        (BooleanType(), pa.bool_()),
        (TinyIntType(), pa.int8()),
        (SmallIntType(), pa.int16()),
        (IntType(), pa.int32()),
        (BigIntType(), pa.int64()),
        (FloatType(), pa.float32()),
        (DoubleType(), pa.float64()),
        (DecimalType(38, 10), pa.decimal128(38, 10)),
        (CharType(3), pa.string()),
        (VarCharType(), pa.string()),
        (BinaryType(4), pa.binary()),
        (VarBinaryType(), pa.binary()),
        (DateType(), pa.date32()),
        (TimeType(0), pa.time32("ms")),
        (TimeType(3), pa.time32("ms")),
        (TimeType(6), pa.time32("ms")),
        (TimestampType(0), pa.timestamp("ms")),
        (TimestampType(3), pa.timestamp("ms")),
        (TimestampType(4), pa.timestamp("us")),
        (TimestampType(6), pa.timestamp("us")),
        (TimestampType(9), pa.timestamp("ns")),
        (LocalZonedTimestampType(3), pa.timestamp("ms", tz="UTC")),
        (LocalZonedTimestampType(6), pa.timestamp("us", tz="UTC")),
        (ArrayType(IntType(False)), pa.list_(pa.field("element", pa.int32(), False))),
        (MapType(VarCharType(), DoubleType()), pa.map_(pa.string(), pa.float64())),
        (RowType((DataField(0, "a", IntType(False)),)), pa.struct([pa.field("a", pa.int32(), False)])),
    ],
)
def test_to_arrow_type(t: DataType, arrow: pa.DataType) -> None:
    assert to_arrow_type(t) == arrow


@pytest.mark.parametrize(
    ("arrow", "t"),
    [
        (pa.bool_(), BooleanType()),
        (pa.int8(), TinyIntType()),
        (pa.int16(), SmallIntType()),
        (pa.int32(), IntType()),
        (pa.int64(), BigIntType()),
        (pa.float32(), FloatType()),
        (pa.float64(), DoubleType()),
        (pa.string(), VarCharType()),
        (pa.large_string(), VarCharType()),
        (pa.binary(), VarBinaryType()),
        (pa.large_binary(), VarBinaryType()),
        (pa.binary(5), BinaryType(5)),
        (pa.decimal128(20, 4), DecimalType(20, 4)),
        (pa.date32(), DateType()),
        (pa.time32("s"), TimeType(0)),
        (pa.time32("ms"), TimeType(3)),
        (pa.time64("us"), TimeType(6)),
        (pa.timestamp("s"), TimestampType(0)),
        (pa.timestamp("ms"), TimestampType(3)),
        (pa.timestamp("us"), TimestampType(6)),
        (pa.timestamp("ns"), TimestampType(9)),
        (pa.timestamp("us", tz="Europe/Paris"), LocalZonedTimestampType(6)),
        (pa.list_(pa.int32()), ArrayType(IntType())),
        (pa.large_list(pa.field("e", pa.int32(), False)), ArrayType(IntType(False))),
        (pa.map_(pa.string(), pa.int64()), MapType(VarCharType(nullable=False), BigIntType())),
        (pa.dictionary(pa.int32(), pa.string()), VarCharType()),
    ],
)
def test_from_arrow_type(arrow: pa.DataType, t: DataType) -> None:
    assert from_arrow_type(arrow) == t
    assert from_arrow_type(arrow, nullable=False) == t.copy(False)


def test_from_arrow_struct_and_unsupported() -> None:
    struct = pa.struct([pa.field("a", pa.int32(), False), ("b", pa.string())])
    assert from_arrow_type(struct) == RowType((DataField(0, "a", IntType(False)), DataField(1, "b", VarCharType())))
    with pytest.raises(TypeError):
        from_arrow_type(pa.null())


def test_to_arrow_field_and_schema() -> None:
    row = RowType((DataField(0, "id", BigIntType(False), "key"), DataField(1, "v", VarCharType())))
    schema = row.to_arrow_schema()
    assert schema == pa.schema([pa.field("id", pa.int64(), False), pa.field("v", pa.string())])
    assert schema.field("id").metadata == {b"description": b"key"}
    assert to_arrow_field(row.fields[1]) == pa.field("v", pa.string(), True)


_NESTED_SCHEMA = pa.schema(
    [
        pa.field("a", pa.int32(), False),
        ("b", pa.struct([("x", pa.int32()), ("y", pa.struct([("z", pa.int32())]))])),
        ("c", pa.list_(pa.struct([("q", pa.int8())]))),
        ("m", pa.map_(pa.string(), pa.struct([("v", pa.int16())]))),
        ("d", pa.string()),
    ]
)


def test_row_type_from_arrow_schema_ids_match_pypaimon() -> None:
    row = row_type_from_arrow_schema(_NESTED_SCHEMA)
    theirs = [f.to_dict() for f in PyarrowFieldParser.to_paimon_schema(_NESTED_SCHEMA)]
    assert [f.to_json() for f in row.fields] == _without_nullable(theirs)
    b = row.field("b").type
    assert isinstance(b, RowType)
    assert [(f.name, f.id) for f in b.fields] == [("x", 2), ("y", 4)]
    assert row.field_names == ["a", "b", "c", "m", "d"]
    assert row.highest_field_id() == 9
    assert row.field("d").id == 9


def test_row_type_from_arrow_schema_first_id_and_round_trip() -> None:
    schema = pa.schema([pa.field("k", pa.int64(), False), ("s", pa.struct([("t", pa.timestamp("us"))]))])
    row = row_type_from_arrow_schema(schema, first_field_id=10)
    assert [f.id for f in row.fields] == [10, 11]
    assert row.highest_field_id() == 12
    assert row.to_arrow_schema() == schema


def test_row_type_helpers() -> None:
    row = RowType([DataField(0, "a", IntType())])
    assert isinstance(row.fields, tuple)
    assert row.field("a").id == 0
    with pytest.raises(KeyError):
        row.field("zz")
    assert RowType().highest_field_id() == -1
    assert hash(row) == hash(RowType((DataField(0, "a", IntType()),)))
