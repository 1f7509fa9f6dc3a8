"""Deletion-vector tables across paimon_py and Paimon Java 1.0 (tests/support/java_tool.py).

Java writes deletion vectors at its commits (lookup compaction of level 0); its bitmaps are run
optimized, so reading them covers run containers. Each side reads what the other wrote, and
paimon_py continues a table Java wrote (restoring Java's deletion vectors).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from tests.support import helpers as h
from tests.support import java_tool

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("v", pa.string()),
                    pa.field("rk", pa.string())])
OPTIONS = {"bucket": "2", "deletion-vectors.enabled": "true", "rowkind.field": "rk",
           "file.format": "parquet"}


def _batches(seed: int, commits: int, keys: int, per_commit: int) -> list[list[dict]]:
    rng = np.random.default_rng(seed)
    batches = []
    for c in range(commits):
        ids = rng.choice(keys, per_commit, replace=False)
        kinds = rng.choice(["+I", "-D", "+U"], per_commit, p=[0.5, 0.2, 0.3])
        batches.append([{"id": int(i), "v": f"s{seed}c{c}-{i}", "rk": str(k)} for i, k in zip(ids, kinds)])
    return batches


def _model(rows_so_far: dict, batches) -> dict:
    for rows in batches:
        for row in rows:
            if row["rk"] == "-D":
                rows_so_far.pop(row["id"], None)
            else:
                rows_so_far[row["id"]] = row["v"]
    return rows_so_far


def _values(rows) -> dict:
    return {r["id"]: r["v"] for r in rows}


def _paimon_py_values(warehouse) -> dict:
    return _values(h.rows_sorted(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.t"), ["id"]))


def test_java_reads_and_continues_what_paimon_py_wrote(tmp_path):
    table = h.create_table(h.paimon_py_catalog(tmp_path), "t", SCHEMA, primary_keys=["id"], options=OPTIONS)
    batches = _batches(seed=1, commits=6, keys=2000, per_commit=700)
    for rows in batches:
        h.write_rows(table, SCHEMA, rows)
    expected = _model({}, batches)
    java_batches = _batches(seed=4, commits=2, keys=2000, per_commit=700)
    batch = java_tool.Batch()
    read = batch.read(tmp_path, f"{h.DB}.t")
    for rows in java_batches:      # Java restores paimon_py's deletion vectors and adds to them
        batch.write(tmp_path, f"{h.DB}.t", rows)
    read_after = batch.read(tmp_path, f"{h.DB}.t")
    results = batch.run()
    assert _values(results[read]) == expected
    expected = _model(expected, java_batches)
    assert _values(results[read_after]) == expected
    assert _paimon_py_values(tmp_path) == expected


def test_paimon_py_reads_and_continues_what_java_wrote(tmp_path):
    batch = java_tool.Batch()
    batch.create(tmp_path, f"{h.DB}.t", [("id", "BIGINT NOT NULL"), ("v", "STRING"), ("rk", "STRING")],
                 primary_keys=["id"], options=OPTIONS)
    java_batches = _batches(seed=2, commits=4, keys=2000, per_commit=700)
    for rows in java_batches:
        batch.write(tmp_path, f"{h.DB}.t", rows)
    batch.run()
    expected = _model({}, java_batches)
    table = h.paimon_py_catalog(tmp_path).get_table(f"{h.DB}.t")
    snapshot = table.snapshot_manager.latest_snapshot()
    assert table.new_index_manifest_file(table.new_path_factory()).read(snapshot.index_manifest)
    assert _paimon_py_values(tmp_path) == expected
    ours = _batches(seed=3, commits=3, keys=2000, per_commit=700)
    for rows in ours:
        h.write_rows(table, SCHEMA, rows)
    expected = _model(expected, ours)
    batch = java_tool.Batch()
    read = batch.read(tmp_path, f"{h.DB}.t")
    assert _values(batch.run()[read]) == expected
    assert _paimon_py_values(tmp_path) == expected
    # (pypaimon 2.1.0 cannot read Java 1.0's manifests: no _VALUE_STATS_COLS, format §12)
