"""Schema files: JSON form, creation rules and evolution."""

import json

import pyarrow as pa
import pytest

from paimon_py import Schema, SchemaChange
from paimon_py.exceptions import OptionError
from paimon_py.fs.file_io import FileIO
from paimon_py.schema.schema_manager import SchemaManager
from paimon_py.schema.table_schema import TableSchema
from paimon_py.types import BigIntType, IntType

PA_SCHEMA = pa.schema([pa.field("id", pa.int32()), pa.field("dt", pa.string()), pa.field("v", pa.string())])


def manager(tmp_path) -> SchemaManager:
    file_io, path = FileIO.for_uri(str(tmp_path / "t"))
    return SchemaManager(file_io, path)


def test_schema_zero_json_matches_java_layout(tmp_path):
    schema = manager(tmp_path).create_table(Schema.from_pyarrow_schema(
        PA_SCHEMA, partition_keys=["dt"], primary_keys=["id", "dt"], options={"bucket": 2}))
    data = json.loads((tmp_path / "t" / "schema" / "schema-0").read_text())
    assert data["version"] == 3 and data["id"] == 0 and data["highestFieldId"] == 2
    assert data["fields"][0] == {"id": 0, "name": "id", "type": "INT NOT NULL"}
    assert data["fields"][2] == {"id": 2, "name": "v", "type": "STRING"}
    assert data["options"] == {"bucket": "2", "file.format": "parquet"}
    assert "comment" not in data  # Java reads JSON null as the text "null"
    assert TableSchema.from_json(schema.to_json()) == schema


def test_old_schema_versions_get_old_defaults():
    old = json.dumps({"version": 1, "id": 0, "fields": [], "highestFieldId": -1,
                      "partitionKeys": [], "primaryKeys": [], "options": {}})
    assert TableSchema.from_json(old).options == {"bucket": "1", "file.format": "orc"}


def test_create_twice_fails(tmp_path):
    m = manager(tmp_path)
    m.create_table(Schema.from_pyarrow_schema(PA_SCHEMA))
    with pytest.raises(FileExistsError):
        m.create_table(Schema.from_pyarrow_schema(PA_SCHEMA))


@pytest.mark.parametrize("options, message", [
    ({"bucket": "abc"}, "^bucket=abc is not an integer — "),
    ({"merge-engine": "foo"}, "^merge-engine=foo is unknown — use one of deduplicate, "),
    ({"file.format": "csv"}, "^file.format=csv is unknown — use one of parquet, orc$"),
    ({"write-buffer-size": "lots"}, "^write-buffer-size=lots is not a memory size — "),
])
def test_bad_option_values_name_the_option(tmp_path, options, message):
    with pytest.raises(OptionError, match=message):
        manager(tmp_path).create_table(Schema.from_pyarrow_schema(PA_SCHEMA, primary_keys=["id"], options=options))


def test_bucketed_append_needs_bucket_key(tmp_path):
    with pytest.raises(ValueError, match="bucket-key"):
        manager(tmp_path).create_table(Schema.from_pyarrow_schema(PA_SCHEMA, options={"bucket": "2"}))


def test_evolution_keeps_field_ids(tmp_path):
    m = manager(tmp_path)
    m.create_table(Schema.from_pyarrow_schema(PA_SCHEMA, primary_keys=["id"], options={"bucket": "1"}))
    s1 = m.commit_changes([SchemaChange.add_column("c", pa.int32()),
                           SchemaChange.rename_column("v", "value")])
    s2 = m.commit_changes([SchemaChange.update_column_type("c", BigIntType()),
                           SchemaChange.set_option("snapshot.num-retained.max", "5")])
    assert (s1.id, s2.id) == (1, 2)
    assert [(f.id, f.name) for f in s2.fields] == [(0, "id"), (1, "dt"), (2, "value"), (3, "c")]
    assert s2.field("c").type == BigIntType()
    assert s2.highest_field_id == 3
    assert m.latest() == s2 and m.list_ids() == [0, 1, 2]


def test_narrowing_and_key_changes_are_refused(tmp_path):
    m = manager(tmp_path)
    m.create_table(Schema.from_pyarrow_schema(
        pa.schema([pa.field("id", pa.int64()), pa.field("n", pa.int64())]), primary_keys=["id"],
        options={"bucket": "1"}))
    with pytest.raises(ValueError, match="only widening"):
        m.commit_changes([SchemaChange.update_column_type("n", IntType())])
    with pytest.raises(ValueError, match="must stay NOT NULL"):
        m.commit_changes([SchemaChange.drop_not_null("id")])
    with pytest.raises(ValueError, match="already exists"):
        m.commit_changes([SchemaChange.add_column("n", pa.int64())])
    assert m.list_ids() == [0]
