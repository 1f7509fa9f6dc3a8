"""Sustained upserts into a primary-key table with compaction on, against pypaimon and pyarrow in the same run.

    .venv/bin/python benchmarks/bench_lsm_upserts.py [--rows 10000000] [--keys 1000000] [--repeat 3]

paimon_py writes ``--rows`` upserts over ``--keys`` keys (4 buckets) in commits of ``--commit-rows``
rows, with its LSM tree and universal compaction running in the background, then reads the table
back. The floor: pyarrow sorts each commit's rows by key and writes them to one Parquet file
encoded as the table's files are (zstd level 1, the same dictionary columns), nothing else. Both
run ``--repeat`` times, alternately, and their medians are reported. pypaimon 2.1.0 (no
compaction) writes the same input in the same commits once and reads its table back. Reported:
rows/s and the ratios, write amplification (bytes of data files written / bytes of level-0 files
flushed, and / Arrow bytes of the input), the largest number of sorted runs of a bucket after each
commit, the read time at the end. Both libraries' reads must give the same content. Results go to
``benchmarks/results/lsm_upserts.md``.
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
import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import paimon_py  # noqa: E402
from paimon_py.io.data_file_writer import dictionary_columns  # noqa: E402
from benchmarks.common import machine, publish  # noqa: E402

SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("n", pa.int64()),
                    pa.field("x", pa.float64()), pa.field("s", pa.string())])
OPTIONS = {"bucket": "4", "file.format": "parquet"}


def batches(rows: int, keys: int, commit_rows: int, seed: int = 7):
    """Upsert batches: random keys, values that say which upsert wrote them."""
    rng = np.random.default_rng(seed)
    for start in range(0, rows, commit_rows):
        n = min(commit_rows, rows - start)
        ids = rng.integers(0, keys, n)
        seq = np.arange(start, start + n)
        yield pa.table({"id": ids, "n": seq, "x": rng.random(n),
                        "s": pc.cast(pa.array(seq % 100_000), pa.string())}, schema=SCHEMA)


def create(library, warehouse: str):
    if library == "paimon_py":
        catalog = paimon_py.CatalogFactory.create({"warehouse": warehouse})
        schema = paimon_py.Schema.from_pyarrow_schema(SCHEMA, primary_keys=["id"], options=OPTIONS)
    else:
        import pypaimon
        catalog = pypaimon.CatalogFactory.create({"warehouse": warehouse})
        schema = pypaimon.Schema.from_pyarrow_schema(SCHEMA, primary_keys=["id"], options=OPTIONS)
    catalog.create_database("db", True)
    catalog.create_table("db.t", schema, False)
    return catalog.get_table("db.t")


def run_paimon_py(warehouse: str, args) -> dict:
    table = create("paimon_py", warehouse)
    write = table.new_file_store_write()
    commit = table.new_file_store_commit("bench")
    written = flushed = input_bytes = 0
    max_runs = []
    started = time.perf_counter()
    for identifier, batch in enumerate(batches(args.rows, args.keys, args.commit_rows), start=1):
        input_bytes += batch.nbytes
        write.write(batch)
        messages = write.prepare_commit(wait_compaction=False)
        commit.commit(messages, identifier=identifier)
        for m in messages:
            before = {f.file_name for f in m.compact_before}
            flushed += sum(f.file_size for f in m.new_files)
            written += sum(f.file_size for f in m.new_files)
            written += sum(f.file_size for f in m.compact_after if f.file_name not in before)
        max_runs.append(max(w.levels.number_of_sorted_runs() for w in write.writers.values()))
    messages = write.prepare_commit(wait_compaction=True)
    commit.commit(messages, identifier=identifier + 1)
    write_seconds = time.perf_counter() - started
    write.close()
    for m in messages:
        before = {f.file_name for f in m.compact_before}
        written += sum(f.file_size for f in m.compact_after if f.file_name not in before)
    result, read_seconds = timed_read(table)
    return {"write_s": write_seconds, "read_s": read_seconds, "result": result,
            "written": written, "flushed": flushed, "input": input_bytes, "max_runs": max_runs}


def run_pypaimon(warehouse: str, args) -> dict:
    table = create("pypaimon", warehouse)
    started = time.perf_counter()
    for batch in batches(args.rows, args.keys, args.commit_rows):
        builder = table.new_batch_write_builder()
        write, commit = builder.new_write(), builder.new_commit()
        write.write_arrow(batch)
        commit.commit(write.prepare_commit())
        write.close()
        commit.close()
    write_seconds = time.perf_counter() - started
    result, read_seconds = timed_read(table)
    return {"write_s": write_seconds, "read_s": read_seconds, "result": result}


def run_pyarrow(directory: str, args) -> dict:
    """The floor: each commit's rows sorted by key into one Parquet file, compressed and encoded as
    the table's files are; no merging, no metadata."""
    os.makedirs(directory)
    started = time.perf_counter()
    for number, batch in enumerate(batches(args.rows, args.keys, args.commit_rows)):
        rows = batch.sort_by("id")
        pq.write_table(rows, os.path.join(directory, f"{number}.parquet"), compression="zstd",
                       compression_level=1, use_dictionary=dictionary_columns(rows))
    return {"write_s": time.perf_counter() - started}


