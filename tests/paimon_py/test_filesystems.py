"""The catalog works over any pyarrow filesystem, not only local disk."""

import fsspec
import pyarrow as pa
import pyarrow.fs as pafs

import paimon_py

SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("v", pa.string())])


def test_primary_key_table_on_a_non_local_filesystem():
    memory = fsspec.filesystem("memory")
    memory.store.clear()
    filesystem = pafs.PyFileSystem(pafs.FSSpecHandler(memory))
    catalog = paimon_py.CatalogFactory.create({"warehouse": "/lake"}, filesystem=filesystem)
    catalog.create_database("db")
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(
        SCHEMA, primary_keys=["id"], options={"bucket": "2"}))
    table = catalog.get_table("db.t")
    for values in (["a", "b", "c"], ["x", "y", "z"]):
        builder = table.new_batch_write_builder()
        write, commit = builder.new_write(), builder.new_commit()
        write.write_arrow(pa.table({"id": [1, 2, 3], "v": values}, schema=SCHEMA))
        commit.commit(write.prepare_commit())
    read = table.new_read_builder()
    result = read.new_read().to_arrow(read.new_scan().plan().splits()).sort_by("id")
    assert result.column("v").to_pylist() == ["x", "y", "z"]
    assert table.snapshot_manager.list_ids() == [1, 2]
    assert not any(info.path.startswith("/tmp") for info in filesystem.get_file_info(
        pafs.FileSelector("/lake", recursive=True)))
    assert memory.exists("/lake/db.db/t/snapshot/snapshot-2")


def test_orc_tables_are_read_by_pypaimon(tmp_path):
    import pypaimon

    catalog = paimon_py.CatalogFactory.create({"warehouse": str(tmp_path)})
    catalog.create_database("db")
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(
        SCHEMA, primary_keys=["id"], options={"bucket": "2", "file.format": "orc"}))
    table = catalog.get_table("db.t")
    for values in (["a", "b", "c"], ["x", None, "z"]):
        builder = table.new_batch_write_builder()
        write, commit = builder.new_write(), builder.new_commit()
        write.write_arrow(pa.table({"id": [1, 2, 3], "v": values}, schema=SCHEMA))
        commit.commit(write.prepare_commit())
    assert list(tmp_path.glob("db.db/t/bucket-*/*.orc"))
    for tbl in (table, pypaimon.CatalogFactory.create({"warehouse": str(tmp_path)}).get_table("db.t")):
        read = tbl.new_read_builder()
        result = read.new_read().to_arrow(read.new_scan().plan().splits()).sort_by("id")
        assert result.column("v").to_pylist() == ["x", None, "z"]
