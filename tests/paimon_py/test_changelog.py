"""Changelog producers and the streaming read: replaying what a stream reader sees onto an
empty dictionary gives the table's content after every commit."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paimon_py

SCHEMA = pa.schema([pa.field("k", pa.int64(), nullable=False), pa.field("v", pa.string()),
                    pa.field("rk", pa.string())])
SMALL_LSM = {"bucket": "2", "rowkind.field": "rk", "num-sorted-run.compaction-trigger": "3",
             "num-levels": "4", "write-buffer-size": "8 kb", "target-file-size": "4 kb"}
PRODUCERS = ["none", "input", "lookup", "full-compaction"]


def new_table(warehouse, producer):
    catalog = paimon_py.CatalogFactory.create({"warehouse": str(warehouse)})
    catalog.create_database("db", ignore_if_exists=True)
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(
        SCHEMA, primary_keys=["k"], options={**SMALL_LSM, "changelog-producer": producer}))
    return catalog.get_table("db.t")


def drain(scan, read, replay: dict) -> list[tuple]:
    """Apply every plan the stream scan has now; returns the (kind, key) records seen."""
    seen = []
    while (plan := scan.plan()) is not None:
        rows = read.to_arrow(plan.splits())
        for kind, key, value in zip(rows.column("_row_kind").to_pylist(), rows.column("k").to_pylist(),
                                    rows.column("v").to_pylist()):
            seen.append((kind, key))
            if kind in ("+I", "+U"):
                replay[key] = value
            else:
                replay.pop(key, None)
    return seen


def read_all(table) -> dict:
    rb = table.new_read_builder()
    result = rb.new_read().to_arrow(rb.new_scan().plan().splits())
    return dict(zip(result.column("k").to_pylist(), result.column("v").to_pylist()))


changes = st.lists(st.tuples(st.sampled_from(["+I", "+U", "-U", "-D"]), st.integers(0, 40),
                             st.text(max_size=8)), min_size=1, max_size=60)


@pytest.mark.parametrize("producer", PRODUCERS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(changes, min_size=1, max_size=6))
def test_stream_replay_equals_table(tmp_path_factory, producer, batches):
    table = new_table(tmp_path_factory.mktemp(producer.replace("-", "_")), producer)
    builder = table.new_stream_read_builder().with_include_row_kind()
    scan, read = builder.new_streaming_scan(), builder.new_read()
    model, replay = {}, {}
    assert scan.plan() is None  # no snapshot yet
    for batch in batches:
        write_builder = table.new_batch_write_builder()
        write, commit = write_builder.new_write(), write_builder.new_commit()
        write.write_arrow(pa.table({"k": [c[1] for c in batch], "v": [c[2] for c in batch],
                                    "rk": [c[0] for c in batch]}, schema=SCHEMA))
        commit.commit(write.prepare_commit())
        write.close()
        for kind, key, value in batch:
            if kind in ("+I", "+U"):
                model[key] = value
            else:
                model.pop(key, None)
        drain(scan, read, replay)
        assert read_all(table) == model
        assert replay == model


def test_lookup_changelog_has_update_pairs(tmp_path):
    table = new_table(tmp_path, "lookup")
    builder = table.new_stream_read_builder().with_include_row_kind()
    scan, read = builder.new_streaming_scan(), builder.new_read()
    replay, seen = {}, []
    for rows in ({"k": [1, 2], "v": ["a", "b"], "rk": ["+I", "+I"]},
                 {"k": [1, 2, 3], "v": ["a2", None, "c"], "rk": ["+U", "-D", "+I"]}):
        wb = table.new_batch_write_builder()
        write, commit = wb.new_write(), wb.new_commit()
        write.write_arrow(pa.table(rows, schema=SCHEMA))
        commit.commit(write.prepare_commit())
        write.close()
        seen.append(drain(scan, read, replay))
    assert sorted(seen[0]) == [("+I", 1), ("+I", 2)]  # the first plan: the full snapshot
    assert seen[1] == [("-U", 1), ("+U", 1), ("-D", 2), ("+I", 3)]
    assert replay == {1: "a2", 3: "c"}
    snapshots = [table.snapshot_manager.snapshot(i) for i in table.snapshot_manager.list_ids()]
    assert all(s.changelog_manifest_list for s in snapshots if s.commit_kind.value == "COMPACT")
