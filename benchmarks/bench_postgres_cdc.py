"""PostgreSQL CDC end to end: initial snapshot and streaming changes into Paimon, against baselines.

    .venv/bin/python benchmarks/bench_postgres_cdc.py [--rows 5000000] [--changes 1000000]

(``--rows 200000 --changes 100000`` is a quick check.) One run, on a private PostgreSQL 15
(``LocalPostgres``, settings for bulk load) with ``bench(id bigint primary key, k int, v text,
amount numeric(12,2), ts timestamp)`` filled by ``generate_series``:

1. Initial snapshot: ``jobs/postgres_sync_table.py`` in the bounded ``snapshot`` mode into a fresh
   warehouse, wall clock until the process exits; the same run on a 1-row table gives the job's
   fixed start/stop cost, so rows/s are reported gross and net of it. Baselines in the same run:
   the raw ``COPY bench TO STDOUT (FORMAT csv)`` drain (psycopg2 ``copy_expert`` into a null sink),
   and pypaimon 2.1.0 writing the same rows from Arrow into a primary-key table (4 buckets, like
   the job's table; rows read with COPY/pyarrow first, only write + commit timed). The lake must
   equal the source (count and checksums) or the run fails. The same job once more with
   ``--split-readers`` (default 2) split readers (``scan.snapshot.parallelism``), into a lake of
   its own.
2. Streaming, into the same warehouse and table, job in ``latest-offset`` mode with 1 s
   checkpoints: (a) ``--changes`` row changes in 1,000-row transactions (updates, some inserts and
   deletes) as fast as one connection applies them; the time from the first change until the
   job's published position reaches the final WAL LSN gives changes/s; the lake must equal the
   source. (b) Latency of a paced workload (50 transactions/s of 20 rows for 20 s): per
   transaction, the first Paimon snapshot whose position LSN covers it, its ``timeMillis`` minus
   the commit's wall time. (c) Baseline: ``pg_recvlogical`` draining the same changes (pgoutput,
   the job's publication) from a second slot created before the job started. (d) Both draining
   the same backlog alone: the job paused (SIGSTOP of its process group) while a second set of
   ``--changes`` is applied, then resumed; the time from resuming until its published position
   covers the set, against ``pg_recvlogical`` draining the same set (its slot advanced to where
   the set starts). (e) The same as (d) with the job restarted with Python worker processes
   (``_python_worker_execution_mode=process``), as a cluster runs them.

Results: ``benchmarks/results/postgres_cdc.md`` and a plot beside it (``postgres_cdc.png``).
"""

from __future__ import annotations

import datetime
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import psycopg2  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402

from benchmarks import cdc_harness as harness  # noqa: E402
from benchmarks.cdc_harness import (WORKER_PROCESSES, JobProcess, SnapshotWatcher, bench_parser,  # noqa: E402
                                     kill_group, median_known, paced_ranges, parse_bench_args, phase,
                                     rate_text, ratio_text, step, sustained_plan)
from benchmarks.common import machine, publish  # noqa: E402
from operators.postgres.local_server import LocalPostgres, find_bin_dir  # noqa: E402
from operators.postgres.replication import format_lsn, parse_lsn  # noqa: E402

DB = "bench"
TABLE = "bench"
ONE_ROW_TABLE = "bench_one"
BUCKETS = "4"
SERVER_SETTINGS = {"max_wal_size": "4GB", "checkpoint_timeout": "30min", "shared_buffers": "1GB",
                   "maintenance_work_mem": "512MB", "wal_buffers": "64MB", "autovacuum": "off"}
CREATE = "CREATE TABLE {name} (id bigint PRIMARY KEY, k int, v text, amount numeric(12,2), ts timestamp)"
ROWS_SQL = ("INSERT INTO {name} SELECT g, (g %% 1000)::int, CASE WHEN g %% 97 = 0 THEN NULL ELSE md5(g::text) END,"
            " ((g %% 100000) / 100.0)::numeric(12,2), TIMESTAMP '2024-01-01' + g * INTERVAL '1 second'"
            " FROM generate_series(%s, %s) g")
ARROW_SCHEMA = pa.schema([pa.field("id", pa.int64(), False), pa.field("k", pa.int32()),
                          pa.field("v", pa.string()), pa.field("amount", pa.decimal128(12, 2)),
                          pa.field("ts", pa.timestamp("us"))])
