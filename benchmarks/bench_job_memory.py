"""Peak memory of a whole CDC job against the rows it snapshots, before and after a change.

    .venv/bin/python benchmarks/bench_job_memory.py [--rows 1 1000000 5000000 20000000] [--before 7e440bf]
        [--table_conf bucket=4 ...] [--buffers 64mb 128mb 256mb 512mb]

One private PostgreSQL 15 (``LocalPostgres``) holds a table per size, ``bench(id bigint primary
key, k int, v text, amount numeric(12,2), ts timestamp)`` as ``bench_postgres_cdc.py`` fills it.
For each size, ``jobs/postgres_sync_table.py`` in the bounded ``snapshot`` mode (default settings
but ``execution.checkpointing.interval=1s``, as the CDC benchmark) runs into a fresh warehouse,
once with the code of ``--before`` (a temporary ``git worktree`` of that commit, its bridge jar
built; ``--before ''``: none) and once with this checkout, one after the other; ``--table_conf``
options go to both (the default table is a dynamic-bucket one). With ``--buffers`` this checkout
runs once per ``write-buffer-size`` instead, and the checks say how much the client's memory grew
per MiB more buffer. Every 0.2 s the resident memory of each process in the job's process group is
read: the peak of the sum (what the job costs the machine) and, at that moment, the client (the
Python process that runs the Python operators as threads), the JVM (PyFlink's gateway and the
mini-cluster) and the workers' boot processes. The lake must equal the source (count and
checksums) after every run.

Results: ``benchmarks/results/job_memory.md`` and a plot beside it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from benchmarks.bench_postgres_cdc import (CREATE, DB, ROWS_SQL, SERVER_SETTINGS, Job, check_equal,  # noqa: E402
                                           lake_stats, source_stats)
from benchmarks.cdc_harness import group_processes  # noqa: E402
from benchmarks.common import machine, publish  # noqa: E402
from operators.postgres.local_server import LocalPostgres  # noqa: E402
from paimon_py.config_option import parse_memory  # noqa: E402

SAMPLE_S = 0.2
TIMEOUT_S = 3600
KINDS = ("client", "JVM", "worker boots", "other")


def load(server: LocalPostgres, rows: int) -> str:
    table = f"bench_{rows}"
    server.execute(CREATE.format(name=table), database=DB)
    server.execute(ROWS_SQL.format(name=table), (1, rows), database=DB)
    server.execute(f"VACUUM (ANALYZE, FREEZE) {table}", database=DB)
    return table


def kind_of(pid: int, leader: int) -> str:
    if pid == leader:
        return "client"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
    except OSError:
        return "other"
    if os.path.basename(args[0]) == b"java":
        return "JVM"
    return "worker boots" if any(b"beam_boot" in a or b"worker_boot" in a for a in args) else "other"


def run(server: LocalPostgres, root: str, table: str, workdir: str, name: str, table_conf: list[str]) -> dict:
    """The bounded job once; its peak memory (bytes) in total and per kind of process at the peak."""
    lake = os.path.join(workdir, f"lake-{name}")
    options = [arg for option in table_conf for arg in ("--table_conf", option)]
    job = Job(server, lake, table, name.replace("-", "_"), "snapshot", os.path.join(workdir, f"job-{name}.log"),
              "--flink_conf", "execution.checkpointing.interval=1s", *options, root=root)
    peak, at_peak, boots = 0, dict.fromkeys(KINDS, 0), 0
    started = time.perf_counter()
    try:
        while job.process.poll() is None:
            if time.perf_counter() - started > TIMEOUT_S:
                raise SystemExit(f"{name}: the job did not end within {TIMEOUT_S} s:\n{job.log_tail()}")
            sample = group_processes(job.process.pid)
            if sum(sample.values()) > peak:
                peak, at_peak = sum(sample.values()), dict.fromkeys(KINDS, 0)
                kinds = {pid: kind_of(pid, job.process.pid) for pid in sample}
                for pid, rss in sample.items():
                    at_peak[kinds[pid]] += rss
                boots = sum(1 for k in kinds.values() if k == "worker boots")
            time.sleep(SAMPLE_S)
        seconds = time.perf_counter() - started
    finally:
        job.kill()
    if job.process.returncode != 0:
        raise SystemExit(f"the job failed (exit {job.process.returncode}):\n{job.log_tail()}")
    check = check_equal(f"{name}", source_stats(server, table), lake_stats(lake, table))
    shutil.rmtree(lake, ignore_errors=True)
    return {"peak": peak, "at_peak": at_peak, "boots": boots, "wall_s": seconds, "check": check}


def before_checkout(commit: str, workdir: str) -> str:
    """A git worktree of ``commit`` with its bridge jar built."""
    path = os.path.join(workdir, f"before-{commit}")
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", path, commit], check=True,
                   capture_output=True)
    subprocess.run([sys.executable, os.path.join(path, "bridge", "build.py")], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": path})
    return path


def variants(args, before: Optional[str]) -> list[tuple[str, str, list[str]]]:
    """(label, checkout, extra table options) of each run at one size."""
    if args.buffers:
        return [(f"write-buffer-size={size}", ROOT, [f"write-buffer-size={size}"]) for size in args.buffers]
    return ([(f"before ({args.before})", before, [])] if before else []) + [("after", ROOT, [])]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1, 1_000_000, 5_000_000, 20_000_000])
    parser.add_argument("--before", default="7e440bf", help="the commit to compare with ('': none)")
    parser.add_argument("--table_conf", action="append", default=[], help="a lake table option, k=v")
    parser.add_argument("--buffers", nargs="+", default=[],
                        help="instead of before/after: this checkout once per write-buffer-size (e.g. 64mb 256mb)")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--output", default=os.path.join(HERE, "results", "job_memory.md"))
    args = parser.parse_args(argv)
    args.load_at_start = os.getloadavg()[0]
    workdir = tempfile.mkdtemp(prefix="bench-job-memory-", dir=args.workdir)
    server = LocalPostgres(settings=dict(SERVER_SETTINGS))
    before = None
    results: list[tuple[int, str, dict]] = []
    try:
        before = before_checkout(args.before, workdir) if args.before and not args.buffers else None
        server.start()
        server.execute(f"CREATE DATABASE {DB}")
        for rows in args.rows:
            table = load(server, rows)
            for code, root, conf in variants(args, before):
                name = re.sub(r"[^a-z0-9]+", "_", code.split()[0].lower())
                result = run(server, root, table, workdir, f"{name}-{rows}", args.table_conf + conf)
                results.append((rows, code, result))
                print(f"[{datetime.datetime.now():%H:%M:%S}] {rows:,} rows, {code}: peak "
                      f"{result['peak'] / 2**20:,.0f} MiB", flush=True)
            server.execute(f"DROP TABLE {table}", database=DB)
            publish(report(args, results), args.output, "job_memory")  # each size as it is done
    finally:
        server.stop()
        if before is not None:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", before], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def report(args, results: list[tuple[int, str, dict]]) -> str:
    def mib(value: int) -> str:
        return f"{value / 2**20:,.0f}"
    done = sorted({rows for rows, _, _ in results if rows >= 1_000_000})
    after = [r["peak"] for rows, code, r in results if code == "after" and rows >= 1_000_000]
    flat = (f"after, {done[0]:,} to {done[-1]:,} rows: peak "
            f"{mib(min(after))} to {mib(max(after))} MiB, {100 * (max(after) / min(after) - 1):.1f}% apart"
            if len(after) > 1 else "")
    lines = [
        "# Peak memory of a CDC job against the rows it snapshots", "",
        f"{datetime.datetime.now().astimezone().isoformat(timespec='seconds')} — `benchmarks/bench_job_memory.py "
        f"--rows {' '.join(str(r) for r in args.rows)} --before '{args.before}'"
        f"{''.join(f' --table_conf {o}' for o in args.table_conf)}"
        f"{' --buffers ' + ' '.join(args.buffers) if args.buffers else ''}`", "",
        f"Machine: {machine()}; 1-minute load average {args.load_at_start:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end (memory is measured per process, unaffected by other work; "
        f"the wall times compare only on a quiet machine).", "",
        "`postgres_sync_table` with `scan.startup.mode=snapshot` (bounded) on a private PostgreSQL 15, "
        "table `bench(id bigint primary key, k int, v text, amount numeric(12,2), ts timestamp)`, default "
        f"settings but 1 s checkpoints{''.join(f', {o}' for o in args.table_conf)}; "
        + ("this checkout once per write-buffer-size, one after the other. " if args.buffers else
           "the code before the change (if any) and after it, one after the other. ") +
        "Peak RSS: the largest sum over the job's process group, sampled every 0.2 s; the columns to its "
        "right split that moment by process.", "",
        "| rows | code | peak RSS MiB | client MiB | JVM MiB | worker boots MiB | boot processes | wall s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for rows, code, r in results:
        p = r["at_peak"]
        lines.append(f"| {rows:,} | {code} | {mib(r['peak'])} | {mib(p['client'])} | {mib(p['JVM'])} | "
                     f"{mib(p['worker boots'])} | {r['boots']} | {r['wall_s']:.1f} |")
    lines += ["", "## Checks", "", *[f"* {r['check']}" for _, _, r in results]]
    if flat:
        lines += [f"* {flat}"]
    lines += buffer_slopes(results)
    return "\n".join(lines) + "\n"


def buffer_slopes(results: list[tuple[int, str, dict]]) -> list[str]:
    """``--buffers``: how much the client's memory at the peak grew per MiB more write buffer,
    between consecutive sizes at each row count (<= 1.2: the option is honoured within 1.2x)."""
    lines = []
    for rows in sorted({rows for rows, _, _ in results}):
        runs = sorted((_mib_of(code), r["at_peak"]["client"]) for r_rows, code, r in results
                      if r_rows == rows and code.startswith("write-buffer-size="))
        for (low, low_client), (high, high_client) in zip(runs, runs[1:]):
            slope = (high_client - low_client) / 2**20 / (high - low)
            lines.append(f"* {rows:,} rows, write-buffer-size {low:g} -> {high:g} MiB: client at the peak "
                         f"{low_client / 2**20:,.0f} -> {high_client / 2**20:,.0f} MiB, {slope:+.2f} MiB per MiB of buffer")
    return lines


def _mib_of(code: str) -> float:
    """The MiB of a ``write-buffer-size=<size>`` label (Paimon's memory size syntax)."""
    return parse_memory(code.split("=", 1)[1]) / 2**20


if __name__ == "__main__":
    sys.exit(main())
