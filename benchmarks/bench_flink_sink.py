"""The Flink sink end to end: synthetic change stream -> committed lake, against paimon_py alone.

    .venv/bin/python benchmarks/bench_flink_sink.py [--positions 1000]

Measured in the same run, on the same change stream (``operators/synthetic_source.py``: 500 rows
per position, a primary-key table with updates/deletes and two schema changes, an append table):

* baseline: the same reader/writer/committer logic called directly in one Python process (no
  Flink), committing every 20 positions;
* the PyFlink job ``jobs/sync_synthetic.py`` on a local mini-cluster at writer parallelism 1 and 2
  (checkpoints every 2 s, ticks unthrottled), wall clock of the whole process, and the same job
  with 1 position to measure the fixed start-up cost, so the rate net of start-up is reported too.

Both must leave the same lake (compared with the model). Results: ``benchmarks/results/flink_sink.md``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import paimon_py  # noqa: E402
from benchmarks.common import machine, publish  # noqa: E402
from jobs.sync_synthetic import create_tables  # noqa: E402
from operators.cdc.change_batch import ChangeBatch  # noqa: E402
from operators.sink.schema_evolution import SchemaEvolutionLogic  # noqa: E402
from operators.synthetic.synthetic_source import (LOG_TABLE, PK_TABLE, ChangeModel, SourceSchema,  # noqa: E402
                                        SyntheticChangeStream)
from operators.sink.table_committer import TableCommitterLogic  # noqa: E402
from operators.sink.table_writer import TableWriterLogic  # noqa: E402


def rows_in(stream: SyntheticChangeStream, positions: int) -> int:
    return sum(e.rows().num_rows for p in range(positions) for e in stream.events(p) if isinstance(e, ChangeBatch))


def direct(warehouse: str, positions: int) -> float:
    create_tables(warehouse)
    catalog = paimon_py.CatalogFactory.create({"warehouse": warehouse})
    stream = SyntheticChangeStream()
    events = [stream.events(p) for p in range(positions)]  # generated up front: not timed
    started = time.perf_counter()
    writer = TableWriterLogic(catalog)
    committer = TableCommitterLogic(catalog, "bench")
    evolution = SchemaEvolutionLogic(catalog)
    pending = []
    for position, batch_events in enumerate(events):
        for event in batch_events:
            if isinstance(event, SourceSchema):
                evolution.apply(event.table, event.schema)
            else:
                writer.write(event)
        if position % 20 == 19 or position == positions - 1:
            pending = committer.commit(pending + writer.prepare_commit(position + 1), position + 1)[1]
    writer.close()
    return time.perf_counter() - started


def flink(warehouse: str, positions: int, parallelism: int) -> float:
    command = [sys.executable, os.path.join(ROOT, "jobs", "sync_synthetic.py"), "--warehouse", warehouse,
               "--positions", str(positions), "--ticks_per_second", "100000",
               "--writer_parallelism", str(parallelism),
               "--flink_conf", "execution.checkpointing.interval=2s"]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT, timeout=1800)
    return time.perf_counter() - started


def check(warehouse: str, positions: int) -> None:
    model = ChangeModel.upto(SyntheticChangeStream(), positions)
    catalog = paimon_py.CatalogFactory.create({"warehouse": warehouse})

    def read(name):
        table = catalog.get_table(name)
        rb = table.new_read_builder()
        return rb.new_read().to_arrow(rb.new_scan().plan().splits()).to_pylist()

    orders = {r["id"]: r for r in read(PK_TABLE)}
    if orders != {k: {c: v.get(c) for c in next(iter(orders.values()))} for k, v in model.orders.items()} \
            or Counter((r["seq"], r["payload"]) for r in read(LOG_TABLE)) != model.events:
        raise SystemExit(f"the lake in {warehouse} differs from the model")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=1000)
    parser.add_argument("--output", default=os.path.join(HERE, "results", "flink_sink.md"))
    args = parser.parse_args(argv)
    rows = rows_in(SyntheticChangeStream(), args.positions)
    workdir = tempfile.mkdtemp(prefix="bench-flink-")
    try:
        results = {}
        warehouse = os.path.join(workdir, "direct")
        results["paimon_py directly (no Flink)"] = (direct(warehouse, args.positions), 0.0)
        check(warehouse, args.positions)
        for parallelism in (1, 2):
            startup = flink(os.path.join(workdir, f"startup{parallelism}"), 1, parallelism)
            warehouse = os.path.join(workdir, f"flink{parallelism}")
            results[f"PyFlink job, writer parallelism {parallelism}"] = (
                flink(warehouse, args.positions, parallelism), startup)
            check(warehouse, args.positions)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    base = results["paimon_py directly (no Flink)"][0]
    lines = ["# Flink sink end to end vs paimon_py alone", "",
             f"{datetime.datetime.now().isoformat(timespec='seconds')} — `benchmarks/bench_flink_sink.py "
             f"--positions {args.positions}` ({rows:,} changed rows in {args.positions:,} batches)", "",
             f"Machine: {machine()}", "",
             "| pipeline | wall s | rows/s | start-up s | rows/s net of start-up | extra us per row vs direct |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, (seconds, startup) in results.items():
        net = seconds - startup
        lines.append(f"| {name} | {seconds:.1f} | {rows / seconds:,.0f} | {startup:.1f} | {rows / net:,.0f} | "
                     f"{(net - base) / rows * 1e6:.1f} |")
    text = "\n".join(lines) + "\n"
    publish(text, args.output, "flink_sink")
    return 0


if __name__ == "__main__":
    sys.exit(main())