SNAPSHOT_SLOT, ONE_ROW_SLOT, STREAM_SLOT, BASELINE_SLOT = "bench_snap", "bench_one", "bench_stream", "baseline"
SPLIT_SLOT = "bench_split"
PUBLICATION = f"{STREAM_SLOT}_pub"  # the job's default publication name


# --- PostgreSQL side ---------------------------------------------------------------------------

def load(server: LocalPostgres, rows: int) -> dict:
    server.execute(f"CREATE DATABASE {DB}")
    server.execute(CREATE.format(name=TABLE), database=DB)
    server.execute(CREATE.format(name=ONE_ROW_TABLE), database=DB)
    server.execute(ROWS_SQL.format(name=ONE_ROW_TABLE), (1, 1), database=DB)
    started = time.perf_counter()
    server.execute(ROWS_SQL.format(name=TABLE), (1, rows), database=DB)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    server.execute(f"VACUUM (ANALYZE, FREEZE) {TABLE}", database=DB)  # hint bits set: reads do not write
    server.execute("CHECKPOINT")
    vacuum = time.perf_counter() - started
    size = server.execute(f"SELECT pg_total_relation_size('{TABLE}')", database=DB)[0][0]
    return {"load_s": loaded, "vacuum_s": vacuum, "bytes": size}


def source_stats(server: LocalPostgres, table: str = TABLE) -> tuple:
    row = server.execute(
        f"SELECT count(*), coalesce(sum(id), 0), coalesce(sum(k), 0), coalesce(sum(amount), 0), count(v),"
        f" coalesce(sum(length(v)), 0), coalesce(sum((extract(epoch FROM ts) * 1000000)::bigint), 0) FROM {table}",
        database=DB)[0]
    return tuple(Decimal(x) for x in row)


def wal_lsn(cur, insert: bool = False) -> int:
    cur.execute(f"SELECT pg_current_wal{'_insert' if insert else ''}_lsn()::text")
    return parse_lsn(cur.fetchone()[0])


class NullSink:
    def __init__(self):
        self.bytes = 0

    def write(self, data) -> int:
        self.bytes += len(data)
        return len(data)


def copy_drain(server: LocalPostgres) -> tuple[float, int]:
    conn = psycopg2.connect(server.dsn_for(DB))
    try:
        sink = NullSink()
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.copy_expert(f"COPY {TABLE} TO STDOUT (FORMAT csv)", sink)
        return time.perf_counter() - started, sink.bytes
    finally:
        conn.close()


def copy_to_arrow(server: LocalPostgres) -> pa.Table:
    conn = psycopg2.connect(server.dsn_for(DB) + " options='-c DateStyle=ISO -c TimeZone=UTC'")
    try:
        buffer = io.BytesIO()
        with conn.cursor() as cur:
            cur.copy_expert(f"COPY {TABLE} TO STDOUT (FORMAT csv)", buffer)
    finally:
        conn.close()
    table = pacsv.read_csv(
        io.BytesIO(buffer.getvalue()),
        read_options=pacsv.ReadOptions(column_names=ARROW_SCHEMA.names, block_size=1 << 24),
        convert_options=pacsv.ConvertOptions(column_types={f.name: f.type for f in ARROW_SCHEMA},
                                             null_values=[""], strings_can_be_null=True,
                                             quoted_strings_can_be_null=False))
    return table.cast(ARROW_SCHEMA)


# --- the lake ------------------------------------------------------------------------------------

def lake_stats(warehouse: str, table: str = TABLE, library: str = "paimon_py") -> tuple:
    module = __import__(library)
    catalog = module.CatalogFactory.create({"warehouse": warehouse})
    builder = catalog.get_table(f"{DB}.{table}").new_read_builder()
    data = builder.new_read().to_arrow(builder.new_scan().plan().splits())

    def total(array) -> Decimal:
        value = pc.sum(array).as_py() if len(array) else None
        return Decimal(value or 0)
    return (Decimal(data.num_rows), total(data["id"]), total(data["k"]), total(data["amount"]),
            Decimal(len(data) - data["v"].null_count), total(pc.utf8_length(data["v"])),
            total(data["ts"].cast(pa.timestamp("us")).cast(pa.int64()).cast(pa.decimal128(38, 0))))


