"""Batch write / update / read throughput of paimon_py against pypaimon 2.1.0.

One run: for each library, in its own fresh warehouse,
  1. insert N rows into a primary-key table with 4 buckets (one commit unless --commits > 1),
  2. update all N keys with new values (same number of commits),
  3. read the whole table back (plan + to_arrow).
Both final reads must equal the expected rows (the update batch) exactly, else the run fails.
Prints a markdown table and writes it to benchmarks/results/batch_write_read.md.

    .venv/bin/python benchmarks/bench_batch_write_read.py            # 1,000,000 rows
    .venv/bin/python benchmarks/bench_batch_write_read.py --rows 20000
"""

from __future__ import annotations

import argparse
import datetime
import gc
import hashlib
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # run from anywhere: the repo root holds paimon_py

from benchmarks.common import machine, publish  # noqa: E402

SCHEMA = pa.schema([
    pa.field("id", pa.int64(), nullable=False),
    pa.field("a", pa.int32()),
    pa.field("b", pa.int32()),
    pa.field("x", pa.float64()),
    pa.field("y", pa.float64()),
    pa.field("s", pa.string()),
    pa.field("t", pa.string()),
])
OPTIONS = {"bucket": "4", "file.format": "parquet"}
LIBRARIES = ("paimon_py", "pypaimon")


def make_data(rows: int, version: int, seed: int) -> pa.Table:
    """``rows`` rows with ids 0..rows-1 in random order; values depend on ``version``."""
    rng = np.random.default_rng(seed)
    ids = rng.permutation(rows).astype(np.int64)
    a = rng.integers(-2**31, 2**31 - 1, rows, dtype=np.int64).astype(np.int32)
    b = (ids % 1000 + version).astype(np.int32)
    x = rng.integers(0, 2**20, rows) / 8.0  # exactly representable: order-independent sums
    y = rng.standard_normal(rows)
    s = pc.binary_join_element_wise(pa.array(np.char.mod("cust-%08d", ids)),
                                            pa.scalar(f"v{version}"), "-")
    t = pa.array(np.where(ids % 3 == 0, "short", "a somewhat longer text value é"))
    return pa.table([ids, a, b, x, y, s, t], schema=SCHEMA)


def catalog_for(library: str, warehouse: str):
    module = __import__(library)
    return module, module.CatalogFactory.create({"warehouse": warehouse})


def write(table, data: pa.Table, commits: int, batch_rows: int) -> None:
    per_commit = -(-data.num_rows // commits)
    for start in range(0, data.num_rows, per_commit):
        chunk = data.slice(start, per_commit)
        builder = table.new_batch_write_builder()
        writer, committer = builder.new_write(), builder.new_commit()
        for offset in range(0, chunk.num_rows, batch_rows):
            writer.write_arrow(chunk.slice(offset, batch_rows))
        committer.commit(writer.prepare_commit())
        writer.close()
        committer.close()


def read_all(table) -> pa.Table:
    builder = table.new_read_builder()
    return builder.new_read().to_arrow(builder.new_scan().plan().splits())


def run_library(library: str, warehouse: str, insert: pa.Table, update: pa.Table, commits: int,
                batch_rows: int) -> tuple[dict[str, float], pa.Table]:
    module, catalog = catalog_for(library, warehouse)
    catalog.create_database("bench", ignore_if_exists=True)
    schema = module.Schema.from_pyarrow_schema(SCHEMA, primary_keys=["id"], options=dict(OPTIONS))
    catalog.create_table("bench.t", schema, ignore_if_exists=False)
    seconds = {}
    gc.collect()
    start = time.perf_counter()
    write(catalog.get_table("bench.t"), insert, commits, batch_rows)
    seconds["insert (write + commit)"] = time.perf_counter() - start
    gc.collect()
    start = time.perf_counter()
    write(catalog.get_table("bench.t"), update, commits, batch_rows)
    seconds["update all keys (write + commit)"] = time.perf_counter() - start
    gc.collect()
    start = time.perf_counter()
    result = read_all(catalog.get_table("bench.t"))
    seconds["full read (plan + to_arrow)"] = time.perf_counter() - start
    return seconds, result


def canonical(table: pa.Table) -> pa.Table:
    """Sorted by id, cast to the benchmark schema (readers may differ in nullability flags)."""
    table = table.select(SCHEMA.names).sort_by("id")
    return pa.Table.from_arrays([table.column(n).combine_chunks() for n in SCHEMA.names], schema=SCHEMA)


def checksum(table: pa.Table) -> str:
    digest = hashlib.sha256()
    for batch in table.to_batches(max_chunksize=1 << 16):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, SCHEMA) as out:
            out.write_batch(batch)
        digest.update(sink.getvalue().to_pybytes())
    return digest.hexdigest()[:16]


