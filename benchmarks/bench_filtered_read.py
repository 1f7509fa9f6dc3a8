"""Filtered reads: paimon_py's filter push-down against its full read and pypaimon 2.1.0's filtered read.

One run: an append table of ``--files`` commits (one data file each, ids increasing, so each
file covers one id range) written by paimon_py; then, read by each library from fresh catalogs,
the median of ``--repeat`` runs of plan + to_arrow for: the whole table, a selective key range
(``id`` between two values: one file's worth), and a value filter that statistics cannot prune
(``x`` < 0.1). Every filtered result must equal filtering the full read. Prints a markdown table
and writes it to benchmarks/results/filtered_read.md.

    .venv/bin/python benchmarks/bench_filtered_read.py                 # 20 files x 100,000 rows
    .venv/bin/python benchmarks/bench_filtered_read.py --rows-per-file 5000 --files 4
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # run from anywhere: the repo root holds paimon_py

from benchmarks.common import machine, publish  # noqa: E402

SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("x", pa.float64()),
                    pa.field("s", pa.string())])
TABLE = "bench.events"


def write_table(warehouse: str, files: int, rows_per_file: int) -> None:
    import paimon_py
    catalog = paimon_py.CatalogFactory.create({"warehouse": warehouse})
    catalog.create_database("bench", True)
    catalog.create_table(TABLE, paimon_py.Schema.from_pyarrow_schema(SCHEMA), False)
    table = catalog.get_table(TABLE)
    rng = np.random.default_rng(1)
    for i in range(files):
        ids = np.arange(i * rows_per_file, (i + 1) * rows_per_file)
        batch = pa.table({"id": ids, "x": rng.random(rows_per_file), "s": [f"s{v % 97}" for v in ids]}, schema=SCHEMA)
        builder = table.new_batch_write_builder()
        write, commit = builder.new_write(), builder.new_commit()
        write.write_arrow(batch)
        commit.commit(write.prepare_commit())
        write.close()
        commit.close()


def read(library: str, warehouse: str, case) -> tuple[pa.Table, float]:
    """(result, seconds) of plan + to_arrow with the case's filter (None: full read)."""
    lib = __import__(library)
    table = lib.CatalogFactory.create({"warehouse": warehouse}).get_table(TABLE)
    start = time.perf_counter()
    builder = table.new_read_builder()
    if case is not None:
        builder = builder.with_filter(case(builder.new_predicate_builder()))
    result = builder.new_read().to_arrow(builder.new_scan().plan().splits())
    return result, time.perf_counter() - start


def median_read(library: str, warehouse: str, case, repeat: int) -> tuple[pa.Table, float]:
    runs = [read(library, warehouse, case) for _ in range(repeat)]
    return runs[0][0], statistics.median(seconds for _, seconds in runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--rows-per-file", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    total = args.files * args.rows_per_file
    low = (args.files // 2) * args.rows_per_file
    cases = {
        "full read": (None, None),
        f"id between {low} and {low + args.rows_per_file - 1}": (
            lambda b: b.between("id", low, low + args.rows_per_file - 1),
            (pc.field("id") >= low) & (pc.field("id") <= low + args.rows_per_file - 1)),
        "x < 0.1 (no pruning possible)": (lambda b: b.less_than("x", 0.1), pc.field("x") < 0.1),
    }
    with tempfile.TemporaryDirectory() as warehouse:
        write_table(warehouse, args.files, args.rows_per_file)
        full, _ = read("paimon_py", warehouse, None)
        lines = []
        for name, (case, expected_filter) in cases.items():
            expected = full if expected_filter is None else full.filter(expected_filter)
            timings = {}
            for library in ("paimon_py", "pypaimon"):
                result, seconds = median_read(library, warehouse, case, args.repeat)
                assert result.num_rows == expected.num_rows and sorted(result.column("id").to_pylist()) == \
                    sorted(expected.column("id").to_pylist()), f"{library} {name}: wrong rows"
                timings[library] = seconds
            lines.append(f"| {name} | {expected.num_rows:,} | {timings['paimon_py']:.3f} s | "
                         f"{timings['pypaimon']:.3f} s | {timings['pypaimon'] / timings['paimon_py']:.1f}x |")
    publish(f"""# Filtered reads: paimon_py push-down vs full read vs pypaimon

{datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')} — `benchmarks/bench_filtered_read.py --files {args.files} --rows-per-file {args.rows_per_file} --repeat {args.repeat}`

Machine: {machine()}

Table: append table (`id` BIGINT, `x` DOUBLE, `s` STRING), {args.files} data files of {args.rows_per_file:,} rows ({total:,} rows), ids increasing file by file; written by paimon_py. Times: median of {args.repeat} runs of plan + to_arrow, each from a freshly opened catalog.

| read | rows returned | paimon_py | pypaimon | pypaimon / paimon_py |
|---|---:|---:|---:|---:|
""" + "\n".join(lines) + """

Every result was checked against filtering paimon_py's full read with pyarrow.
""", os.path.join(HERE, "results", "filtered_read.md"), "filtered_read")


if __name__ == "__main__":
    main()