STAT_NAMES = ("count", "sum(id)", "sum(k)", "sum(amount)", "count(v)", "sum(length(v))", "sum(ts us)")


def check_equal(what: str, source: tuple, lake: tuple) -> str:
    return harness.check_equal(what, STAT_NAMES, source, lake)


def pypaimon_write(warehouse: str, data: pa.Table, batch_rows: int = 100_000) -> float:
    import pypaimon
    catalog = pypaimon.CatalogFactory.create({"warehouse": warehouse})
    catalog.create_database(DB, ignore_if_exists=True)
    catalog.create_table(f"{DB}.{TABLE}", pypaimon.Schema.from_pyarrow_schema(
        ARROW_SCHEMA, primary_keys=["id"], options={"bucket": BUCKETS, "file.format": "parquet"}),
        ignore_if_exists=False)
    table = catalog.get_table(f"{DB}.{TABLE}")
    started = time.perf_counter()
    builder = table.new_batch_write_builder()
    write, commit = builder.new_write(), builder.new_commit()
    for offset in range(0, data.num_rows, batch_rows):
        write.write_arrow(data.slice(offset, batch_rows))
    commit.commit(write.prepare_commit())
    write.close()
    commit.close()
    return time.perf_counter() - started


# --- the job -------------------------------------------------------------------------------------

class Job(JobProcess):
    """``jobs/postgres_sync_table.py`` as a child process in its own session."""

    def __init__(self, server: LocalPostgres, warehouse: str, table: str, slot: str, mode: str,
                 log_path: str, *extra: str, root: str = harness.ROOT, env: Optional[dict[str, str]] = None):
        conf = {**server.conf(DB), "table-name": table, "slot.name": slot, "scan.startup.mode": mode}
        super().__init__("postgres_sync_table.py",
                         ["--warehouse", warehouse, "--database", DB, "--table", table,
                          *[x for k, v in conf.items() for x in ("--postgres_conf", f"{k}={v}")], *extra],
                         warehouse, f"postgres/127.0.0.1:{server.port}/{DB}/{slot}", log_path,
                         lambda state: state["lsn"], root, env)

    def published_lsn(self) -> int:
        lsn = self.published()
        return -1 if lsn is None else lsn


def snapshot_job(server: LocalPostgres, warehouse: str, table: str, slot: str, workdir: str,
                 split_readers: int = 1) -> dict:
    """The bounded job once: wall s (process start to exit), Flink RUNNING->FINISHED s, peak RSS;
    ``split_readers``: ``scan.snapshot.parallelism``."""
    job = Job(server, warehouse, table, slot, "snapshot", os.path.join(workdir, f"job-{slot}.log"),
              "--flink_conf", "execution.checkpointing.interval=1s",
              "--postgres_conf", f"scan.snapshot.parallelism={split_readers}")
    try:
        seconds, peak = job.wait(timeout=3600)
    finally:
        job.kill()
    leftover = server.execute("SELECT slot_name FROM pg_replication_slots WHERE slot_name = %s", (slot,), database=DB)
    if leftover:
        raise AssertionError(f"the bounded snapshot job left slot {slot} behind (it would pin WAL)")
    return {"wall_s": seconds, "flink_s": job.flink_running_s(), "rss": peak}


# --- streaming -------------------------------------------------------------------------------------

def warm_up(server: LocalPostgres, job: Job, timeout: float = 300) -> float:
    """Touches row 1 (no value changes) every 2 s until the job's published position covers it."""
    conn = psycopg2.connect(server.dsn_for(DB))
    conn.autocommit = True
    started = time.perf_counter()
    try:
        with conn.cursor() as cur:
            cur.execute("SET synchronous_commit = on")
            deadline = time.monotonic() + timeout
            while True:
                cur.execute(f"UPDATE {TABLE} SET k = k WHERE id = (SELECT min(id) FROM {TABLE})")
                lsn = wal_lsn(cur)
                until = time.monotonic() + 2
                while time.monotonic() < until:
                    job.check_running()
                    if job.published_lsn() >= lsn:
                        return time.perf_counter() - started
                    time.sleep(0.05)
                if time.monotonic() > deadline:
                    raise SystemExit(f"the streaming job published no position within {timeout:.0f} s:\n"
                                     f"{job.log_tail()}")
    finally:
        conn.close()


