"""Batch writes into a dynamic-bucket table against a fixed-bucket one, paimon_py and pypaimon 2.1.0.

One run: for each library and bucket mode, in a fresh warehouse, insert N rows into a
primary-key table (one commit), then update all N keys (one commit). Fixed: ``bucket=4``;
dynamic: ``bucket=-1`` with ``dynamic-bucket.target-row-num`` N/4, so both end with 4 buckets.
Every final read must hold the N updated rows. Prints a markdown table and writes it to
benchmarks/results/dynamic_bucket.md.

    .venv/bin/python benchmarks/bench_dynamic_bucket.py --rows 200000
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
import tempfile
import time

import pyarrow as pa

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # run from anywhere: the repo root holds paimon_py

from benchmarks.bench_batch_write_read import SCHEMA, make_data  # noqa: E402
from benchmarks.common import machine, publish  # noqa: E402

LIBRARIES = ("paimon_py", "pypaimon")


def options(mode: str, rows: int) -> dict[str, str]:
    if mode == "fixed":
        return {"bucket": "4", "file.format": "parquet"}
    return {"bucket": "-1", "dynamic-bucket.target-row-num": str(rows // 4), "file.format": "parquet"}


def commit(table, data: pa.Table) -> float:
    start = time.perf_counter()
    builder = table.new_batch_write_builder()
    write, committer = builder.new_write(), builder.new_commit()
    write.write_arrow(data)
    committer.commit(write.prepare_commit())
    write.close()
    committer.close()
    return time.perf_counter() - start


def run(library: str, mode: str, rows: int) -> tuple[float, float]:
    """(insert seconds, update seconds); the table is checked afterwards."""
    lib = __import__(library)
    warehouse = tempfile.mkdtemp(prefix=f"bench-dyn-{library}-")
    try:
        catalog = lib.CatalogFactory.create({"warehouse": warehouse})
        catalog.create_database("db", ignore_if_exists=True)
        catalog.create_table("db.t", lib.Schema.from_pyarrow_schema(SCHEMA, primary_keys=["id"],
                                                                      options=options(mode, rows)), False)
        insert = commit(catalog.get_table("db.t"), make_data(rows, 0, seed=1))
        update = commit(catalog.get_table("db.t"), make_data(rows, 1, seed=2))
        table = catalog.get_table("db.t")
        read = table.new_read_builder()
        result = read.new_read().to_arrow(read.new_scan().plan().splits())
        assert result.num_rows == rows, f"{library} {mode}: {result.num_rows} rows read, {rows} expected"
        return insert, update
    finally:
        shutil.rmtree(warehouse, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    times = {(lib, mode): run(lib, mode, args.rows) for lib in LIBRARIES for mode in ("fixed", "dynamic")}
    lines = [f"# Dynamic vs fixed bucket batch writes ({datetime.date.today()}, {machine()})", "",
             f"{args.rows:,} rows inserted (one commit), then all keys updated (one commit); primary key "
             f"`id`, 4 buckets either way (dynamic: target-row-num {args.rows // 4:,}).", "",
             "| library | mode | insert s | update s | insert rows/s | update rows/s |", "|---|---|---|---|---|---|"]
    for (lib, mode), (insert, update) in times.items():
        lines.append(f"| {lib} | {mode} | {insert:.2f} | {update:.2f} | {args.rows / insert:,.0f} | "
                     f"{args.rows / update:,.0f} |")
    for mode in ("fixed", "dynamic"):
        ours, theirs = times[("paimon_py", mode)], times[("pypaimon", mode)]
        lines.append(f"\n{mode}: paimon_py {theirs[0] / ours[0]:.1f}x (insert), {theirs[1] / ours[1]:.1f}x (update) "
                     f"the speed of pypaimon")
    publish("\n".join(lines) + "\n", os.path.join(HERE, "results", "dynamic_bucket.md"), "dynamic_bucket")


if __name__ == "__main__":
    main()
