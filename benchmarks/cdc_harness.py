"""What the CDC benchmarks share: a sync job as a child process (``JobProcess``), its process
group's memory and end, a watcher of the lake table's snapshots and their source positions, the
lake-equals-source check and percentile summaries."""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Optional

from operators.cdc.catalog import open_catalog
from operators.cdc.source_position import PositionStore, property_key

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


WORKER_PROCESSES = {"_python_worker_execution_mode": "process"}
"""PyFlink's switch that runs a local job's Python operators in worker processes of their own, as a
cluster does (a local run's default: threads of the job's process, sharing one interpreter lock)."""


def step(text: str) -> None:
    """A benchmark's progress line, with the time."""
    print(f"[{datetime.datetime.now().strftime('%H:%M:%S')}] {text}", flush=True)


def phase(r: dict, name: str, action):
    """Runs ``action()``, noting the 1-minute load average before and after it in ``r["load_avg"]``."""
    before = os.getloadavg()[0]
    result = action()
    r["load_avg"].append((name, before, os.getloadavg()[0]))
    return result


class JobProcess:
    """``jobs/<script>`` (of the checkout ``root``) as a child process in its own session;
    ``position_of`` turns a published position's ``state`` into something ordered (None: nothing
    published); ``env``: added to the job's environment."""

    def __init__(self, script: str, args: list[str], warehouse: str, source_id: str, log_path: str,
                 position_of: Callable[[dict], Any], root: str = ROOT, env: Optional[dict[str, str]] = None):
        self.command = [sys.executable, os.path.join(root, "jobs", script), *args]
        self.log_path = log_path
        self.source_id = source_id
        self.position_of = position_of
        self.store = PositionStore.of(open_catalog({"warehouse": warehouse}))
        # Flink's own log (checkpoints, task failures) beside ours, not in the shared pyflink/log
        self.flink_log_dir = os.path.splitext(log_path)[0] + "-flink"
        env = {**os.environ, **(env or {}), "FLINK_LOG_DIR": self.flink_log_dir}
        with open(log_path, "wb") as log:
            self.started = time.perf_counter()
            self.process = subprocess.Popen(self.command, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                                            env=env, start_new_session=True)

    def log_tail(self, chars: int = 4000) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()[-chars:]

    def wait(self, timeout: float) -> tuple[float, int]:
        """Waits for the (bounded) job to end; its wall seconds from start and the peak resident
        memory (bytes) of its processes (client, JVM, Python workers), sampled every 0.2 s."""
        deadline = time.monotonic() + timeout
        peak = 0
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise SystemExit(f"the job did not end within {timeout:.0f} s:\n{self.log_tail()}")
            peak = max(peak, group_rss(self.process.pid))
            time.sleep(0.2)
        seconds = time.perf_counter() - self.started
        if self.process.returncode != 0:
            raise SystemExit(f"the job failed (exit {self.process.returncode}):\n{self.log_tail()}")
        return seconds, peak

    def flink_running_s(self) -> float:
        """Seconds the Flink job spent from CREATED->RUNNING to RUNNING->FINISHED (its Flink log)."""
        pattern = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*Job .* switched from state "
                             r"(CREATED to RUNNING|RUNNING to FINISHED)")
        times = {}
        for name in sorted(os.listdir(self.flink_log_dir)) if os.path.isdir(self.flink_log_dir) else []:
            with open(os.path.join(self.flink_log_dir, name), errors="replace") as f:
                for line in f:
                    match = pattern.match(line)
                    if match:
                        times[match.group(2)] = datetime.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")
        if len(times) < 2:
            return float("nan")
        return (times["RUNNING to FINISHED"] - times["CREATED to RUNNING"]).total_seconds()

    def check_running(self) -> None:
        if self.process.poll() is not None:
            raise SystemExit(f"the job ended (exit {self.process.returncode}):\n{self.log_tail()}")

    def published(self):
        position = self.store.load(self.source_id)
        return self.position_of(position.state) if position is not None else None

    def covers(self, target) -> bool:
        published = self.published()
        return published is not None and published >= target

    def wait_position(self, target, timeout: float, poll_s: float = 0.02) -> float:
        """Waits until the published position covers ``target``; returns the perf_counter time."""
        deadline = time.monotonic() + timeout
        while not self.covers(target):
            self.check_running()
            if time.monotonic() > deadline:
                raise SystemExit(f"the job's position did not reach {target} within {timeout:.0f} s "
                                 f"(at {self.published()}):\n{self.log_tail()}")
            time.sleep(poll_s)
        return time.perf_counter()

    def pause(self) -> None:
        """Stops the job's whole process group (SIGSTOP): its source then falls behind the server."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    def kill(self) -> None:
        """Ends the job's whole process group: SIGTERM, then SIGKILL for whatever is left."""
        kill_group(self.process)