def sustained(server: LocalPostgres, rows: int, changes: int, tx_rows: int) -> dict:
    """``changes`` row changes in ``tx_rows``-row transactions (``cdc_harness.sustained_plan``)."""
    plan = sustained_plan(rows, changes, tx_rows)
    conn = psycopg2.connect(server.dsn_for(DB))
    applied = {"U": 0, "I": 0, "D": 0}
    started = time.perf_counter()
    with conn.cursor() as cur:
        for kind, lo, hi in plan:
            if kind == "U":
                cur.execute(f"UPDATE {TABLE} SET k = k + 1, amount = amount + 0.01,"
                            f" ts = ts + INTERVAL '1 second' WHERE id BETWEEN %s AND %s", (lo, hi))
            elif kind == "I":
                cur.execute(ROWS_SQL.format(name=TABLE), (lo, hi))
            else:
                cur.execute(f"DELETE FROM {TABLE} WHERE id BETWEEN %s AND %s", (lo, hi))
            applied[kind] += cur.rowcount
            conn.commit()
        conn.autocommit = True
        produced = time.perf_counter()
        final_lsn = wal_lsn(cur, insert=True)
    conn.close()
    return {"started": started, "produced": produced, "final_lsn": final_lsn, "transactions": len(plan),
            "applied": applied, "changes": sum(applied.values())}


def latency(server: LocalPostgres, job: Job, warehouse: str, rows: int, tps: float, tx_rows: int,
            seconds: float) -> dict:
    watcher = SnapshotWatcher(os.path.join(warehouse, f"{DB}.db", TABLE), job.source_id, lambda st: st["lsn"])
    watcher.start()
    conn = psycopg2.connect(server.dsn_for(DB))
    conn.autocommit = True
    commits: list[tuple[float, int]] = []  # (commit wall ms, pg_current_wal_lsn() after it)
    count = int(tps * seconds)
    try:
        with conn.cursor() as cur:
            cur.execute("SET synchronous_commit = on")  # the LSN read after commit covers the commit
            started = time.perf_counter()
            for first, last in paced_ranges(count, tps, rows, tx_rows):
                cur.execute(f"UPDATE {TABLE} SET k = k + 1 WHERE id BETWEEN %s AND %s", (first, last))
                committed = time.time() * 1000
                commits.append((committed, wal_lsn(cur)))
            paced_s = time.perf_counter() - started
        job.wait_position(max(lsn for _, lsn in commits), timeout=300)
        time.sleep(0.5)
    finally:
        watcher.stop.set()
        watcher.join()
        conn.close()
    return {"transactions": count, "paced_s": paced_s, **watcher.latencies(commits)}


def backlog(server: LocalPostgres, job: Job, max_id: int, changes: int, tx_rows: int) -> dict:
    """Stage (d): the job paused while ``changes`` more row changes are applied over ids
    1..``max_id``, then resumed; it and ``pg_recvlogical`` drain exactly that set."""
    conn = psycopg2.connect(server.dsn_for(DB))
    conn.autocommit = True
    with conn.cursor() as cur:
        start_lsn = wal_lsn(cur, insert=True)
        cur.execute("SELECT pg_replication_slot_advance(%s, %s)", (BASELINE_SLOT, format_lsn(start_lsn)))
    conn.close()
    job.pause()
    try:
        s = sustained(server, max_id, changes, tx_rows)
    finally:
        job.resume()
    resumed = time.perf_counter()
    s["produce_s"] = s["produced"] - s["started"]
    s["job_s"] = job.wait_position(s["final_lsn"], timeout=max(900, changes / 500)) - resumed
    s["recvlogical_s"] = recvlogical(server, s["final_lsn"])
    return s


