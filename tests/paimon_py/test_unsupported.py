"""Tables paimon_py cannot handle correctly yet are refused with a clear error, never misread."""

import pyarrow as pa
import pytest

import paimon_py
from paimon_py.exceptions import OptionError

SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("v", pa.string())])


@pytest.fixture
def catalog(tmp_path):
    catalog = paimon_py.CatalogFactory.create({"warehouse": str(tmp_path)})
    catalog.create_database("db")
    return catalog


def test_partial_update_sequence_groups_are_refused(catalog):
    """Sequence groups change how partial updates merge; misreading them would be wrong data."""
    schema = SCHEMA.append(pa.field("ts", pa.int64()))
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(
        schema, primary_keys=["id"], options={"bucket": "1", "merge-engine": "partial-update",
                                              "fields.ts.sequence-group": "v"}))
    table = catalog.get_table("db.t")
    with pytest.raises(NotImplementedError, match="sequence-group"):
        table.new_batch_write_builder().new_write()
    with pytest.raises(NotImplementedError, match="sequence-group"):
        table.new_read_builder().new_read()


def test_postpone_bucket_primary_key_tables_are_not_written(catalog):
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(SCHEMA, primary_keys=["id"],
                                                                      options={"bucket": "-2"}))
    with pytest.raises(NotImplementedError, match="postpone-bucket"):
        catalog.get_table("db.t").new_batch_write_builder().new_write()


def test_cross_partition_dynamic_bucket_tables_are_not_written(catalog):
    """A primary key without the partition columns needs Paimon's global index."""
    schema = SCHEMA.append(pa.field("day", pa.string()))
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(schema, primary_keys=["id"],
                                                                      partition_keys=["day"]))
    with pytest.raises(NotImplementedError, match=r"lacks partition column\(s\) \['day'\]"):
        catalog.get_table("db.t").new_batch_write_builder().new_write()


def test_dynamic_bucket_tables_are_not_overwritten(catalog):
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(SCHEMA, primary_keys=["id"]))
    with pytest.raises(NotImplementedError, match="cannot overwrite dynamic-bucket"):
        catalog.get_table("db.t").new_batch_write_builder().overwrite().new_write()


def test_64_bit_deletion_vectors_are_refused(catalog):
    with pytest.raises(OptionError, match="deletion-vectors.bitmap64"):
        catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(
            SCHEMA, primary_keys=["id"], options={"bucket": "1", "deletion-vectors.enabled": "true",
                                                  "deletion-vectors.bitmap64": "true"}))


def test_append_tables_refuse_retractions(catalog):
    schema = SCHEMA.append(pa.field("rk", pa.string()))
    catalog.create_table("db.log", paimon_py.Schema.from_pyarrow_schema(schema, options={"rowkind.field": "rk"}))
    write = catalog.get_table("db.log").new_batch_write_builder().new_write()
    with pytest.raises(ValueError, match="accepts only inserts"):
        write.write_arrow(pa.table({"id": [1, 2], "v": ["a", "b"], "rk": ["+I", "-D"]}, schema=schema))