def group_rss(pgid: int) -> int:
    """Resident memory (bytes) of the processes in process group ``pgid``."""
    return sum(group_processes(pgid).values())


def group_processes(pgid: int) -> dict[int, int]:
    """Resident memory (bytes) of each process in process group ``pgid``, leaving out a child
    that has not yet exec'd (the same command line as its parent in the group: the JVM forking to
    start a worker's boot), which shows its parent's pages and would count them twice."""
    found: dict[int, tuple[int, int, bytes]] = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.getpgid(int(pid)) != pgid:
                continue
            with open(f"/proc/{pid}/statm") as f:
                rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                found[int(pid)] = (rss, ppid, f.read())
        except (OSError, ValueError, IndexError):
            continue
    return {pid: rss for pid, (rss, ppid, command) in found.items()
            if not (ppid in found and found[ppid][2] == command)}


def kill_group(process: subprocess.Popen, grace_s: float = 10) -> None:
    def alive() -> bool:
        try:
            os.killpg(process.pid, 0)
            return True
        except ProcessLookupError:
            return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not alive():
            break
        os.killpg(process.pid, sig)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            process.poll()  # reap the leader, or the group never empties
            if not alive():
                break
            time.sleep(0.1)
    process.wait()


class SnapshotWatcher(threading.Thread):
    """Polls a lake table's snapshot directory; records each new snapshot's id, timeMillis, its
    source position (``position_of`` of the state in its properties) and the wall ms it was seen."""

    def __init__(self, table_dir: str, source_id: str, position_of: Callable[[dict], Any], poll_s: float = 0.01):
        super().__init__(daemon=True)
        self.directory = os.path.join(table_dir, "snapshot")
        self.key = property_key(source_id)
        self.position_of = position_of
        self.poll_s = poll_s
        self.stop = threading.Event()
        self.seen = set(self._ids())
        self.snapshots: list[tuple[int, int, Any, float]] = []  # (id, timeMillis, position, seen ms)

    def _ids(self) -> list[int]:
        return [int(n[len("snapshot-"):]) for n in os.listdir(self.directory)
                if n.startswith("snapshot-") and n[len("snapshot-"):].isdigit()]

    def run(self) -> None:
        while not self.stop.is_set():
            for sid in sorted(set(self._ids()) - self.seen):
                seen_ms = time.time() * 1000
                try:
                    with open(os.path.join(self.directory, f"snapshot-{sid}")) as f:
                        data = json.load(f)
                except (OSError, ValueError):
                    continue  # not complete yet: next poll
                self.seen.add(sid)
                value = (data.get("properties") or {}).get(self.key)
                if value is not None:
                    position = self.position_of(json.loads(value)["state"])
                    self.snapshots.append((sid, data["timeMillis"], position, seen_ms))
            self.stop.wait(self.poll_s)

    def latencies(self, commits: list[tuple[float, Any]]) -> dict:
        """The snapshots seen, and per ``(commit wall ms, position after it)`` the first covering
        snapshot's timeMillis and seen time minus the commit time: their samples (ms) and
        ``summary``; fails if a commit has no covering snapshot."""
        snapshots = sorted(self.snapshots)
        by_time, by_seen, missing = [], [], 0
        for committed, position in commits:
            match = next((s for s in snapshots if s[2] is not None and s[2] >= position), None)
            if match is None:
                missing += 1
                continue
            by_time.append(match[1] - committed)
            by_seen.append(match[3] - committed)
        if missing:
            raise SystemExit(f"{missing} of {len(commits)} paced transactions have no snapshot covering them")
        return {"snapshots": len(self.snapshots), "time_millis": summary(by_time), "seen": summary(by_seen),
                "samples": {"to the snapshot's timeMillis": by_time, "to the snapshot file seen": by_seen}}