def recvlogical(server: LocalPostgres, end_lsn: int) -> float:
    command = [os.path.join(find_bin_dir(), "pg_recvlogical"), "-d", server.dsn_for(DB),
               "--slot", BASELINE_SLOT, "--start", "--endpos", format_lsn(end_lsn), "--no-loop",
               "-o", "proto_version=1", "-o", f"publication_names={PUBLICATION}", "-f", "/dev/null"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = process.communicate(timeout=1800)
        seconds = time.perf_counter() - started
    finally:
        kill_group(process, grace_s=2)
    if process.returncode != 0:
        raise SystemExit(f"pg_recvlogical failed (exit {process.returncode}): {out.decode(errors='replace')}")
    return seconds


# --- the run -------------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = bench_parser(__doc__.splitlines()[0], os.path.join(HERE, "results", "postgres_cdc.md"))
    parser.add_argument("--split-readers", type=int, default=2,
                        help="also the snapshot with scan.snapshot.parallelism=N (1: not)")
    args = parse_bench_args(parser, argv)
    workdir = tempfile.mkdtemp(prefix="bench-pgcdc-", dir=args.workdir)
    server = LocalPostgres(settings=dict(SERVER_SETTINGS))
    r: dict = {"checks": [], "load_avg": []}
    try:
        server.start()
        step(f"PostgreSQL {server.execute('SHOW server_version')[0][0]} on port {server.port}; "
             f"loading {args.rows:,} rows")
        r["load"] = load(server, args.rows)
        step(f"loaded in {r['load']['load_s']:.1f} s ({r['load']['bytes'] / 2**20:,.0f} MiB with index)")
        warehouse = run_snapshot(server, args, workdir, r)
        run_streaming(server, args, workdir, warehouse, r)
        run_backlog_in_processes(server, args, workdir, warehouse, r)
    finally:
        server.stop()
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    publish(report(args, r), args.output, "postgres_cdc", r["latency"]["samples"])
    return 0


def run_snapshot(server: LocalPostgres, args, workdir: str, r: dict) -> str:
    """Stage 1: the bounded job against the COPY drain and pypaimon; returns the job's warehouse."""
    r["copy_s"], r["copy_bytes"] = copy_drain(server)
    step(f"COPY drain {r['copy_s']:.2f} s")
    r["one_row"] = []
    for i in range(args.overhead_runs):
        lake = os.path.join(workdir, f"one{i}")
        r["one_row"].append(snapshot_job(server, lake, ONE_ROW_TABLE, f"{ONE_ROW_SLOT}{i}", workdir))
        r["checks"].append(check_equal(f"snapshot of the 1-row table, run {i + 1}",
                                       source_stats(server, ONE_ROW_TABLE), lake_stats(lake, ONE_ROW_TABLE)))
        step(f"job on a 1-row table: {r['one_row'][-1]['wall_s']:.1f} s")
    r["overhead_s"] = statistics.median(run["wall_s"] for run in r["one_row"])
    warehouse = os.path.join(workdir, "lake")
    r["snapshot"] = phase(r, "snapshot", lambda: snapshot_job(server, warehouse, TABLE, SNAPSHOT_SLOT, workdir))
    r["snapshot_s"] = r["snapshot"]["wall_s"]
    step(f"job snapshot of {args.rows:,} rows: {r['snapshot_s']:.1f} s")
    source = source_stats(server)
    r["checks"].append(check_equal("initial snapshot (postgres_sync_table, snapshot mode)", source,
                                   lake_stats(warehouse)))
    if args.split_readers > 1:
        split_lake = os.path.join(workdir, "lake-split")
        r["split"] = snapshot_job(server, split_lake, TABLE, SPLIT_SLOT, workdir, args.split_readers)
        r["checks"].append(check_equal(f"initial snapshot with {args.split_readers} split readers", source,
                                       lake_stats(split_lake)))
        step(f"job snapshot with {args.split_readers} split readers: {r['split']['wall_s']:.1f} s")
    data = copy_to_arrow(server)
    r["pypaimon_s"] = pypaimon_write(os.path.join(workdir, "pypaimon"), data)
    del data
    r["checks"].append(check_equal("pypaimon baseline table", source, lake_stats(os.path.join(workdir, "pypaimon"))))
    step(f"pypaimon write + commit: {r['pypaimon_s']:.1f} s")
    return warehouse


def run_streaming(server: LocalPostgres, args, workdir: str, warehouse: str, r: dict) -> None:
    """Stage 2 (a) to (d), one streaming job into ``warehouse``."""
    server.execute(f"CREATE PUBLICATION {PUBLICATION} FOR TABLE {TABLE}", database=DB)
    server.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (BASELINE_SLOT,), database=DB)
    job = stream_job(server, warehouse, os.path.join(workdir, "job-stream.log"))
    try:
        r["warm_up_s"] = warm_up(server, job)
        step(f"streaming job publishing positions after {r['warm_up_s']:.1f} s; applying {args.changes:,} changes")
        s = r["sustained"] = phase(r, "sustained changes", lambda: sustained_caught_up(server, job, args))
        step(f"{s['changes']:,} changes applied in {s['produce_s']:.1f} s, in the lake after {s['caught_up_s']:.1f} s")
        r["checks"].append(check_equal("after the sustained changes", source_stats(server), lake_stats(warehouse)))
        r["latency"] = latency(server, job, warehouse, args.rows, args.latency_tps, args.latency_rows,
                               args.latency_seconds)
        step(f"latency p50 {r['latency']['time_millis']['p50']:.0f} ms, p99 {r['latency']['time_millis']['p99']:.0f} ms")
        r["checks"].append(check_equal("after the paced transactions", source_stats(server), lake_stats(warehouse)))
        r["recvlogical_s"] = phase(r, "pg_recvlogical", lambda: recvlogical(server, s["final_lsn"]))
        step(f"pg_recvlogical drained the sustained changes in {r['recvlogical_s']:.1f} s")
        b = r["backlog"] = phase(r, "backlog", lambda: backlog(server, job, args.rows + s["applied"]["I"],
                                                                 args.changes, args.tx_rows))
        step(f"backlog of {b['changes']:,} changes: job {b['job_s']:.1f} s, pg_recvlogical {b['recvlogical_s']:.1f} s")
        r["checks"].append(check_equal("after the backlog", source_stats(server), lake_stats(warehouse)))
    finally:
        job.kill()


