"""postgres_sync_database with the snapshot read by split readers (``scan.snapshot.parallelism``),
end to end on a local mini-cluster: exact while the tables change, across failures of the split
readers and the reader, and in the bounded mode.
"""

from __future__ import annotations

import os

import pytest

from tests.support.postgres import Job, conf_args, lake_rows, normalise, shop, source_rows, wait_equal, workload
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def job_connections(server, database: str) -> list[str]:
    """The kinds of the job's connections to ``database`` (tagged ``paimon-cdc <instance>``)."""
    rows = server.execute("SELECT backend_type FROM pg_stat_activity WHERE datname = %s"
                          " AND application_name LIKE 'paimon-cdc %%' ORDER BY 1", (database,))
    return [kind for (kind,) in rows]


def test_split_readers_with_failures_converge_and_stream(postgres_server, database, tmp_path):
    """Splits read by two subtasks while the tables change (two ticks a second: the snapshot takes
    a while); a split reader fails after its third split and the reader after its fifth tick, both
    restored from checkpoints; then streaming, without the split readers' connections."""
    warehouse = str(tmp_path / "lake")
    shop(postgres_server, database, 6000)
    failures = tmp_path / "failures"
    args = ["--warehouse", warehouse, "--database", "lake", "--failure_dir", str(failures),
            "--fail", "split-reader:after-read:3", "--fail", "reader:after-emit:5", "--ticks_per_second", "2",
            *conf_args(postgres_server, database, **{"scan.snapshot.chunk.size": "250",
                                                     "scan.snapshot.parallelism": "2"})]
    job = Job("postgres_sync_database", args, str(tmp_path / "job.log"))
    try:
        wait_until(lambda: lake_rows(warehouse, "lake.orders", ["id"]), 120, "the first rows in the lake", job.output)
        assert len(lake_rows(warehouse, "lake.orders", ["id"])) < 6000, "the snapshot ended before the changes"
        workload(postgres_server, database, 7000)
        wait_equal(postgres_server, database, warehouse, "orders", "lake.orders", ["id"], job, timeout=180)
        workload(postgres_server, database, 8000)
        wait_equal(postgres_server, database, warehouse, "orders", "lake.orders", ["id"], job, timeout=120)
        events = wait_equal(postgres_server, database, warehouse, "events", "lake.events", ["at", "message"], job)
        assert len(events) == 6400  # an append table: no row twice
        # streaming: the split readers closed their connections; the reader's and its stream remain
        wait_until(lambda: job_connections(postgres_server, database) == ["client backend", "walsender"], 30,
                   "the split readers' connections to close", job.output)
    finally:
        job.stop()
    assert sorted(os.listdir(failures)) == ["reader_after-emit_5", "split-reader_after-read_3"], job.output()


def test_bounded_snapshot_with_split_readers(postgres_server, database, tmp_path):
    warehouse = str(tmp_path / "lake")
    shop(postgres_server, database, 3000)
    args = ["--warehouse", warehouse, "--database", "lake",
            *conf_args(postgres_server, database, **{"scan.startup.mode": "snapshot", "scan.snapshot.chunk.size": "200",
                                                     "scan.snapshot.parallelism": "3"})]
    job = Job("postgres_sync_database", args, str(tmp_path / "job.log"))
    assert job.wait(timeout=180) == 0, job.output()
    assert job.left_behind == [], "a process of the job outlived it"
    assert normalise(lake_rows(warehouse, "lake.orders", ["id"])) == \
        normalise(source_rows(postgres_server, database, "orders", ["id"]))
    assert len(lake_rows(warehouse, "lake.events", ["at", "message"])) == 3000
