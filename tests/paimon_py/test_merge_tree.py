"""The LSM tree: flushes, universal compaction, write stalls, levels that never overlap, and
results equal to a plain dictionary model, read by paimon_py and by pypaimon."""

from __future__ import annotations

import os
import tempfile
import tracemalloc
from types import SimpleNamespace

import pyarrow as pa
import pypaimon
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paimon_py
from paimon_py.mergetree.key_value_io import READ_BATCH_BYTES, READ_BATCH_ROWS, _batch_rows
from paimon_py.snapshot.snapshot import CommitKind

SCHEMA = pa.schema([pa.field("k", pa.int64(), nullable=False), pa.field("v", pa.string()),
                    pa.field("rk", pa.string())])
SMALL_LSM = {"bucket": "2", "rowkind.field": "rk", "num-sorted-run.compaction-trigger": "2",
             "num-sorted-run.stop-trigger": "3", "num-levels": "4", "write-buffer-size": "4 kb",
             "target-file-size": "2 kb"}


def new_table(warehouse, options):
    catalog = paimon_py.CatalogFactory.create({"warehouse": str(warehouse)})
    catalog.create_database("db", ignore_if_exists=True)
    catalog.drop_table("db.t", ignore_if_not_exists=True)
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(
        SCHEMA, primary_keys=["k"], options=options))
    return catalog.get_table("db.t")


def read(table) -> dict:
    rb = table.new_read_builder()
    result = rb.new_read().to_arrow(rb.new_scan().plan().splits())
    return dict(zip(result.column("k").to_pylist(), result.column("v").to_pylist()))


def check_levels(table):
    """Per bucket: at most stop-trigger sorted runs; files of a level >= 1 never overlap."""
    scan = table.new_scan()
    entries = scan.live_entries(table.snapshot_manager.latest_snapshot())
    key_of = lambda b: paimon_py.data.binary_row.BinaryRow.deserialize(b, table.schema.types_of(["k"]))
    buckets: dict = {}
    for e in entries:
        buckets.setdefault((e.partition, e.bucket), []).append(e.file)
    for files in buckets.values():
        level0 = [f for f in files if f.level == 0]
        higher = {f.level for f in files if f.level > 0}
        assert len(level0) + len(higher) <= int(table.options.options["num-sorted-run.stop-trigger"]) + 1
        for level in higher:
            ranges = sorted((key_of(f.min_key), key_of(f.max_key)) for f in files if f.level == level)
            for (_, high), (low, _) in zip(ranges, ranges[1:]):
                assert high < low, f"overlapping files at level {level}"


changes = st.lists(st.tuples(st.sampled_from(["+I", "+U", "-D"]), st.integers(0, 60),
                             st.text(max_size=12)), min_size=1, max_size=80)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(changes, min_size=1, max_size=8), writes_per_commit=st.integers(1, 3))
def test_lsm_equals_dictionary_model(tmp_path_factory, batches, writes_per_commit):
    warehouse = tmp_path_factory.mktemp("lsm")
    table = new_table(warehouse, SMALL_LSM)
    model: dict = {}
    builder = table.new_batch_write_builder()
    write, commit = builder.new_write(), builder.new_commit()
    for i, batch in enumerate(batches):
        write.write_arrow(pa.table({"k": [b[1] for b in batch], "v": [b[2] for b in batch],
                                    "rk": [b[0] for b in batch]}, schema=SCHEMA))
        for kind, key, value in batch:
            if kind == "-D":
                model.pop(key, None)
            else:
                model[key] = value
        if (i + 1) % writes_per_commit == 0 or i == len(batches) - 1:
            commit.commit(write.prepare_commit())
            assert read(table) == model
            reference = pypaimon.CatalogFactory.create({"warehouse": str(warehouse)}).get_table("db.t")
            assert read(reference) == model
            check_levels(table)
    write.close()


