"""The chaos suite's long run (``scripts/chaos.sh``): a private server of the chosen source, one
``ChaosRun`` with the given kills, and its results file (``benchmarks/results/chaos_<source>.md``
with a plot of the recovery times beside it): machine, seed, kills survived per kind and phase,
recovery times min / median / max, rows compared, positions, verdict.

``python -m tests.support.chaos_report --kills 20 --cluster-kills 5 --seed 7 --source postgres``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import traceback
from collections import Counter
from datetime import datetime, timezone

from benchmarks.common import machine, publish
from operators.mysql.local_server import LocalMariaDB
from operators.postgres.local_server import LocalPostgres
from tests.support.chaos import CLUSTER, SNAPSHOT, STREAM, TASKMANAGER, ChaosConfig, ChaosResult, ChaosRun, assert_survived
from tests.support.chaos_sources import mariadb_source, postgres_source
from tests.support.mariadb import fresh_mysql_database
from tests.support.paths import ROOT
from tests.support.postgres import fresh_database

SOURCES = {"postgres": (LocalPostgres, fresh_database, postgres_source),
           "mariadb": (LocalMariaDB, fresh_mysql_database, mariadb_source)}


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="scripts/chaos.sh", description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=20, help="TaskManager kills")
    p.add_argument("--cluster-kills", type=int, default=5, help="whole-cluster kills")
    p.add_argument("--snapshot-kills", type=int, default=3, help="kills aimed at the initial snapshot")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--source", choices=sorted(SOURCES), default="postgres")
    p.add_argument("--orders", type=int, default=30_000, help="rows of the initial snapshot (orders, events)")
    p.add_argument("--output", help="results file (default: benchmarks/results/chaos_<source>.md)")
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> tuple[ChaosResult | None, str]:
    """The run and its verdict (``PASS``, or ``FAIL: <why>``)."""
    config = ChaosConfig(args.seed, args.kills, args.cluster_kills, args.snapshot_kills, orders=args.orders)
    server_type, fresh, make_source = SOURCES[args.source]
    server = server_type().start()
    try:
        with fresh(server, "chaos_run") as database:
            root = tempfile.mkdtemp(prefix=f"chaos-{args.source}-")
            chaos = ChaosRun(make_source(server, database), root, config)
            try:
                assert_survived(chaos.run())
            except BaseException as e:  # the results file says what failed; the logs stay in root
                traceback.print_exc()
                print(f"the cluster's logs and the lake are kept in {root}")
                return chaos.result, f"FAIL: {str(e).strip().splitlines()[0][:300] if str(e).strip() else repr(e)}"
            shutil.rmtree(root)
            return chaos.result, "PASS"
    finally:
        server.stop()


def spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f} s"


def render(args: argparse.Namespace, result: ChaosResult, verdict: str, argv: list[str]) -> str:
    kills = result.kills
    lines = [f"# Chaos run: {args.source}", "",
             f"{datetime.now(timezone.utc).isoformat(timespec='seconds')} — `scripts/chaos.sh {' '.join(argv)}` "
             f"(seed {args.seed}, {result.seconds:.0f} s)", "",
             f"Machine: {machine()}; load average at the end {', '.join(f'{x:.1f}' for x in os.getloadavg())}", "",
             f"**Verdict: {verdict}**", "",
             "| kind | planned | survived | in the snapshot | while streaming | recovery: min / median / max |",
             "|---|---:|---:|---:|---:|---:|"]
    for kind, planned in ((TASKMANAGER, args.kills), (CLUSTER, args.cluster_kills)):
        mine = [k for k in kills if k.kind == kind]
        phases = Counter(k.phase for k in mine)
        lines.append(f"| {kind}: min / median / max | {planned} | {len(mine)} | {phases[SNAPSHOT]} | {phases[STREAM]} "
                     f"| {spread([k.recovery_s for k in mine])} |")
    lines += ["", "| what | value |", "|---|---:|"]
    for table, rows in result.rows.items():
        lines.append(f"| rows compared, {table} | {rows:,} |")
    lines.append(f"| duplicates in the append table | {result.duplicates} |")
    if result.workload:
        lines.append(f"| workload transactions | {result.workload.transactions:,} "
                     f"({', '.join(f'{k} {n}' for k, n in sorted(result.workload.by_kind.items()))}) |")
    if result.positions:
        p = result.positions
        lines.append(f"| positions (target / follower / lake after) | {p.target} / {p.follower} / {p.lake_after} |")
    lines += ["", "| # | kind | phase | at s | processes killed | recovery s |", "|---:|---|---|---:|---:|---:|"]
    lines += [f"| {i} | {k.kind} | {k.phase} | {k.at_s:.1f} | {k.processes} | {k.recovery_s:.1f} |"
              for i, k in enumerate(kills, 1)]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    args = parse(argv)
    result, verdict = run(args)
    output = args.output or str(ROOT / "benchmarks" / "results" / f"chaos_{args.source}.md")
    publish(render(args, result, verdict, argv), output, f"chaos_{args.source}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
