"""pypaimon's public names on paimon_py: the data-type API, snapshot manager, tags and rollback
through the table, ``alter_table(..., ignore_if_not_exists)``, ``drop_column``, ``CoreOptions``."""

from __future__ import annotations

import pyarrow as pa
import pypaimon.schema.data_types as theirs
import pytest

from paimon_py import SnapshotNotFound
from paimon_py.options import CoreOptions
from paimon_py.schema.data_types import (ArrayType, AtomicType, DataField, DataType, MapType, PyarrowFieldParser,
                                         RowType)
from paimon_py.schema.schema_change import SchemaChange
from paimon_py.types import DecimalType, IntType
from tests.support import helpers as h

SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("name", pa.string()),
                    pa.field("tags", pa.list_(pa.string())), pa.field("attrs", pa.map_(pa.string(), pa.int32())),
                    pa.field("pos", pa.struct([pa.field("x", pa.float64()), pa.field("y", pa.float64())]))])


def test_types_are_built_and_serialized_as_in_pypaimon():
    assert AtomicType("INT") == IntType() and isinstance(IntType(), AtomicType)
    assert AtomicType("DECIMAL(10, 2)", nullable=False) == DecimalType(10, 2, nullable=False)
    assert AtomicType("DECIMAL(10, 2)").type == theirs.AtomicType("DECIMAL(10, 2)").type
    ours = MapType(False, AtomicType("STRING"), ArrayType(True, AtomicType("INT")))
    reference = theirs.MapType(False, theirs.AtomicType("STRING"), theirs.ArrayType(True, theirs.AtomicType("INT")))
    assert DataType.from_dict(reference.to_dict()) == ours
    assert str(ours) == str(DataType.from_dict(ours.to_dict()))
    row = RowType(True, [DataField(0, "a", AtomicType("INT"))])
    assert row.fields[0].name == "a" and row.nullable
    field = theirs.DataField(3, "m", reference, "a map")
    assert DataField.from_dict(field.to_dict()) == DataField(3, "m", ours, "a map")


def test_pyarrow_field_parser_matches_pypaimon():
    ours = PyarrowFieldParser.to_paimon_schema(SCHEMA)
    reference = theirs.PyarrowFieldParser.to_paimon_schema(SCHEMA)
    assert ours == [DataField.from_dict(f.to_dict()) for f in reference]
    assert PyarrowFieldParser.from_paimon_schema(ours) == theirs.PyarrowFieldParser.from_paimon_schema(reference)
    assert PyarrowFieldParser.to_paimon_field(0, SCHEMA.field("name")) == DataField(0, "name", AtomicType("STRING"))


def test_core_options_constants_are_keys():
    assert CoreOptions.BUCKET == "bucket" and CoreOptions.BUCKET.key() == "bucket"
    assert CoreOptions.SNAPSHOT_NUM_RETAINED_MIN.key() == "snapshot.num-retained.min"
    assert CoreOptions.FILE_FORMAT == "file.format"


def _commit(table, ids):
    h.write_rows(table, SCHEMA, [{"id": i, "name": f"n{i}"} for i in ids])


def _ids(table):
    return sorted(h.read_arrow(table).column("id").to_pylist())


def test_tags_and_rollback_through_the_table(pp_catalog):
    table = h.create_table(pp_catalog, "t", SCHEMA, primary_keys=["id"], options={"bucket": "1"})
    for start in (0, 10, 20):
        _commit(table, range(start, start + 3))
    table.create_tag("two", 2)
    table.create_tag("three")
    assert table.list_tags() == ["three", "two"]
    assert table.snapshot_manager().get_latest_snapshot().id == 3 == table.snapshot_manager.latest_snapshot_id()
    table.rollback_to("two")
    assert _ids(table) == [0, 1, 2, 10, 11, 12] and table.list_tags() == ["two"]
    table.rollback_to(1)
    assert _ids(table) == [0, 1, 2] and table.list_tags() == []
    _commit(table, [5])
    assert _ids(table) == [0, 1, 2, 5] and table.snapshot_manager().get_latest_snapshot().id == 2
    assert table.delete_tag("two") is False
    with pytest.raises(SnapshotNotFound):
        table.rollback_to("missing")
    with pytest.raises(SnapshotNotFound):
        table.create_tag("later", 9)


def test_rollback_to_a_tag_whose_snapshot_expired(pp_catalog):
    table = h.create_table(pp_catalog, "expired", SCHEMA, options={"snapshot.num-retained.min": "1",
                                                                   "snapshot.num-retained.max": "1"})
    _commit(table, [1])
    table.create_tag("first")
    _commit(table, [2])
    _commit(table, [3])
    assert table.snapshot_manager.list_ids() == [3]
    table.rollback_to(1)
    assert table.snapshot_manager.list_ids() == [1] and _ids(table) == [1]


def test_drop_column_and_alter_table_ignore_if_not_exists(pp_catalog, ppy_catalog):
    table = h.create_table(pp_catalog, "drop", SCHEMA, primary_keys=["id"], options={"bucket": "1"})
    _commit(table, [1])
    pp_catalog.alter_table(f"{h.DB}.drop", [SchemaChange.drop_column("name")], False)
    pp_catalog.alter_table(f"{h.DB}.drop", [SchemaChange.add_column("name", pa.string())], False)
    pp_catalog.alter_table(f"{h.DB}.missing", [SchemaChange.drop_column("name")], True)
    for catalog in (pp_catalog, ppy_catalog):
        rows = h.read_arrow(catalog.get_table(f"{h.DB}.drop")).to_pylist()
        assert [(r["id"], r["name"]) for r in rows] == [(1, None)]
    with pytest.raises(ValueError, match="key column"):
        pp_catalog.alter_table(f"{h.DB}.drop", [SchemaChange.drop_column(["id"])])