def test_compaction_produces_compact_snapshots_and_bounded_runs(tmp_path):
    table = new_table(tmp_path, SMALL_LSM)
    model = {}
    for round_ in range(12):
        builder = table.new_batch_write_builder()
        write, commit = builder.new_write(), builder.new_commit()
        keys = list(range(round_ * 7, round_ * 7 + 200))
        write.write_arrow(pa.table({"k": keys, "v": [f"r{round_}"] * len(keys), "rk": ["+I"] * len(keys)},
                                   schema=SCHEMA))
        model.update({k: f"r{round_}" for k in keys})
        commit.commit(write.prepare_commit())
        write.close()
        check_levels(table)
    kinds = [table.snapshot_manager.snapshot(i).commit_kind for i in table.snapshot_manager.list_ids()]
    assert CommitKind.COMPACT in kinds and kinds.count(CommitKind.APPEND) == 12
    assert read(table) == model
    files = table.new_scan().live_entries(table.snapshot_manager.latest_snapshot())
    assert max(e.file.level for e in files) >= 1


def test_write_buffer_flushes_when_full_and_stalls_keep_runs_bounded(tmp_path):
    table = new_table(tmp_path, {**SMALL_LSM, "bucket": "1"})
    write = table.new_file_store_write()
    for i in range(40):
        keys = list(range(i * 50 + 49, i * 50 - 1, -1))  # not in key order: buffered, not appended
        write.write(pa.table({"k": keys, "v": ["x" * 20] * 50, "rk": ["+I"] * 50}, schema=SCHEMA))
        assert write.write_buffer.used_bytes() <= write.write_buffer.budget_bytes
        levels = next(iter(write.writers.values())).levels
        assert levels.number_of_sorted_runs() <= 3 + 1
        stats = write.stats()
        assert stats.buffer_bytes == write.write_buffer.used_bytes()
        assert stats.max_sorted_runs == levels.number_of_sorted_runs()
    messages = write.prepare_commit()
    stats = write.stats()
    write.close()
    table.new_file_store_commit().commit(messages)
    assert read(table) == {k: "x" * 20 for k in range(2000)}
    assert stats.rows_written == 2000 and stats.flushes >= 1 and stats.spills > 1 and stats.buffer_bytes == 0
    assert stats.compactions > 0 and stats.compaction_ms >= 0


def test_write_only_never_compacts(tmp_path):
    table = new_table(tmp_path, {**SMALL_LSM, "write-only": "true"})
    for i in range(6):
        builder = table.new_batch_write_builder()
        write, commit = builder.new_write(), builder.new_commit()
        write.write_arrow(pa.table({"k": [1, 2], "v": [str(i)] * 2, "rk": ["+I"] * 2}, schema=SCHEMA))
        commit.commit(write.prepare_commit())
        write.close()
    kinds = {table.snapshot_manager.snapshot(i).commit_kind for i in table.snapshot_manager.list_ids()}
    assert kinds == {CommitKind.APPEND}
    assert read(table) == {1: "5", 2: "5"}


@pytest.mark.parametrize("spillable", ["true", "false"])
def test_full_buffer_spills_to_disk_or_flushes_level0(tmp_path, spillable):
    options = {**SMALL_LSM, "bucket": "1", "write-only": "true", "write-buffer-spillable": spillable,
               "target-file-size": "128 mb"}
    table = new_table(tmp_path, options)
    write = table.new_file_store_write()
    model = {}
    for i in range(30):
        keys = [(i * 37 + j * 11) % 700 for j in range(59, -1, -1)]  # not in key order: buffered
        write.write(pa.table({"k": keys, "v": [f"{i}"] * 60, "rk": ["+I"] * 60}, schema=SCHEMA))
        model.update({k: f"{i}" for k in keys})
        assert write.write_buffer.used_bytes() <= write.write_buffer.budget_bytes
    writer = next(iter(write.writers.values()))
    spilled = len(writer.spill_files) if writer.spill_files is not None else 0
    messages = write.prepare_commit()
    stats = write.stats()
    write.close()
    assert stats.spills == spilled and stats.rows_written == 30 * 60
    new_files = [f for m in messages for f in m.new_files]
    if spillable == "true":
        assert spilled > 1 and len(new_files) == 1  # the spilled runs merged into one sorted run
    else:
        assert len(new_files) > 1
    table.new_file_store_commit().commit(messages)
    assert read(table) == model


