"""mysql_sync_database on a real standalone Flink cluster (``tests/support/flink_standalone.py``):
``flink run -d -py jobs/mysql_sync_database.py``, a primary-key table and an append table
snapshotted and streamed under a workload; the job stopped with a savepoint (``flink stop
--savepointPath``), more changes while it is down, the same command resubmitted with
``-s <savepoint>``: the lake equals the source again, the append table without duplicates, and
the published binlog position moves past the changes made while stopped.
"""

from __future__ import annotations

import os

import pytest

from tests.support.flink_standalone import ClusterJob
from tests.support.mariadb import mysql_conf_args, published_binlog, server_binlog, shop, wait_synced, workload
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def test_stop_with_savepoint_and_restore(mariadb_server, mysql_database, cluster, tmp_path):
    server, database, warehouse = mariadb_server, mysql_database, str(tmp_path / "lake")
    shop(server, database, 2000)
    args = ["--warehouse", warehouse, "--database", "lake",
            *mysql_conf_args(server, database, **{"scan.incremental.snapshot.chunk.size": "700"})]
    job = ClusterJob(cluster, "mysql_sync_database", args)
    assert "Syncing into 2 table(s): lake.events, lake.orders" in job.client_output
    wait_synced(server, database, warehouse, job, events_rows=2000, timeout=240)
    workload(server, database, 5000)
    wait_synced(server, database, warehouse, job, events_rows=2201, timeout=180)

    savepoint = job.stop_with_savepoint("file://" + str(tmp_path / "savepoints"))
    assert os.path.isdir(savepoint.removeprefix("file:")), savepoint
    stopped_at = published_binlog(warehouse)
    workload(server, database, 9000)  # while the job is stopped
    server.execute("UPDATE orders SET note = 'after stop' WHERE id % 17 = 0", database=database)
    changed_at = server_binlog(server)
    assert changed_at > stopped_at

    job = ClusterJob(cluster, "mysql_sync_database", args, savepoint=savepoint)  # the same command, restored
    restored = wait_until(lambda: cluster.rest(f"/jobs/{job.job_id}/checkpoints")["latest"]["restored"], 120,
                          "the restored job to report its savepoint")
    assert restored["is_savepoint"] and restored["external_path"] == savepoint, restored
    wait_synced(server, database, warehouse, job, events_rows=2402, timeout=240)
    wait_until(lambda: published_binlog(warehouse) >= changed_at, 90,
               "the published position to pass the changes made while stopped")
    assert job.poll() is None, job.output()
    history = cluster.rest(f"/jobs/{job.job_id}/exceptions").get("exceptionHistory", {}).get("entries", [])
    assert not history, job.output()
