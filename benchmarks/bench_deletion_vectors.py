"""Reading a deletion-vector table against merge-on-read of the same data.

    .venv/bin/python benchmarks/bench_deletion_vectors.py [--rows 2000000] [--keys 500000]

paimon_py writes ``--rows`` upserts over ``--keys`` keys (4 buckets, commits of
``--commit-rows``) into two tables with compaction on: one with ``deletion-vectors.enabled``
(compaction marks superseded rows deleted, readers skip level 0 and deleted rows), one without
(readers merge the sorted runs by key). Reported: each table's write time, the mean time of a
paimon_py read after each commit (the runs to merge vary as compaction goes), the sorted runs and
deleted rows at the end, and the best of three final reads by paimon_py and by pypaimon 2.1.0.
Every read must give the same content. Results go to ``benchmarks/results/deletion_vectors.md``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import paimon_py  # noqa: E402
from benchmarks.common import machine, publish  # noqa: E402

SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("n", pa.int64()),
                    pa.field("x", pa.float64())])
OPTIONS = {"bucket": "4", "file.format": "parquet"}


def batches(rows: int, keys: int, commit_rows: int, seed: int = 11):
    rng = np.random.default_rng(seed)
    for start in range(0, rows, commit_rows):
        n = min(commit_rows, rows - start)
        yield pa.table({"id": rng.integers(0, keys, n), "n": np.arange(start, start + n),
                        "x": rng.random(n)}, schema=SCHEMA)


def write(warehouse: str, name: str, options: dict, args) -> tuple[float, float]:
    """(seconds writing, mean seconds of a read after each commit)."""
    catalog = paimon_py.CatalogFactory.create({"warehouse": warehouse})
    catalog.create_database("db", True)
    catalog.create_table(f"db.{name}", paimon_py.Schema.from_pyarrow_schema(
        SCHEMA, primary_keys=["id"], options=options), False)
    table = catalog.get_table(f"db.{name}")
    writing, reads = 0.0, []
    for batch in batches(args.rows, args.keys, args.commit_rows):
        start = time.perf_counter()
        builder = table.new_batch_write_builder()
        w, c = builder.new_write(), builder.new_commit()
        w.write_arrow(batch)
        c.commit(w.prepare_commit())
        w.close()
        c.close()
        writing += time.perf_counter() - start
        start = time.perf_counter()
        read_builder = table.new_read_builder()
        read_builder.new_read().to_arrow(read_builder.new_scan().plan().splits())
        reads.append(time.perf_counter() - start)
    return writing, sum(reads) / len(reads)


def shape(warehouse: str, name: str) -> tuple[int, int]:
    """(most sorted runs read in one bucket, rows marked deleted) of the latest snapshot."""
    table = paimon_py.CatalogFactory.create({"warehouse": warehouse}).get_table(f"db.{name}")
    splits = table.new_read_builder().new_scan().plan().splits()
    runs = max(len({f.level for f in s.files if f.level > 0}) + sum(f.level == 0 for f in s.files)
               for s in splits)
    deleted = sum(d.cardinality for s in splits for d in s.deletion_files if d)
    return runs, deleted


def read(library: str, warehouse: str, name: str) -> tuple[float, pa.Table]:
    if library == "paimon_py":
        catalog = paimon_py.CatalogFactory.create({"warehouse": warehouse})
    else:
        import pypaimon
        catalog = pypaimon.CatalogFactory.create({"warehouse": warehouse})
    best, result = float("inf"), None
    for _ in range(3):
        table = catalog.get_table(f"db.{name}")
        start = time.perf_counter()
        builder = table.new_read_builder()
        result = builder.new_read().to_arrow(builder.new_scan().plan().splits())
        best = min(best, time.perf_counter() - start)
    return best, result.sort_by("id")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--keys", type=int, default=500_000)
    parser.add_argument("--commit-rows", type=int, default=200_000)
    args = parser.parse_args()
    warehouse = tempfile.mkdtemp(prefix="bench-dv-")
    try:
        tables = {"deletion vectors": ("dv", {**OPTIONS, "deletion-vectors.enabled": "true"}),
                  "merge-on-read": ("mor", OPTIONS)}
        lines, contents = [], []
        for label, (name, options) in tables.items():
            seconds, mean_read = write(warehouse, name, options, args)
            runs, deleted = shape(warehouse, name)
            ours, ours_rows = read("paimon_py", warehouse, name)
            theirs, theirs_rows = read("pypaimon", warehouse, name)
            contents += [ours_rows, theirs_rows.select(ours_rows.column_names)]
            lines.append(f"| {label} | {seconds:.2f} s ({args.rows / seconds:,.0f} rows/s) | {runs} | "
                         f"{deleted:,} | {mean_read:.3f} s | {ours:.3f} s | {theirs:.3f} s |")
        assert all(c.equals(contents[0]) for c in contents), "the reads differ"
        text = "\n".join([
            f"# Deletion vectors vs merge-on-read ({datetime.date.today()})", "", machine(), "",
            f"{args.rows:,} upserts over {args.keys:,} keys, 4 buckets, commits of {args.commit_rows:,} "
            f"rows, compaction on; {contents[0].num_rows:,} rows read; reads: best of 3.", "",
            "| table | paimon_py write | max sorted runs / bucket | rows deleted by DVs | "
            "paimon_py read after each commit (mean) | paimon_py final read | pypaimon 2.1.0 final read |",
            "|---|---|---|---|---|---|---|", *lines, ""])
        publish(text, os.path.join(HERE, "results", "deletion_vectors.md"), "deletion_vectors")
    finally:
        shutil.rmtree(warehouse, ignore_errors=True)


if __name__ == "__main__":
    main()
