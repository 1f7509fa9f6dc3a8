"""``paimon-cdc positions`` end to end: while a sync job runs and a workload is applied, the
source is seen ahead of the lake (MariaDB: binlog bytes, transactions; PostgreSQL: WAL bytes; both
seconds), and then caught up (0)."""

from __future__ import annotations

import threading
import time
from typing import Callable

import pytest

from operators.postgres.replication import parse_lsn
from tests.support import mariadb, postgres
from tests.support.jobs import Job
from tests.support.paimon_cdc import run_console, wait_published
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def lag_of(warehouse: str, flags: list[str]) -> dict:
    run = run_console("positions", "--json", "--warehouse", warehouse, *flags)
    assert run.returncode == 0, run.stdout + run.stderr
    [report] = run.json()
    return report


def lag_cycle(job_name: str, warehouse: str, flags: list[str], fill: Callable[[int, int], None],
              log: str) -> tuple[list[dict], dict]:
    """Runs the job until caught up, then ``fill(first, count)`` in rounds while ``positions`` polls,
    until a poll saw the source ahead with its seconds (a job that keeps up closely is seen behind
    rarely, and a poll may find the lacking transaction committed between its two queries: seconds
    unknown) or 40 rounds are done; returns the lags seen while behind and the report once caught
    up again."""
    job = Job(job_name, ["--warehouse", warehouse, "--database", "lake", *flags], log)
    try:
        wait_published(warehouse, job)
        wait_caught_up(warehouse, flags, job)
        done = threading.Event()

        def workload() -> None:
            for round_ in range(40):
                if done.is_set():
                    return
                fill(1000 + round_ * 3000, 3000)
                time.sleep(0.3)
        writer = threading.Thread(target=workload)
        writer.start()
        seen = []
        try:
            while writer.is_alive() and not any(not lag["caught_up"] and lag["seconds_behind"] is not None
                                                for lag in seen):
                seen.append(lag_of(warehouse, flags)["lag"])
        finally:
            done.set()
            writer.join()
        behind = [lag for lag in seen if not lag["caught_up"]]
        assert behind and all(lag["bytes_behind"] > 0 for lag in behind), seen
        seconds = [lag["seconds_behind"] for lag in behind if lag["seconds_behind"] is not None]
        assert seconds and all(0 <= s < 60 for s in seconds), behind
        return behind, wait_caught_up(warehouse, flags, job)
    finally:
        job.stop()


def wait_caught_up(warehouse: str, flags: list[str], job: Job) -> dict:
    report = wait_until(lambda: (found := lag_of(warehouse, flags))["lag"]["caught_up"] and found, 120,
                        "the lake to catch up", job.output)
    assert report["position"] == report["lag"]["source_position"] and report["age_s"] >= 0
    assert (report["lag"]["bytes_behind"], report["lag"]["seconds_behind"]) == (0, 0.0)
    return report


def test_mariadb_binlog_lag_while_a_workload_runs_then_caught_up(mariadb_server, mysql_database, tmp_path):
    server, database, warehouse = mariadb_server, mysql_database, str(tmp_path / "lake")
    mariadb.shop(server, database, 300)
    flags = mariadb.mysql_conf_args(server, database, **{"heartbeat.interval": "1s"})
    behind, report = lag_cycle("mysql_sync_database", warehouse, flags,
                               lambda first, count: mariadb.fill(server, database, first, count),
                               str(tmp_path / "job.log"))
    assert all(lag["transactions_behind"] > 0 for lag in behind), behind
    assert report["lag"]["transactions_behind"] == 0
    assert report["source"] == f"mysql/127.0.0.1:{server.port}/{report['source'].rsplit('/', 1)[1]}"


def test_postgres_wal_lag_while_a_workload_runs_then_caught_up(postgres_server, database, tmp_path):
    pg, warehouse = postgres_server, str(tmp_path / "lake")
    pg.execute(postgres.ORDERS, database=database)
    pg.execute(postgres.EVENTS, database=database)
    flags = postgres.conf_args(pg, database)
    behind, report = lag_cycle("postgres_sync_database", warehouse, flags,
                               lambda first, count: postgres.fill(pg, database, first, count),
                               str(tmp_path / "job.log"))
    assert all(lag["details"]["slot"] == "lake" for lag in behind)
    # the slot is acknowledged what the lake holds, a checkpoint later
    assert 0 < parse_lsn(report["lag"]["details"]["confirmed_flush_lsn"]) <= parse_lsn(report["position"].split()[1])
    assert report["source"] == f"postgres/127.0.0.1:{pg.port}/{database}/lake"
