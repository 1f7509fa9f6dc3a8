"""postgres_sync_database on a real standalone Flink cluster
(``tests/support/flink_standalone.py``): the session's PostgreSQL server (a fresh database),
``flink run -d -py jobs/postgres_sync_database.py`` (the client part checks the server and
creates the target tables in the ``flink run`` process, then submits), a primary-key table and
an append table snapshotted and then streamed under a workload; the job stopped with a savepoint
(``flink stop --savepointPath``), more changes while it is down, the same command resubmitted
with ``-s <savepoint>``; the lake equals the source again, the append table has no duplicates,
and the slot's confirmed LSN moves past the changes made while stopped. Every process the test
starts (the cluster) is stopped by PID at the end, also on failure.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from tests.support.flink_standalone import ClusterJob
from tests.support.postgres import (EVENTS, ORDERS, conf_args, confirmed_lsn, fill, lake_rows, normalise, wait_equal,
                                    workload)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

SLOT = "lake"


def test_stop_with_savepoint_and_restore(postgres_server, database, cluster, tmp_path):
    # database before cluster: the cluster (and the job holding the slot) stops first
    warehouse = str(tmp_path / "lake")
    postgres_server.execute(ORDERS, database=database)
    postgres_server.execute(EVENTS, database=database)
    fill(postgres_server, database, 1, 2000)
    args = ["--warehouse", warehouse, "--database", "lake",
            *conf_args(postgres_server, database, slot=SLOT, **{"scan.snapshot.chunk.size": "700"})]

    job = ClusterJob(cluster, "postgres_sync_database", args)
    assert "Syncing into 2 table(s): lake.events, lake.orders" in job.client_output
    wait_equal(postgres_server, database, warehouse, "orders", "lake.orders", ["id"], job, timeout=240)
    workload(postgres_server, database, 5000)  # streamed: TOAST, key change, deletes, updates, inserts
    wait_equal(postgres_server, database, warehouse, "orders", "lake.orders", ["id"], job, timeout=180)
    wait_equal(postgres_server, database, warehouse, "events", "lake.events", ["at", "message"], job, timeout=120)

    savepoint = job.stop_with_savepoint("file://" + str(tmp_path / "savepoints"))
    assert os.path.isdir(savepoint.removeprefix("file:")), savepoint
    wait_until(lambda: postgres_server.execute("SELECT active_pid IS NULL FROM pg_replication_slots "
                                               "WHERE slot_name = %s", (SLOT,))[0][0],
               60, "the stopped job to release the slot")
    stopped_lsn = confirmed_lsn(postgres_server, SLOT)
    assert stopped_lsn > 0

    workload(postgres_server, database, 9000)  # while the job is stopped
    postgres_server.execute("UPDATE orders SET note = 'after stop' WHERE id % 17 = 0", database=database)
    changed_lsn = int(postgres_server.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")[0][0])

    job = ClusterJob(cluster, "postgres_sync_database", args, savepoint=savepoint)  # the same command, restored
    restored = wait_until(lambda: cluster.rest(f"/jobs/{job.job_id}/checkpoints")["latest"]["restored"], 120,
                          "the restored job to report its savepoint")
    assert restored["is_savepoint"] and restored["external_path"] == savepoint, restored
    wait_equal(postgres_server, database, warehouse, "orders", "lake.orders", ["id"], job, timeout=240)
    events = wait_equal(postgres_server, database, warehouse, "events", "lake.events", ["at", "message"], job,
                        timeout=120)
    assert len(events) == 2400
    lake_events = normalise(lake_rows(warehouse, "lake.events", ["at", "message"]))
    assert max(Counter((r["at"], r["message"]) for r in lake_events).values()) == 1
    wait_until(lambda: confirmed_lsn(postgres_server, SLOT) >= changed_lsn, 90,
               "the slot's confirmed LSN to pass the changes made while stopped")
    assert confirmed_lsn(postgres_server, SLOT) > stopped_lsn
    assert job.poll() is None, job.output()
    history = cluster.rest(f"/jobs/{job.job_id}/exceptions").get("exceptionHistory", {}).get("entries", [])
    assert not history, job.output()
