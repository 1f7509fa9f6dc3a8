"""Peak memory of the LSM writer: push a lot of input through a small write buffer.

    .venv/bin/python benchmarks/bench_memory.py [--input-gb 2] [--buffer-mb 64]

Each configuration runs in a fresh Python process that first imports everything, creates the
table and builds one input batch (the fixed overhead, measured as the baseline RSS), then streams
``--input-gb`` GiB of Arrow input (upserts over a key space large enough that little folds away)
into a primary-key table with ``write-buffer-size`` = ``--buffer-mb``, committing every
``--commit-mb`` MiB with compaction running in the background. Reported: baseline RSS, peak RSS,
their difference and its ratio to the buffer budget, for spilling on and off. Results go to
``benchmarks/results/memory.md``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from benchmarks.common import machine, publish  # noqa: E402

BATCH_ROWS = 200_000


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args) -> dict:
    """Runs in the measured process."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    import paimon_py

    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("n", pa.int64()),
                        pa.field("s", pa.string())])
    catalog = paimon_py.CatalogFactory.create({"warehouse": args.warehouse})
    catalog.create_database("db", True)
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(schema, primary_keys=["id"], options={
        "bucket": "4", "write-buffer-size": f"{args.buffer_mb} mb",
        "write-buffer-spillable": args.spillable, "target-file-size": "64 mb"}))
    table = catalog.get_table("db.t")
    write = table.new_file_store_write()
    commit = table.new_file_store_commit("bench")
    rng = np.random.default_rng(1)
    pad = "x" * 150

    def batch(i):
        ids = rng.integers(0, 200_000_000, BATCH_ROWS)
        text = pc.binary_join_element_wise(pc.cast(pa.array(ids % 1000), pa.string()), pad, "-")
        return pa.table({"id": ids, "n": np.full(BATCH_ROWS, i), "s": text}, schema=schema)

    first = batch(0)
    baseline = rss_mib()
    total = args.input_gb * 2**30
    written = since_commit = 0
    identifier = 0
    started = time.perf_counter()
    i = 0
    while written < total:
        data = first if i == 0 else batch(i)
        write.write(data)
        written += data.nbytes
        since_commit += data.nbytes
        i += 1
        if since_commit >= args.commit_mb * 2**20:
            identifier += 1
            commit.commit(write.prepare_commit(wait_compaction=False), identifier=identifier)
            since_commit = 0
    commit.commit(write.prepare_commit(wait_compaction=True), identifier=identifier + 1)
    seconds = time.perf_counter() - started
    write.close()
    return {"baseline_mib": baseline, "peak_mib": rss_mib(), "input_mib": written / 2**20,
            "arrow_peak_mib": pa.default_memory_pool().max_memory() / 2**20,
            "rows": i * BATCH_ROWS, "seconds": seconds}


def measure(args, spillable: str) -> dict:
    warehouse = tempfile.mkdtemp(prefix="bench-memory-")
    try:
        command = [sys.executable, os.path.abspath(__file__), "--child", "--warehouse", warehouse,
                   "--spillable", spillable, "--input-gb", str(args.input_gb),
                   "--buffer-mb", str(args.buffer_mb), "--commit-mb", str(args.commit_mb)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        return json.loads(output.strip().splitlines()[-1])
    finally:
        shutil.rmtree(warehouse, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-gb", type=float, default=2.0)
    parser.add_argument("--buffer-mb", type=int, default=64)
    parser.add_argument("--commit-mb", type=int, default=256)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", help=argparse.SUPPRESS)
    parser.add_argument("--spillable", default="true", help=argparse.SUPPRESS)
    parser.add_argument("--output", default=os.path.join(HERE, "results", "memory.md"))
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0
    lines = [
        "# Writer memory: peak RSS while streaming input through a small write buffer", "",
        f"{datetime.datetime.now().isoformat(timespec='seconds')} — `benchmarks/bench_memory.py "
        f"--input-gb {args.input_gb} --buffer-mb {args.buffer_mb} --commit-mb {args.commit_mb}`", "",
        f"Machine: {machine()}", "",
        f"Primary-key table, 4 buckets, rows of BIGINT, BIGINT, ~155-byte STRING; upserts over "
        f"200M keys; commit every {args.commit_mb} MiB of input; compaction in the background.", "",
        "| write-buffer-spillable | input MiB | rows | rows/s | baseline RSS MiB | peak RSS MiB | "
        "peak - baseline MiB | (peak - baseline) / buffer | Arrow pool peak MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for spillable in ("true", "false"):
        r = measure(args, spillable)
        growth = r["peak_mib"] - r["baseline_mib"]
        lines.append(f"| {spillable} | {r['input_mib']:,.0f} | {r['rows']:,} | {r['rows'] / r['seconds']:,.0f} | "
                     f"{r['baseline_mib']:,.0f} | {r['peak_mib']:,.0f} | {growth:,.0f} | "
                     f"{growth / args.buffer_mb:.1f} | {r['arrow_peak_mib']:,.0f} |")
    text = "\n".join(lines) + "\n"
    publish(text, args.output, "memory")
    return 0


if __name__ == "__main__":
    sys.exit(main())