def run_backlog_in_processes(server: LocalPostgres, args, workdir: str, warehouse: str, r: dict) -> None:
    """Stage 2 (e): the same command restarted with Python worker processes (as a cluster runs
    them), a third set drained as in (d)."""
    job = stream_job(server, warehouse, os.path.join(workdir, "job-stream-processes.log"), WORKER_PROCESSES)
    try:
        warm_up(server, job)
        max_id = args.rows + r["sustained"]["applied"]["I"] + r["backlog"]["applied"]["I"]
        b = r["backlog_processes"] = phase(r, "backlog, worker processes",
                                           lambda: backlog(server, job, max_id, args.changes, args.tx_rows))
        step(f"backlog with worker processes: job {b['job_s']:.1f} s, pg_recvlogical {b['recvlogical_s']:.1f} s")
        r["checks"].append(check_equal("after the backlog with worker processes", source_stats(server),
                                       lake_stats(warehouse)))
    finally:
        job.kill()


def stream_job(server: LocalPostgres, warehouse: str, log_path: str, env: Optional[dict[str, str]] = None) -> Job:
    """The streaming job (``latest-offset``, 1 s checkpoints) on its slot; ``env``: added to its environment."""
    return Job(server, warehouse, TABLE, STREAM_SLOT, "latest-offset", log_path,
               "--flink_conf", "execution.checkpointing.interval=1s", env=env)


def sustained_caught_up(server: LocalPostgres, job: Job, args) -> dict:
    """Stage 2 (a): ``--changes`` applied while the job runs, until its position covers them."""
    s = sustained(server, args.rows, args.changes, args.tx_rows)
    done = job.wait_position(s["final_lsn"], timeout=max(900, args.changes / 500))
    s["caught_up_s"] = done - s["started"]
    s["lag_s"] = done - s["produced"]
    s["produce_s"] = s["produced"] - s["started"]
    return s


def split_rows(args, r: dict) -> list[str]:
    """The snapshot with split readers (``--split-readers``), gross and net, against the serial one."""
    if "split" not in r:
        return []
    split, rows = r["split"], args.rows
    net_s = split["wall_s"] - r["overhead_s"]
    net = rows / net_s if net_s >= 1.0 else float("nan")
    serial_net = rows / (r["snapshot_s"] - r["overhead_s"]) if r["snapshot_s"] - r["overhead_s"] >= 1.0 else float("nan")
    return [
        f"| the same job with `scan.snapshot.parallelism={args.split_readers}` (split readers), gross | "
        f"{split['wall_s']:.1f} | {rows / split['wall_s']:,.0f} | {split['wall_s'] / r['snapshot_s']:.2f} "
        f"(serial / this) | | {split['flink_s']:.1f} | {split['rss'] / 2**20:,.0f} MiB |",
        f"| ... net of the fixed cost | {net_s:.1f} | {rate_text(net)} | | {ratio_text(serial_net, net)} "
        f"(serial / this) | | |",
    ]