def check_equal(what: str, names: tuple[str, ...], source: tuple, lake: tuple) -> str:
    """Fails the run unless the lake's figures equal the source's."""
    if source != lake:
        diff = ", ".join(f"{n}: source {s} lake {lk}" for n, s, lk in zip(names, source, lake) if s != lk)
        raise SystemExit(f"{what}: the lake differs from the source ({diff})")
    return f"{what}: lake = source ({int(source[0]):,} rows; {', '.join(names[1:])} equal)"


def median_known(values) -> float:
    """The median of the values that are numbers (a Flink log without the job's transitions gives
    NaN); NaN when none is."""
    known = [v for v in values if not math.isnan(v)]
    return statistics.median(known) if known else float("nan")


def summary(values: list[float]) -> dict:
    values = sorted(values)

    def pct(p: float) -> float:
        return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
    return {"p50": pct(50), "p99": pct(99), "max": values[-1], "min": values[0]}


# --- the workloads and the command line both CDC benchmarks share ---------------------------------

def sustained_plan(rows: int, changes: int, tx_rows: int) -> list[tuple[str, int, int]]:
    """``(kind, first id, last id)`` per transaction of ``changes`` row changes in ``tx_rows``-row
    transactions over a table of ids 1..``rows``: per 20 transactions 18 updates (``U``) of a key
    range, 1 insert (``I``) of new keys, 1 delete (``D``) of a key range no update touches."""
    transactions = -(-changes // tx_rows)
    update_hi = max(rows - transactions // 20 * tx_rows, tx_rows)
    plan = []
    next_update, next_insert, next_delete = 1, rows + 1, rows
    for i in range(transactions):
        kind = "I" if i % 20 == 18 else "D" if i % 20 == 19 else "U"
        if kind == "U":
            hi = min(next_update + tx_rows - 1, update_hi)
            plan.append((kind, next_update, hi))
            next_update = 1 if hi >= update_hi else hi + 1
        elif kind == "I":
            plan.append((kind, next_insert, next_insert + tx_rows - 1))
            next_insert += tx_rows
        else:
            plan.append((kind, max(next_delete - tx_rows + 1, update_hi + 1), next_delete))
            next_delete -= tx_rows
    return plan


def paced_ranges(count: int, tps: float, rows: int, tx_rows: int):
    """``count`` key ranges of ``tx_rows`` ids in the lower half of 1..``rows``, each yielded at
    its slot of a ``tps`` per second pace."""
    update_hi = max(rows // 2, tx_rows)
    started = time.perf_counter()
    for i in range(count):
        delay = started + i / tps - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        first = 1 + (i * tx_rows) % (update_hi - tx_rows + 1)
        yield first, first + tx_rows - 1


def bench_parser(description: str, output: str) -> argparse.ArgumentParser:
    """The options of the CDC benchmarks."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--changes", type=int, default=1_000_000)
    parser.add_argument("--tx-rows", type=int, default=1000, help="rows per transaction of the sustained run")
    parser.add_argument("--latency-tps", type=float, default=50)
    parser.add_argument("--latency-rows", type=int, default=20)
    parser.add_argument("--latency-seconds", type=float, default=20)
    parser.add_argument("--workdir", default=None, help="where the warehouses go (default: a temp dir)")
    parser.add_argument("--overhead-runs", type=int, default=3,
                        help="runs of the job on the 1-row table (the median is the fixed cost)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (job logs, lakes)")
    parser.add_argument("--output", default=output)
    return parser


def parse_bench_args(parser: argparse.ArgumentParser, argv) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if args.rows < 10 * args.tx_rows:
        parser.error("--rows must be at least 10 x --tx-rows")
    return args


def rate_text(value: float) -> str:
    return "n/a (within the noise of the fixed cost)" if value != value else f"{value:,.0f}"


def ratio_text(ours: float, theirs: float) -> str:
    return "n/a" if ours != ours else f"{ours / theirs:.2f}"
