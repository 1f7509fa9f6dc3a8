"""The chaos driver: a sync job on a private standalone cluster (two TaskManagers of one slot
each, so that both hold a part of the job: the writers run with parallelism 2) under a live
workload (``chaos_workload.py``), killed on a seeded random schedule, then compared with its
source row by row.

Events (``schedule``): a TaskManager SIGKILL (the TM's JVM and every process under it: its Python
workers), after which a new TaskManager is started; a whole-cluster kill -9 (the JobManager, the
TaskManagers, the Python workers; the ``flink run -d`` client has exited already), after which the
cluster is started again on the same configuration and the SAME submission runs again without a
savepoint: the job resumes from the position committed in the lake. The first ``snapshot_kills``
events are aimed at the initial snapshot (short delays; the job's small chunk and slow ticks make
the snapshot last), the others at streaming (they wait until the lake has committed the end of
the snapshot); each kill records the phase the lake had committed
when it landed (``published`` position's phase) and its recovery time: from the kill until a
checkpoint triggered after it has completed and its source position has been published (the
lake committed again).

At the end the workload stops and the lake must equal the source row by row (the append table
``events`` as an exact multiset: no duplicate, no loss), and the database's position must be at
most ``CHECKPOINTS_BEHIND`` checkpoints behind the lake's (``PositionReport``).
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field

from tests.support.chaos_sources import DATABASE, ChaosSource
from tests.support.chaos_workload import KEYS, Workload, WorkloadCounts
from tests.support.flink_standalone import Cluster, ClusterJob
from tests.support.jobs import lake_rows, published, published_time, wait_rows_equal
from tests.support.waiting import wait_until

TASKMANAGER, CLUSTER = "TaskManager SIGKILL", "whole-cluster kill -9"
SNAPSHOT, STREAM = "snapshot", "stream"
TASKMANAGERS = 2
SETTINGS = {"restart-strategy": {"type": "fixed-delay", "fixed-delay": {"attempts": 1_000_000, "delay": "1 s"}},
            "heartbeat": {"interval": 2000, "timeout": 30000}}
"""Restarts without end (the schedule decides when the chaos stops, not Flink's backoff); a
killed TaskManager noticed by its failed heartbeats (two in a row) instead of after 50 s."""
CHECKPOINTS_BEHIND = 3


@dataclass(frozen=True)
class ChaosConfig:
    seed: int
    """Seeds the schedule, the victims and the workload."""
    taskmanager_kills: int
    cluster_kills: int
    snapshot_kills: int
    """How many of the kills (the first ones) are aimed at the initial snapshot."""
    orders: int = 8_000
    """Rows of ``orders`` and ``events`` before the job starts (the snapshot)."""
    chunk: int = 200
    ticks_per_second: float = 4.0
    """A chunk per tick: the snapshot reads at most ``chunk * ticks_per_second`` rows/s."""
    recovery_timeout_s: float = 300.0


@dataclass(frozen=True)
class PlannedKill:
    kind: str
    aimed_at: str
    delay_s: float
    """Seconds after the previous recovery (or the submission)."""
    victim: int
    """Which live TaskManager (index in PID order, modulo their number)."""


@dataclass(frozen=True)
class Kill:
    kind: str
    phase: str
    """The phase the lake had committed when the kill landed."""
    at_s: float
    """Seconds since the job was first submitted."""
    processes: int
    recovery_s: float


@dataclass(frozen=True)
class PositionReport:
    """``target`` (PostgreSQL: the lake's committed LSN; MariaDB: the server's binlog end) taken
    once the lake equals the source, and ``follower`` (PostgreSQL: the slot's
    confirmed_flush_lsn; MariaDB: the lake's committed binlog position) after ``CHECKPOINTS_BEHIND``
    more completed checkpoints: ``follower >= target``. PostgreSQL also: the slot never confirmed
    more than the lake held (``follower <= lake`` read after it)."""
    target: int
    follower: int
    lake_after: int
    """The lake's committed position, read after ``follower``."""

    @property
    def reached(self) -> bool:
        return self.follower >= self.target

    @property
    def never_ahead(self) -> bool:
        return self.follower <= self.lake_after


@dataclass
class ChaosResult:
    source: str
    config: ChaosConfig
    kills: list[Kill] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    workload: WorkloadCounts | None = None
    positions: PositionReport | None = None
    seconds: float = 0.0


def schedule(config: ChaosConfig) -> list[PlannedKill]:
    """The seeded schedule: the kinds shuffled, the first ``snapshot_kills`` aimed at the snapshot."""
    rng = random.Random(config.seed)
    kinds = [TASKMANAGER] * config.taskmanager_kills + [CLUSTER] * config.cluster_kills
    rng.shuffle(kinds)
    return [PlannedKill(kind, SNAPSHOT if i < config.snapshot_kills else STREAM,
                        rng.uniform(1, 3) if i < config.snapshot_kills else rng.uniform(1, 5), rng.randrange(1 << 16))
            for i, kind in enumerate(kinds)]


def process_tree(root: int) -> list[int]:
    """``root`` and every process under it."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def kill_all(cluster: Cluster, pids: list[int]) -> None:
    """SIGKILL to each of ``pids`` (the cluster's own only), then waits until they are gone."""
    pids = [p for p in pids if cluster.owns(p)]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_until(lambda: not any(cluster.owns(p) for p in pids), 60, "the killed processes to end")
    cluster.forget(set(pids))


class ChaosRun:
    """One run: ``run()`` sets the source up, starts the cluster, the workload and the job, plays
    the schedule, checks the lake; the cluster is stopped (by PID) whatever happens."""

    def __init__(self, source: ChaosSource, root: str, config: ChaosConfig):
        self.source, self.config = source, config
        self.warehouse = os.path.join(root, "lake")
        self.cluster = Cluster(os.path.join(root, "flink"), slots=1, settings=SETTINGS)
        self.result = ChaosResult(source.name, config)
        self.args = source.job_args(self.warehouse, config.chunk, config.ticks_per_second)
        self.job: ClusterJob | None = None
        self.started = 0.0

    def run(self) -> ChaosResult:
        began = time.monotonic()
        workload = Workload(self.source.connect, self.config.seed, self.config.orders)
        try:
            self.source.setup(self.config.orders)
            self._start_cluster()
            workload.start()
            self.started = time.time()
            self.job = ClusterJob(self.cluster, self.source.job, self.args)
            for planned in schedule(self.config):
                if planned.aimed_at == STREAM:
                    wait_until(lambda: self._phase() == STREAM, self.config.recovery_timeout_s,
                               "the snapshot to be committed", self.job.output)
                self._sleep(planned.delay_s)
                self.result.kills.append(self._kill(planned))
            self.result.workload = workload.stop()
            self._compare()
            self.result.positions = self._check_positions()
        finally:
            if workload.error is None:
                workload.stop()
            self.cluster.stop()
            self.result.seconds = time.monotonic() - began
        return self.result

    def _start_cluster(self) -> None:
        self.cluster.start()
        for _ in range(TASKMANAGERS - 1):
            self.cluster.script("taskmanager.sh", "start")
        wait_until(lambda: self._overview().get("taskmanagers", 0) >= TASKMANAGERS, 120,
                   f"{TASKMANAGERS} TaskManagers to register")

    def _overview(self) -> dict:
        try:
            return self.cluster.rest("/overview")
        except OSError:
            return {}

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._assert_running()
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

    def _assert_running(self) -> None:
        """Fails when the job has ended (FAILED, CANCELED...) or a TaskManager ended that was not
        killed (Flink ends one whose task does not cancel in time); a REST call that times out on
        a loaded machine is no answer."""
        died = [(i, pid) for i, pid in enumerate(self.cluster.taskmanager_lines()) if pid and not self.cluster.owns(pid)]
        assert not died, f"TaskManager(s) ended without being killed: {died}\n" + \
            "\n".join(self.cluster.log_tail("taskexecutor", i) for i, _ in died)
        try:
            ended = self.job.poll()
        except OSError:
            return
        assert ended is None, self.job.output()

    def _phase(self) -> str:
        state = published(self.warehouse)
        return STREAM if state and state.get("phase") == STREAM else SNAPSHOT

    def _kill(self, planned: PlannedKill) -> Kill:
        phase, killed_at = self._phase(), time.time()
        if planned.kind == TASKMANAGER:
            live = sorted(p for p in self.cluster.taskmanager_pids() if self.cluster.owns(p))
            victims = process_tree(live[planned.victim % len(live)])
            kill_all(self.cluster, victims)
            self.cluster.script("taskmanager.sh", "start")
        else:
            victims = self.cluster.leftover_pids()
            kill_all(self.cluster, victims)
            self._start_cluster()
            self.job = ClusterJob(self.cluster, self.source.job, self.args)  # the same command, no savepoint
        recovered_at = wait_until(lambda: self._recovered(killed_at), self.config.recovery_timeout_s,
                                  f"the job to commit again after a {planned.kind}", self.job.output)
        return Kill(planned.kind, phase, killed_at - self.started, len(victims), recovered_at - killed_at)

    def _recovered(self, killed_at: float) -> float | None:
        """The time when a checkpoint triggered after ``killed_at`` has completed and its position
        is published; None before."""
        self._assert_running()
        latest = self._checkpoints().get("latest", {}).get("completed") or {}
        triggered = latest.get("trigger_timestamp", 0) / 1000
        if triggered > killed_at and published_time(self.warehouse) >= triggered:
            return time.time()
        return None

    def _checkpoints(self) -> dict:
        try:
            return self.cluster.rest(f"/jobs/{self.job.job_id}/checkpoints")
        except OSError:
            return {}

    def _completed(self) -> int | None:
        """The job's completed checkpoints (None: no answer)."""
        return self._checkpoints().get("counts", {}).get("completed")

    def _compare(self) -> None:
        """Every table row by row (sorted by ``KEYS``); ``events`` has no key: the sorted lists
        equal means the multisets do, and a row twice in the lake is counted as a duplicate."""
        for table, keys in KEYS.items():
            rows = wait_rows_equal(lambda: self.source.rows(table, keys),
                                   lambda: lake_rows(self.warehouse, f"{DATABASE}.{table}", keys),
                                   f"{DATABASE}.{table}", self.job, self.config.recovery_timeout_s)
            self.result.rows[table] = len(rows)
        events = Counter(r["seq"] for r in lake_rows(self.warehouse, f"{DATABASE}.events", ["seq"]))
        self.result.duplicates = sum(n - 1 for n in events.values())

    def _check_positions(self) -> PositionReport:
        target = self.source.target(self.warehouse)
        completed = wait_until(self._completed, 60, "the job's checkpoint counts")
        wait_until(lambda: (self._completed() or 0) >= completed + CHECKPOINTS_BEHIND, 120,
                   f"{CHECKPOINTS_BEHIND} more checkpoints")
        follower = self.source.follower(self.warehouse)
        lake = follower if self.source.follower_is_lake else self.source.target(self.warehouse)
        return PositionReport(target, follower, lake)


def assert_survived(result: ChaosResult) -> None:
    """What every chaos run must end with: every planned kill survived, kills in both phases, the
    lake equal to the source (checked by the run) without duplicates, and the positions."""
    config = result.config
    kinds = Counter(k.kind for k in result.kills)
    assert kinds == +Counter({TASKMANAGER: config.taskmanager_kills, CLUSTER: config.cluster_kills}), kinds
    phases = Counter(k.phase for k in result.kills)
    assert phases[SNAPSHOT] >= min(1, config.snapshot_kills) and phases[STREAM] >= 1, result.kills
    assert result.duplicates == 0, result.duplicates
    assert result.positions.reached, result.positions
    assert result.positions.never_ahead, result.positions