def report(rows: int, commits: int, timings: dict[str, dict[str, float]], digest: str) -> str:
    phases = list(next(iter(timings.values())))
    libs = [lib for lib in LIBRARIES if lib in timings]
    header = "| phase | rows | " + " | ".join(f"{lib} rows/s" for lib in libs)
    header += " | ratio paimon_py / pypaimon |" if len(libs) == 2 else " |"
    lines = ["# Batch write / update / read: paimon_py vs pypaimon",
             "",
             f"{datetime.datetime.now().astimezone().isoformat(timespec='seconds')} — "
             f"`benchmarks/bench_batch_write_read.py --rows {rows} --commits {commits}`",
             "",
             f"Machine: {machine()}",
             "",
             "Table: primary key `id` BIGINT, 6 value columns (INT, INT, DOUBLE, DOUBLE, STRING, "
             "STRING), `bucket`=4, Parquet/zstd; each library in its own warehouse on local disk.",
             "",
             header,
             "|---|---:|" + "---:|" * len(libs) + ("---:|" if len(libs) == 2 else "")]
    for phase in phases:
        cells = [f"{rows / timings[lib][phase]:,.0f} ({timings[lib][phase]:.2f} s)" for lib in libs]
        line = f"| {phase} | {rows:,} | " + " | ".join(cells) + " |"
        if len(libs) == 2:
            ratio = timings["pypaimon"][phase] / timings["paimon_py"][phase]
            line += f" {ratio:.2f}x |"
        lines.append(line)
    lines += ["",
              "rows/s = rows in the phase / wall-clock seconds of the phase; ratio > 1 means paimon_py "
              "is faster.",
              f"Final content verified identical across readers and equal to the expected rows: "
              f"{rows:,} rows, checksum {digest}.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows inserted, then updated")
    parser.add_argument("--commits", type=int, default=1, help="commits per write phase")
    parser.add_argument("--batch-rows", type=int, default=100_000, help="rows per write_arrow call")
    parser.add_argument("--libs", default=",".join(LIBRARIES), help="comma list (default: both)")
    parser.add_argument("--workdir", default=None, help="where warehouses go (default: a temp dir)")
    parser.add_argument("--output", default=os.path.join(HERE, "results", "batch_write_read.md"))
    args = parser.parse_args(argv)
    libs = [lib for lib in args.libs.split(",") if lib]
    unknown = set(libs) - set(LIBRARIES)
    if unknown:
        parser.error(f"unknown libraries {sorted(unknown)}")

    insert = make_data(args.rows, version=1, seed=1)
    update = make_data(args.rows, version=2, seed=2)
    expected = canonical(update)
    workdir = tempfile.mkdtemp(prefix="paimon-bench-", dir=args.workdir)
    timings: dict[str, dict[str, float]] = {}
    digests = {}
    try:
        for lib in libs:
            print(f"{lib}: {args.rows:,} rows ...", flush=True)
            seconds, result = run_library(lib, os.path.join(workdir, lib), insert, update,
                                          args.commits, args.batch_rows)
            timings[lib] = seconds
            for phase, s in seconds.items():
                print(f"  {phase}: {s:.2f} s ({args.rows / s:,.0f} rows/s)", flush=True)
            got = canonical(result)
            if got.num_rows != expected.num_rows or not got.equals(expected):
                bad = got.num_rows if got.num_rows != expected.num_rows else "content differs"
                raise SystemExit(f"FAIL: {lib} read back {bad}; expected {expected.num_rows} rows "
                                 f"equal to the update batch")
            digests[lib] = checksum(got)
            del result, got
        # each library also reads the other's table: the formats must agree
        if len(libs) == 2:
            for reader in libs:
                for writer in libs:
                    if reader != writer:
                        _module, catalog = catalog_for(reader, os.path.join(workdir, writer))
                        got = canonical(read_all(catalog.get_table("bench.t")))
                        if not got.equals(expected):
                            raise SystemExit(f"FAIL: {reader} reading the table {writer} wrote: "
                                             f"{got.num_rows} rows, content differs")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    if len(set(digests.values())) != 1:
        raise SystemExit(f"FAIL: checksums differ: {digests}")
    text = report(args.rows, args.commits, timings, next(iter(digests.values())))
    print()
    publish(text, args.output, "batch_write_read")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