def test_the_spill_directory_exists_only_from_the_first_spill_to_close(tmp_path, monkeypatch):
    """A writer that never spills (or is killed before it does) leaves no directory behind."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "local"))
    os.makedirs(tmp_path / "local")
    table = new_table(tmp_path / "lake", {**SMALL_LSM, "bucket": "1", "write-only": "true"})
    write = table.new_file_store_write()
    write.write(pa.table({"k": [1, 2], "v": ["a", "b"], "rk": ["+I"] * 2}, schema=SCHEMA))
    assert os.listdir(tmp_path / "local") == []
    for i in range(30):  # past the small write buffer: runs spilled
        write.write(pa.table({"k": list(range(i * 60 + 59, i * 60 - 1, -1)), "v": ["x"] * 60, "rk": ["+I"] * 60},
                             schema=SCHEMA))
    assert [d[:13] for d in os.listdir(tmp_path / "local")] == ["paimon-spill-"]
    write.prepare_commit()
    write.close()
    assert os.listdir(tmp_path / "local") == []


@pytest.mark.parametrize("spillable", ["true", "false"])
def test_write_buffer_size_bounds_the_memory_buffered(tmp_path, spillable):
    """Narrow rows (the sequence number a writer adds is half their size) through a 512 KiB buffer:
    after every write the memory held (Arrow's pool and numpy's, which backs the sequence numbers)
    stays within 1.2x the option."""
    budget = 2**19
    schema = pa.schema([pa.field("k", pa.int64(), nullable=False), pa.field("n", pa.int64())])
    catalog = paimon_py.CatalogFactory.create({"warehouse": str(tmp_path)})
    catalog.create_database("db", ignore_if_exists=True)
    catalog.create_table("db.narrow", paimon_py.Schema.from_pyarrow_schema(schema, primary_keys=["k"], options={
        "bucket": "2", "write-only": "true", "write-buffer-size": "512 kb", "write-buffer-spillable": spillable}))
    write = catalog.get_table("db.narrow").new_file_store_write()
    tracemalloc.start()  # numpy reports its buffers to tracemalloc; Arrow's pool counts its own
    baseline = pa.total_allocated_bytes() + tracemalloc.get_traced_memory()[0]
    held, written = [], 0
    for i in range(100):
        batch = pa.table({"k": pa.array(range(i * 4000, (i + 1) * 4000), pa.int64()),
                          "n": pa.array([i] * 4000, pa.int64())}, schema=schema)
        written += batch.nbytes
        write.write(batch)
        del batch
        held.append(pa.total_allocated_bytes() + tracemalloc.get_traced_memory()[0] - baseline)
    tracemalloc.stop()
    stats = write.stats()
    write.close()
    assert written > 10 * budget and stats.spills + stats.flushes > 5
    assert max(held) <= 1.2 * budget, f"peak {max(held):,} bytes held against write-buffer-size {budget:,}"


@pytest.mark.parametrize("bucket", ["-1", "2"])
def test_append_tables_compact_small_files_and_keep_row_order(tmp_path, bucket):
    schema = pa.schema([pa.field("n", pa.int64()), pa.field("v", pa.string())])
    catalog = paimon_py.CatalogFactory.create({"warehouse": str(tmp_path)})
    catalog.create_database("db")
    options = {"bucket": bucket, "compaction.min.file-num": "3"}
    if bucket != "-1":
        options["bucket-key"] = "n"
    catalog.create_table("db.log", paimon_py.Schema.from_pyarrow_schema(schema, options=options))
    table = catalog.get_table("db.log")
    for i in range(7):
        builder = table.new_batch_write_builder()
        write, commit = builder.new_write(), builder.new_commit()
        write.write_arrow(pa.table({"n": list(range(i * 10, i * 10 + 10)), "v": [str(i)] * 10}, schema=schema))
        commit.commit(write.prepare_commit())
        write.close()
    kinds = [table.snapshot_manager.snapshot(i).commit_kind for i in table.snapshot_manager.list_ids()]
    assert CommitKind.COMPACT in kinds
    live = table.new_scan().live_entries(table.snapshot_manager.latest_snapshot())
    per_bucket: dict = {}
    for e in live:
        per_bucket.setdefault(e.bucket, []).append(e.file)
    for files in per_bucket.values():
        assert len(files) < 3
        ranges = sorted((f.min_sequence_number, f.max_sequence_number) for f in files)
        assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:]))
    for reader in (table, pypaimon.CatalogFactory.create({"warehouse": str(tmp_path)}).get_table("db.log")):
        rb = reader.new_read_builder()
        result = rb.new_read().to_arrow(rb.new_scan().plan().splits())
        assert sorted(result.column("n").to_pylist()) == list(range(70))
    if bucket == "-1":  # one bucket: rows come back in the order they were written
        rb = table.new_read_builder()
        assert rb.new_read().to_arrow(rb.new_scan().plan().splits()).column("n").to_pylist() == list(range(70))


PARTIAL_SCHEMA = pa.schema([pa.field("k", pa.int64(), nullable=False), pa.field("a", pa.string()),
                            pa.field("b", pa.int64())])
partial_rows = st.lists(st.tuples(st.integers(0, 30), st.one_of(st.none(), st.text(max_size=5)),
                                  st.one_of(st.none(), st.integers(-5, 5))), min_size=1, max_size=50)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(partial_rows, min_size=1, max_size=8))
def test_partial_update_lsm_equals_model(tmp_path_factory, batches):
    """Partial updates through flushes, spills and compactions; pypaimon reads the same rows."""
    warehouse = tmp_path_factory.mktemp("partial")
    catalog = paimon_py.CatalogFactory.create({"warehouse": str(warehouse)})
    catalog.create_database("db")
    options = {k: v for k, v in SMALL_LSM.items() if k != "rowkind.field"}
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(
        PARTIAL_SCHEMA, primary_keys=["k"], options={**options, "merge-engine": "partial-update"}))
    table = catalog.get_table("db.t")
    model: dict = {}
    for batch in batches:
        builder = table.new_batch_write_builder()
        write, commit = builder.new_write(), builder.new_commit()
        write.write_arrow(pa.table({"k": [r[0] for r in batch], "a": [r[1] for r in batch],
                                    "b": [r[2] for r in batch]}, schema=PARTIAL_SCHEMA))
        commit.commit(write.prepare_commit())
        write.close()
        for key, a, b in batch:
            old = model.get(key, (None, None))
            model[key] = (a if a is not None else old[0], b if b is not None else old[1])
        for reader in (table, pypaimon.CatalogFactory.create({"warehouse": str(warehouse)}).get_table("db.t")):
            rb = reader.new_read_builder()
            result = rb.new_read().to_arrow(rb.new_scan().plan().splits())
            got = {k: (a, b) for k, a, b in zip(*(result.column(c).to_pylist() for c in ("k", "a", "b")))}
            assert got == model
        check_levels(table)


def test_compaction_reads_runs_in_batches_of_bounded_bytes():
    """Narrow rows: the most rows a batch may have; wide rows: fewer, about READ_BATCH_BYTES of them."""
    low, high = READ_BATCH_ROWS
    assert _batch_rows(SimpleNamespace(file_size=2_000_000, row_count=125_000)) == high
    wide = _batch_rows(SimpleNamespace(file_size=400_000_000, row_count=1_000_000))
    assert low < wide < high and wide * 1600 <= READ_BATCH_BYTES
    assert _batch_rows(SimpleNamespace(file_size=10**9, row_count=1)) == low
