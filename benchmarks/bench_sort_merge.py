"""Merging sorted runs: the vectorised chunked merge against a heap (loser-tree style) merge.

    .venv/bin/python benchmarks/bench_sort_merge.py [--runs 5] [--rows-per-run 200000]

Both merge the same key-sorted runs (BIGINT key, sequence number, two value columns) and keep
the latest record per key. The vectorised way is ``sort_merge.merge_runs`` (chunks in key ranges)
followed by pyarrow sort and a run-boundary mask per chunk; the heap way is ``heapq.merge`` over
(key, sequence, row) tuples with a per-row fold, the classic LSM merge written in Python.
Results: ``benchmarks/results/sort_merge.md`` and ``sort_merge.png`` beside it.
"""

from __future__ import annotations

import argparse
import heapq
import os
import sys
import time

import numpy as np
import pyarrow as pa

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from benchmarks.common import machine, publish  # noqa: E402
from paimon_py.mergetree.record_order import RecordOrder  # noqa: E402
from paimon_py.mergetree.sort_merge import merge_runs  # noqa: E402


def make_runs(runs: int, rows: int) -> list[pa.Table]:
    rng = np.random.default_rng(3)
    tables = []
    for r in range(runs):
        keys = np.sort(rng.choice(rows * 3, rows, replace=False))
        tables.append(pa.table({"k": keys, "_SEQUENCE_NUMBER": np.arange(rows) + r * rows,
                                "a": rng.random(rows), "b": rng.integers(0, 1000, rows)}))
    return tables


def batches(table: pa.Table, size: int = 65536):
    for start in range(0, table.num_rows, size):
        yield table.slice(start, size)


def vectorised(tables: list[pa.Table]) -> int:
    out = 0
    for chunk in merge_runs([batches(t) for t in tables], ["k"]):
        parts = [c for c in chunk if c is not None and c.num_rows]
        merged = RecordOrder(("k",)).sort(pa.concat_tables(parts))
        keys = merged.column("k").to_numpy()
        out += int((keys[1:] != keys[:-1]).sum()) + 1  # the last record of each key is kept
    return out


def heap(tables: list[pa.Table]) -> int:
    streams = []
    for t in tables:
        columns = [t.column(c).to_pylist() for c in ("k", "_SEQUENCE_NUMBER", "a", "b")]
        streams.append(zip(*columns))
    out, last_key = 0, None
    for row in heapq.merge(*streams):
        if row[0] != last_key:
            out += 1
            last_key = row[0]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows-per-run", type=int, default=200_000)
    parser.add_argument("--output", default=os.path.join(HERE, "results", "sort_merge.md"))
    args = parser.parse_args(argv)
    tables = make_runs(args.runs, args.rows_per_run)
    total = args.runs * args.rows_per_run
    timings = {}
    for name, function in (("vectorised chunked merge", vectorised), ("heapq merge", heap)):
        started = time.perf_counter()
        keys = function(tables)
        timings[name] = (time.perf_counter() - started, keys)
    (vec_s, vec_keys), (heap_s, heap_keys) = timings.values()
    assert vec_keys == heap_keys, (vec_keys, heap_keys)
    lines = [f"# Merging sorted runs: {args.runs} runs x {args.rows_per_run:,} rows -> {vec_keys:,} keys", "",
             f"Machine: {machine()}", "", "| merge | s | rows/s |", "|---|---:|---:|",
             f"| vectorised chunked merge | {vec_s:.2f} | {total / vec_s:,.0f} |",
             f"| heapq merge | {heap_s:.2f} | {total / heap_s:,.0f} |", "",
             f"ratio: {heap_s / vec_s:.1f}x"]
    publish("\n".join(lines) + "\n", args.output, "sort_merge")
    return 0


if __name__ == "__main__":
    sys.exit(main())