def timed_read(table) -> tuple[pa.Table, float]:
    started = time.perf_counter()
    builder = table.new_read_builder()
    result = builder.new_read().to_arrow(builder.new_scan().plan().splits())
    return result, time.perf_counter() - started


def expected_size(args) -> int:
    ids = np.concatenate([b.column("id").to_numpy() for b in batches(args.rows, args.keys, args.commit_rows)])
    return len(np.unique(ids))


def median_run(runs: list[dict]) -> dict:
    """The run of median write time."""
    return sorted(runs, key=lambda r: r["write_s"])[len(runs) // 2]


def report(args, ours: dict, theirs: dict | None, floor: dict, ours_runs: list[dict], floor_runs: list[dict]) -> str:
    rows = args.rows
    ours_rate, floor_rate = rows / ours["write_s"], rows / floor["write_s"]
    theirs_rate = f"{rows / theirs['write_s']:,.0f}" if theirs else "–"
    versus = f"{theirs['write_s'] / ours['write_s']:.1f}x" if theirs else "–"
    theirs_read = f"{theirs['read_s']:.2f}" if theirs else "–"
    read_versus = f"{theirs['read_s'] / ours['read_s']:.1f}x faster" if theirs else "–"
    lines = [
        "# Sustained upserts with compaction: paimon_py vs pypaimon and pyarrow",
        "",
        f"{datetime.datetime.now().isoformat(timespec='seconds')} — `benchmarks/bench_lsm_upserts.py "
        f"--rows {rows} --keys {args.keys} --commit-rows {args.commit_rows} --repeat {args.repeat}`",
        "",
        f"Machine: {machine()}",
        "",
        f"Table: primary key `id` BIGINT + BIGINT, DOUBLE, STRING; bucket=4; {rows:,} upserts over "
        f"{args.keys:,} keys in commits of {args.commit_rows:,} rows. paimon_py compacts in the "
        f"background (universal compaction, default options); pypaimon 2.1.0 never compacts; "
        f"pyarrow sort + Parquet: each commit's rows sorted by key into one Parquet file written as the table's are (the floor).",
        "",
        "| measure | paimon_py | pypaimon | pyarrow sort + Parquet | paimon_py / pypaimon | paimon_py / pyarrow |",
        "|---|---:|---:|---:|---:|---:|",
        f"| write rows/s | {ours_rate:,.0f} | {theirs_rate} | {floor_rate:,.0f} | {versus} | "
        f"{ours_rate / floor_rate:.2f}x |",
        f"| read of the final table, s | {ours['read_s']:.2f} | {theirs_read} | – | {read_versus} | – |",
    ]
    each = lambda runs: " / ".join(f"{rows / r['write_s']:,.0f}" for r in runs)  # noqa: E731
    lines += ["", f"paimon_py and the floor ran {len(ours_runs)} times each, alternately; medians above. "
                  f"paimon_py: {each(ours_runs)} rows/s; the floor: {each(floor_runs)} rows/s."]
    runs = ours["max_runs"]
    samples = ", ".join(str(runs[i]) for i in range(0, len(runs), max(1, len(runs) // 10)))
    lines += [
        "",
        f"paimon_py write amplification: {ours['written'] / ours['flushed']:.2f} (bytes of data files "
        f"written / bytes of level-0 files flushed); {ours['written'] / ours['input']:.2f} against the "
        f"Arrow size of the input ({ours['input'] / 2**20:,.0f} MiB).",
        f"Largest sorted-run count of a bucket after each commit (sampled): {samples}; max {max(runs)}.",
        f"Rows read back: {ours['result'].num_rows:,} (keys written: {expected_size(args):,}).",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--commit-rows", type=int, default=500_000)
    parser.add_argument("--skip-pypaimon", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs of paimon_py and of the floor (median reported)")
    parser.add_argument("--output", default=os.path.join(HERE, "results", "lsm_upserts.md"))
    args = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="bench-lsm-")
    try:
        ours_runs, floor_runs = [], []
        for attempt in range(args.repeat):  # alternating, so a slow minute of the host hits both
            ours_runs.append(run_paimon_py(os.path.join(workdir, f"paimon_py{attempt}"), args))
            floor_runs.append(run_pyarrow(os.path.join(workdir, f"pyarrow{attempt}"), args))
        ours, floor = median_run(ours_runs), median_run(floor_runs)
        theirs = None if args.skip_pypaimon else run_pypaimon(os.path.join(workdir, "pypaimon"), args)
        if theirs is not None:
            a = ours["result"].sort_by("id")
            b = theirs["result"].select(a.column_names).sort_by("id")
            if not a.equals(b.cast(a.schema)):
                raise SystemExit("paimon_py and pypaimon read back different tables")
        if ours["result"].num_rows != expected_size(args):
            raise SystemExit("paimon_py lost or duplicated keys")
        text = report(args, ours, theirs, floor, ours_runs, floor_runs)
        publish(text, args.output, "lsm_upserts" if theirs is not None else "lsm_upserts_without_pypaimon")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
