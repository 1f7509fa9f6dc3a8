"""``paimon-cdc positions`` end to end: while a MariaDB sync job runs and a workload is applied,
the source is seen ahead of the lake (binlog bytes, transactions, seconds), and then caught up (0)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.support import mariadb
from tests.support.jobs import Job
from tests.support.paimon_cdc import run_console, wait_published
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def lag_of(warehouse: str, flags: list[str]) -> dict:
    run = run_console("positions", "--json", "--warehouse", warehouse, *flags)
    assert run.returncode == 0, run.stdout + run.stderr
    [report] = run.json()
    return report


def test_lag_while_a_workload_runs_then_caught_up(mariadb_server, mysql_database, tmp_path):
    server, database, warehouse = mariadb_server, mysql_database, str(tmp_path / "lake")
    mariadb.shop(server, database, 300)
    flags = mariadb.mysql_conf_args(server, database, **{"heartbeat.interval": "1s"})
    job = Job("mysql_sync_database", ["--warehouse", warehouse, "--database", "lake", *flags],
              str(tmp_path / "job.log"))
    try:
        wait_published(warehouse, job)
        wait_until(lambda: (lag_of(warehouse, flags)["lag"] or {}).get("caught_up"), 120, "the first catch-up",
                   job.output)

        def workload() -> None:
            for round_ in range(8):
                mariadb.fill(server, database, 1000 + round_ * 3000, 3000)
                time.sleep(0.3)
        writer = threading.Thread(target=workload)
        writer.start()
        seen = []
        while writer.is_alive():
            seen.append(lag_of(warehouse, flags))
        writer.join()
        behind = [r["lag"] for r in seen if not r["lag"]["caught_up"]]
        assert behind and all(lag["bytes_behind"] > 0 and lag["transactions_behind"] > 0 for lag in behind), seen
        seconds = [lag["seconds_behind"] for lag in behind if lag["seconds_behind"] is not None]
        assert seconds and all(0 <= s < 60 for s in seconds), seen

        caught_up = wait_until(lambda: (report := lag_of(warehouse, flags))["lag"]["caught_up"] and report, 120,
                               "the lake to catch up", job.output)
        lag = caught_up["lag"]
        assert (lag["bytes_behind"], lag["transactions_behind"], lag["seconds_behind"]) == (0, 0, 0.0)
        assert caught_up["position"] == lag["source_position"] and caught_up["age_s"] >= 0
        assert caught_up["source"] == f"mysql/127.0.0.1:{server.port}/{caught_up['source'].rsplit('/', 1)[1]}"
    finally:
        job.stop()
