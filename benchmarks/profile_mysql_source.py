"""cProfile of the MySQL reader (``MySqlChangeSource``) without Flink, on a private MariaDB with
the ``bench_mysql_cdc`` table and workload: where a job's reader spends its time.

    .venv/bin/python benchmarks/profile_mysql_source.py snapshot [--rows 1000000]
    .venv/bin/python benchmarks/profile_mysql_source.py stream [--rows 100000] [--changes 50000]

``snapshot``: ``step()`` until the snapshot is done; ``stream``: the sustained changes applied
first, then ``step()`` until the position reaches the binlog end, and python-mysql-replication
over the same range for comparison. Prints the rate and the top functions by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import bench_mysql_cdc as bench  # noqa: E402
from operators.cdc.targets import table_targets  # noqa: E402
from operators.mysql.change_source import MySqlChangeSource, MySqlSourceFactory  # noqa: E402
from operators.mysql.local_server import LocalMariaDB  # noqa: E402
from operators.mysql.source_config import MySqlSourceConfig, TypeMapping  # noqa: E402


def open_source(server: LocalMariaDB, mode: str) -> MySqlChangeSource:
    config = MySqlSourceConfig.parse({**server.conf(bench.DB), "table-name": bench.TABLE, "scan.startup.mode": mode},
                                     True)
    source = MySqlSourceFactory(config, table_targets(bench.DB, bench.TABLE, [], [], {}), TypeMapping()) \
        .open(None, "profile")
    source.start()
    return source


def profiled(loop) -> tuple[float, cProfile.Profile]:
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.runcall(loop)
    return time.perf_counter() - started, profile


def snapshot(server: LocalMariaDB, args) -> cProfile.Profile:
    source = open_source(server, "snapshot")

    def loop():
        while not source.snapshot_done:
            source.step()
    seconds, profile = profiled(loop)
    source.close()
    print(f"snapshot: {args.rows:,} rows in {seconds:.2f} s = {args.rows / seconds:,.0f} rows/s")
    return profile


def stream(server: LocalMariaDB, args) -> cProfile.Profile:
    source = open_source(server, "latest-offset")
    s = bench.sustained(server, args.rows, args.changes, 1000)

    def loop():
        while source.binlog.file_pos() < s["end"]:
            source.step(0.1)
    seconds, profile = profiled(loop)
    source.close()
    print(f"stream: {s['changes']:,} changes in {seconds:.2f} s = {s['changes'] / seconds:,.0f} changes/s")
    pmr_s, pmr_rows = bench.pmr_drain(server, s["start"], s["end"])
    print(f"python-mysql-replication: {pmr_rows:,} rows in {pmr_s:.2f} s = {pmr_rows / pmr_s:,.0f} rows/s")
    return profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["snapshot", "stream"])
    parser.add_argument("--rows", type=int, default=None, help="table rows (snapshot 1000000, stream 100000)")
    parser.add_argument("--changes", type=int, default=50_000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    args.rows = args.rows or (1_000_000 if args.what == "snapshot" else 100_000)
    with LocalMariaDB(settings=dict(bench.SERVER_SETTINGS)) as server:
        bench.load(server, args.rows)
        profile = (snapshot if args.what == "snapshot" else stream)(server, args)
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
