"""``SortedRunAppend``: rows arriving in key order go straight into one level-0 file; what is not in
key order (or not inserts, or not a deduplicate table with one integer key) is buffered as before;
records of both merge by sequence number; a failed write raises at the flush, and a writer closed
before its flush leaves no file."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest

import paimon_py
from paimon_py.io.data_file_writer import RollingFileWriter

SCHEMA = pa.schema([pa.field("k", pa.int64(), nullable=False), pa.field("v", pa.string()),
                    pa.field("rk", pa.string())])
OPTIONS = {"bucket": "1", "rowkind.field": "rk", "write-only": "true"}


def new_table(warehouse, options=OPTIONS, schema=SCHEMA, keys=("k",)):
    catalog = paimon_py.CatalogFactory.create({"warehouse": str(warehouse)})
    catalog.create_database("db", ignore_if_exists=True)
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(schema, primary_keys=list(keys),
                                                                      options=options))
    return catalog.get_table("db.t")


def rows(keys, value, kind="+I") -> pa.Table:
    return pa.table({"k": list(keys), "v": [value] * len(keys), "rk": [kind] * len(keys)}, schema=SCHEMA)


def commit(table, write) -> list:
    messages = write.prepare_commit()
    table.new_file_store_commit().commit(messages)
    return [f for m in messages for f in m.new_files]


def read(table) -> dict:
    rb = table.new_read_builder()
    result = rb.new_read().to_arrow(rb.new_scan().plan().splits())
    return dict(zip(result.column("k").to_pylist(), result.column("v").to_pylist()))


def test_rows_in_key_order_become_one_level0_file_without_the_buffer(tmp_path):
    table = new_table(tmp_path)
    write = table.new_file_store_write()
    for start in range(0, 50_000, 5_000):
        write.write(rows(range(start, start + 5_000), f"v{start}"))
        writer = next(iter(write.writers.values()))
        assert writer._buffer == [] and write.write_buffer.used_bytes() == writer.buffered_bytes() > 0  # held, counted
    files = commit(table, write)
    assert write.stats().flushes == 1 and [f.level for f in files] == [0] and files[0].row_count == 50_000
    write.close()
    assert read(table) == {k: f"v{k - k % 5_000}" for k in range(50_000)}


def test_appended_and_buffered_records_merge_by_sequence(tmp_path):
    table = new_table(tmp_path)
    write = table.new_file_store_write()
    write.write(rows(range(2000), "a"))             # appended
    write.write(rows([2500, 10], "b"))              # not in key order: buffered (10 newer than the run's)
    write.write(rows(range(2000, 4000), "c"))       # appended after 1999 (its 2500 newer than the buffer's)
    write.write(rows(range(5000, 7000), "d", kind="-D"))  # not inserts: buffered
    write.write(rows(range(1000, 3000), "e"))       # not after the run's last key: buffered
    write.write(rows(range(9000, 9010), "f"))       # fewer than MIN_ROWS: buffered
    files = commit(table, write)
    write.close()
    assert len(files) == 2 and sorted(f.row_count for f in files) == [4000, 4011]
    expected = {k: "a" for k in range(2000)} | {k: "c" for k in range(2000, 4000)} | {10: "b"} \
        | {k: "e" for k in range(1000, 3000)} | {k: "f" for k in range(9000, 9010)}
    assert read(table) == expected


@pytest.mark.parametrize("options, schema, keys", [
    ({**OPTIONS, "merge-engine": "partial-update"}, SCHEMA, ("k",)),
    (OPTIONS, pa.schema([pa.field("k", pa.string(), nullable=False), pa.field("v", pa.string()),
                         pa.field("rk", pa.string())]), ("k",)),
    (OPTIONS, pa.schema([pa.field("k", pa.int64(), nullable=False), pa.field("v", pa.string(), nullable=False),
                         pa.field("rk", pa.string())]), ("k", "v")),
    ({**OPTIONS, "changelog-producer": "input"}, SCHEMA, ("k",)),
])
def test_other_tables_buffer_rows_in_key_order(tmp_path, options, schema, keys):
    table = new_table(tmp_path, options, schema, keys)
    write = table.new_file_store_write()
    batch = rows(range(1000), "x")
    write.write(batch.cast(schema) if schema != SCHEMA else batch)
    assert write.write_buffer.used_bytes() >= batch.nbytes  # buffered
    commit(table, write)
    write.close()
    assert len(read(table)) == 1000


def test_a_failed_write_raises_at_the_flush_and_leaves_no_file(tmp_path, monkeypatch):
    table = new_table(tmp_path)
    write = table.new_file_store_write()
    written = RollingFileWriter.write

    def failing(self, table):
        if table.num_rows == 3_000:
            raise OSError("disk full")
        written(self, table)

    monkeypatch.setattr(RollingFileWriter, "write", failing)
    write.write(rows(range(0, 60_000), "a"))  # a row group's worth: written
    write.write(rows(range(60_000, 63_000), "b"))
    with pytest.raises(OSError, match="disk full"):
        write.prepare_commit()
    write.close()
    assert data_files(tmp_path) == []


def test_a_writer_closed_before_its_flush_leaves_no_file(tmp_path):
    table = new_table(tmp_path)
    write = table.new_file_store_write()
    write.write(rows(range(200_000), "a"))
    write.close()
    assert data_files(tmp_path) == []


def data_files(warehouse) -> list[str]:
    return [name for _, _, names in os.walk(warehouse / "db.db" / "t") for name in names if name.startswith("data-")]