def backlog_rows(b: dict, processes: bool = False) -> list[str]:
    """Stage (d)'s rows; with ``processes`` stage (e)'s, the job with worker processes."""
    a, ours, theirs = b["applied"], b["changes"] / b["job_s"], b["changes"] / b["recvlogical_s"]
    what = ("backlog, the job restarted with Python worker processes (as on a cluster: "
            "`_python_worker_execution_mode=process`): paused" if processes else "backlog: job paused")
    return [
        f"| {what} (SIGSTOP) while {b['changes']:,} more changes ({a['U']:,} updated, {a['I']:,} "
        f"inserted, {a['D']:,} deleted) were applied in {b['produce_s']:.1f} s; resumed to published position "
        f">= final WAL LSN | {b['job_s']:.1f} s ({ours:,.0f} changes/s) |",
        f"| baseline: `pg_recvlogical` draining {'that set' if processes else 'the same backlog'} | "
        f"{b['recvlogical_s']:.1f} s ({theirs:,.0f} changes/s) |",
        f"| **ratio job / pg_recvlogical, {'worker processes' if processes else 'same backlog'}** | "
        f"**{ours / theirs:.2f}** |",
    ]


def report(args, r: dict) -> str:
    rows = args.rows
    s, lat = r["sustained"], r["latency"]
    gross = rows / r["snapshot_s"]
    net_s = r["snapshot_s"] - r["overhead_s"]
    # below 1 s the difference is within the run-to-run noise of the fixed cost: no net figures
    net = rows / net_s if net_s >= 1.0 else float("nan")
    copy_rate, pypaimon_rate = rows / r["copy_s"], rows / r["pypaimon_s"]
    ours = s["changes"] / s["caught_up_s"]
    theirs = s["changes"] / r["recvlogical_s"]
    a = s["applied"]
    one_row_runs = ", ".join(f"{x['wall_s']:.1f}" for x in r["one_row"])
    lines = [
        "# PostgreSQL CDC: initial snapshot and streaming into Paimon, against baselines", "",
        f"{datetime.datetime.now().astimezone().isoformat(timespec='seconds')} — `benchmarks/bench_postgres_cdc.py "
        f"--rows {rows} --changes {args.changes}`", "",
        f"Machine: {machine()}; PostgreSQL 15 (private server: fsync off, synchronous_commit off, "
        f"{', '.join(f'{k}={v}' for k, v in SERVER_SETTINGS.items())}). Server, load generator, job "
        f"(JVM + Python workers) and baselines share the machine's cores.", "",
        f"Table `bench(id bigint primary key, k int, v text, amount numeric(12,2), ts timestamp)`: "
        f"{rows:,} rows loaded by `INSERT ... generate_series` in {r['load']['load_s']:.1f} s "
        f"({rows / r['load']['load_s']:,.0f} rows/s; VACUUM FREEZE ANALYZE + CHECKPOINT {r['load']['vacuum_s']:.1f} s), "
        f"{r['load']['bytes'] / 2**20:,.0f} MiB with its index; CSV {r['copy_bytes'] / 2**20:,.0f} MiB.", "",
        "## Initial snapshot", "",
        "| what | wall s | rows/s | ours gross / this | ours net / this | Flink job RUNNING->FINISHED s "
        "| peak RSS of the job's processes |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| `postgres_sync_table` `scan.startup.mode=snapshot` (bounded; process start to exit), gross | "
        f"{r['snapshot_s']:.1f} | {gross:,.0f} | | | {r['snapshot']['flink_s']:.1f} | "
        f"{r['snapshot']['rss'] / 2**20:,.0f} MiB |",
        f"| the same job on a 1-row table (fixed start/stop cost; median of "
        f"{one_row_runs} s) | {r['overhead_s']:.1f} | | | | "
        f"{median_known(x['flink_s'] for x in r['one_row']):.1f} | "
        f"{statistics.median(x['rss'] for x in r['one_row']) / 2**20:,.0f} MiB |",
        f"| `postgres_sync_table`, net of the fixed cost | {net_s:.1f} | {rate_text(net)} "
        f"| | | | |",
        *split_rows(args, r),
        f"| baseline: `COPY bench TO STDOUT (FORMAT csv)`, psycopg2 `copy_expert` into a null sink | "
        f"{r['copy_s']:.1f} | {copy_rate:,.0f} | {gross / copy_rate:.2f} | {ratio_text(net, copy_rate)} | | |",
        f"| baseline: pypaimon 2.1.0 write + commit from Arrow (primary key, {BUCKETS} buckets, parquet) | "
        f"{r['pypaimon_s']:.1f} | {pypaimon_rate:,.0f} | {gross / pypaimon_rate:.2f} | {ratio_text(net, pypaimon_rate)} "
        f"| | |",
        "",
        "Ratios above 1 mean the job is faster. The COPY baseline is the bare read a snapshot cannot beat "
        "(no parsing, no writing); pypaimon does only the write, from rows already in memory. With split "
        "readers, a ratio above 1 means the serial snapshot is faster: on a local run every Python operator "
        "shares one process, so split readers add operators to the same cores rather than cores.", "",
        "## Streaming (`latest-offset`, `execution.checkpointing.interval=1s`, same table and lake)", "",
        "| what | value |", "|---|---:|",
        f"| sustained: row changes ({a['U']:,} updated, {a['I']:,} inserted, {a['D']:,} deleted) in "
        f"{s['transactions']:,} transactions of {args.tx_rows:,} rows | {s['changes']:,} |",
        f"| load generator: time to apply them (one connection) | {s['produce_s']:.1f} s "
        f"({s['changes'] / s['produce_s']:,.0f} changes/s) |",
        f"| job: first change to published position >= final WAL LSN | {s['caught_up_s']:.1f} s |",
        f"| job: lag after the last commit | {s['lag_s']:.1f} s |",
        f"| **job: sustained changes/s** | **{ours:,.0f}** |",
        f"| baseline: `pg_recvlogical` (pgoutput v1, same publication, second slot) to the same LSN, "
        f"into /dev/null | {r['recvlogical_s']:.1f} s ({theirs:,.0f} changes/s) |",
        f"| **ratio job / pg_recvlogical** | **{ours / theirs:.2f}** |",
        *backlog_rows(r["backlog"]),
        *backlog_rows(r["backlog_processes"], processes=True),
        f"| latency: {lat['transactions']:,} transactions of {args.latency_rows} rows paced at "
        f"{args.latency_tps:g}/s ({lat['paced_s']:.1f} s), {lat['snapshots']} snapshots | |",
        f"| latency commit -> covering snapshot `timeMillis`: p50 / p99 / max | "
        f"{lat['time_millis']['p50']:,.0f} / {lat['time_millis']['p99']:,.0f} / {lat['time_millis']['max']:,.0f} ms |",
        f"| latency commit -> covering snapshot file seen (10 ms polls): p50 / p99 / max | "
        f"{lat['seen']['p50']:,.0f} / {lat['seen']['p99']:,.0f} / {lat['seen']['max']:,.0f} ms |",
        "",
        "The sustained rate is measured while the load generator runs (from the first change), so it cannot "
        "exceed the generator's; pg_recvlogical drains the finished backlog. The backlog rows compare like "
        "with like: the job, paused while the changes were applied, and pg_recvlogical each drain the same "
        "finished set alone (the job's time includes the checkpoint and commit that publish it); with worker "
        "processes the same command restarted, its Python operators in processes of their own as a cluster runs "
        "them (a local run's default: threads of one process, sharing one interpreter lock). A transaction's latency "
        "uses the first snapshot whose `cdc.position` LSN is >= `pg_current_wal_lsn()` read right after "
        "its commit (synchronous_commit on in that session).", "",
        "## Checks and conditions", "",
        *[f"* {c}" for c in r["checks"]],
        f"* stream job started streaming (first position covering a change) {r['warm_up_s']:.1f} s after launch",
        "* 1-minute load average before -> after each phase (other work on the machine shows here): "
        + "; ".join(f"{name} {before:.1f} -> {after:.1f}" for name, before, after in r["load_avg"]),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
