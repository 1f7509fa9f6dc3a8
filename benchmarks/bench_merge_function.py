"""Throughput of the merge engines (paimon_py/mergetree/merge_function.py).

Input: N rows (default 1,000,000) over K keys (default 200,000), 5 value columns (BIGINT, BIGINT,
DOUBLE, STRING, BOOLEAN; 30% nulls), sorted by key and sequence number, as the LSM hands them to
the merge function. Each engine merges the same table; the baseline is pyarrow's
``sort_indices`` + ``take`` of the same rows (shuffled), measured in the same run, so the ratio
says how the merge compares with the sort that precedes it. Best of --repeat runs, one thread.
Results: ``benchmarks/results/merge_function.md`` and ``merge_function.png`` beside it.

    .venv/bin/python benchmarks/bench_merge_function.py
    .venv/bin/python benchmarks/bench_merge_function.py --rows 100000 --keys 20000
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # run from anywhere: the repo root holds paimon_py

import paimon_py  # noqa: E402
from benchmarks.common import machine, publish  # noqa: E402
from paimon_py.mergetree.merge_function import create_merge_function  # noqa: E402
from paimon_py.schema.schema_manager import validate_new_schema  # noqa: E402

SCHEMA = pa.schema([
    pa.field("id", pa.int64(), nullable=False),
    pa.field("a", pa.int64()),
    pa.field("b", pa.int64()),
    pa.field("x", pa.float64()),
    pa.field("s", pa.string()),
    pa.field("flag", pa.bool_()),
])

AGGREGATES = {"fields.a.aggregate-function": "sum", "fields.b.aggregate-function": "max",
              "fields.x.aggregate-function": "sum", "fields.s.aggregate-function": "listagg",
              "fields.flag.aggregate-function": "bool_or"}
CASES = [
    ("deduplicate", {}, False),
    ("first-row", {"merge-engine": "first-row"}, False),
    ("partial-update", {"merge-engine": "partial-update"}, False),
    ("partial-update, 10% -D (remove-record-on-delete)",
     {"merge-engine": "partial-update", "partial-update.remove-record-on-delete": "true"}, True),
    ("aggregation: last_non_null_value (default)", {"merge-engine": "aggregation"}, False),
    ("aggregation: sum, max, sum, listagg, bool_or", {"merge-engine": "aggregation", **AGGREGATES},
     False),
    ("aggregation: same, 10% -U retracted (ignore-retract for max/listagg/bool_or)",
     {"merge-engine": "aggregation", **AGGREGATES, "fields.b.ignore-retract": "true",
      "fields.s.ignore-retract": "true", "fields.flag.ignore-retract": "true"}, True),
]


def make_input(rows: int, keys: int, retractions: bool, delete_kind: int) -> pa.Table:
    rng = np.random.default_rng(42)

    def nulls():
        return rng.random(rows) < 0.3

    ids = np.sort(rng.integers(0, keys, rows))
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon"], dtype=object)
    kinds = np.zeros(rows, dtype=np.int8)
    if retractions:
        kinds[rng.random(rows) < 0.1] = delete_kind
    return pa.table({
        "id": pa.array(ids),
        "a": pa.array(rng.integers(-1000, 1000, rows), mask=nulls()),
        "b": pa.array(rng.integers(-1000, 1000, rows), mask=nulls()),
        "x": pa.array(rng.random(rows), mask=nulls()),
        "s": pa.array(words[rng.integers(0, 5, rows)], pa.string(), mask=nulls()),
        "flag": pa.array(rng.random(rows) < 0.5, mask=nulls()),
        "_SEQUENCE_NUMBER": pa.array(np.arange(rows, dtype=np.int64)),
        "_VALUE_KIND": pa.array(kinds),
    })


def best_of(repeat: int, fn):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keys", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output", default=os.path.join(HERE, "results", "merge_function.md"))
    args = parser.parse_args()
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)

    plain = make_input(args.rows, args.keys, False, 0)
    shuffled = plain.take(pa.array(np.random.default_rng(1).permutation(args.rows)))
    sort_keys = [("id", "ascending"), ("_SEQUENCE_NUMBER", "ascending")]
    baseline, _ = best_of(args.repeat, lambda: shuffled.take(pc.sort_indices(shuffled, sort_keys)))

    lines = [f"Merge functions: {args.rows:,} rows over {args.keys:,} keys, 5 value columns "
             f"(30% nulls), best of {args.repeat}, pyarrow CPU threads = 1.", "",
             f"Machine: {machine()}", "",
             "| case | ms | rows/s | time / baseline |", "|---|---:|---:|---:|",
             f"| baseline: pyarrow sort_indices + take | {baseline * 1000:.1f} | "
             f"{args.rows / baseline / 1e6:.1f} M | 1.00 |"]
    for name, options, retractions in CASES:
        schema = validate_new_schema(paimon_py.Schema.from_pyarrow_schema(
            SCHEMA, primary_keys=["id"], options={"bucket": "1", **options}))
        delete_kind = 3 if options.get("merge-engine") == "partial-update" else 1
        table = make_input(args.rows, args.keys, retractions, delete_kind) if retractions else plain
        mf = create_merge_function(schema)
        seconds, out = best_of(args.repeat, lambda: mf.merge(table))
        assert out.num_rows == len(np.unique(table.column("id").to_numpy()))
        lines.append(f"| {name} | {seconds * 1000:.1f} | {args.rows / seconds / 1e6:.1f} M | "
                     f"{seconds / baseline:.2f} |")
    publish("\n".join(lines) + "\n", args.output, "merge_function")


if __name__ == "__main__":
    main()
