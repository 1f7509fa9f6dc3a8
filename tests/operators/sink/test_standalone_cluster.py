"""Exactly-once on a real standalone Flink cluster: ``start-cluster.sh`` from the pip package with
a private configuration directory (127.0.0.1, free ports), ``flink run -py`` of the synthetic
job, a TaskManager killed with SIGKILL mid-run and a new one started; the job recovers and ends,
and the lake equals the change stream applied to a model (paimon_py and pypaimon). Every process
the test starts is stopped by PID at the end, also on failure.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

import pypaimon
import pytest

import paimon_py
from operators.synthetic.synthetic_source import LOG_TABLE, PK_TABLE, ChangeModel, SyntheticChangeStream
from tests.support.flink_standalone import Cluster
from tests.support.paths import ROOT
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

POSITIONS = 450


@pytest.fixture
def cluster(tmp_path):
    cluster = Cluster(str(tmp_path / "flink"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def test_taskmanager_killed_mid_run(cluster, tmp_path):
    warehouse = str(tmp_path / "lake")
    out = cluster.script("flink", "run", "-d", "-py", os.path.join(ROOT, "jobs", "sync_synthetic.py"),
                         "--warehouse", warehouse, "--positions", str(POSITIONS), "--ticks_per_second", "15",
                         "--writer_parallelism", "2", "--flink_conf", "execution.checkpointing.interval=1s",
                         timeout=180)
    job_id = out.strip().split()[-1]
    snapshots = os.path.join(warehouse, "cdc.db", "orders", "snapshot")
    wait_until(lambda: os.path.isdir(snapshots) and len([n for n in os.listdir(snapshots) if n.startswith("snapshot-")]) >= 3,
             90, "three committed checkpoints")
    killed = set(cluster.taskmanager_pids())
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    cluster.forget(killed)  # stop-cluster.sh must not signal these PIDs once another process has one
    cluster.script("taskmanager.sh", "start")
    wait_until(lambda: cluster.rest(f"/jobs/{job_id}")["state"] in ("FINISHED", "FAILED"), 180, "the job to end")
    assert cluster.rest(f"/jobs/{job_id}")["state"] == "FINISHED"
    history = cluster.rest(f"/jobs/{job_id}/exceptions").get("exceptionHistory", {}).get("entries", [])
    assert history, "the job never saw the TaskManager loss"

    model = ChangeModel.upto(SyntheticChangeStream(), POSITIONS)
    for catalog in (paimon_py.CatalogFactory.create({"warehouse": warehouse}),
                    pypaimon.CatalogFactory.create({"warehouse": warehouse})):
        def read(name):
            table = catalog.get_table(name)
            rb = table.new_read_builder()
            return rb.new_read().to_arrow(rb.new_scan().plan().splits()).to_pylist()
        orders = {r["id"]: r for r in read(PK_TABLE)}
        assert orders == {k: {c: v.get(c) for c in orders[k]} for k, v in model.orders.items()}
        assert Counter((r["seq"], r["payload"]) for r in read(LOG_TABLE)) == model.events


def test_the_clusters_settings_govern_a_submitted_job(tmp_path):
    """The cluster's checkpoint interval and restart strategy are the ones in force for a job
    submitted with ``flink run -py`` (flink-conf/ applies to local runs only): with restart
    strategy ``none`` on the cluster, one injected failure ends the job."""
    settings = {"execution": {"checkpointing": {"interval": "1700 ms"}}, "restart-strategy": {"type": "none"}}
    cluster = Cluster(str(tmp_path / "flink"), slots=3, settings=settings)
    try:
        cluster.start()
        out = cluster.script("flink", "run", "-d", "-py", os.path.join(ROOT, "jobs", "sync_synthetic.py"),
                             "--warehouse", str(tmp_path / "lake"), "--positions", "400",
                             "--ticks_per_second", "15", "--fail", "writer:after-flush:2",
                             "--failure_dir", str(tmp_path / "failures"), timeout=180)
        job_id = out.strip().split()[-1]
        config = wait_until(lambda: _checkpoint_config(cluster, job_id), 60, "the job's checkpoint config")
        assert config["interval"] == 1700, config
        wait_until(lambda: cluster.rest(f"/jobs/{job_id}")["state"] in ("FINISHED", "FAILED"), 180, "the job to end")
        assert cluster.rest(f"/jobs/{job_id}")["state"] == "FAILED"
        history = cluster.rest(f"/jobs/{job_id}/exceptions").get("exceptionHistory", {}).get("entries", [])
        assert "injected failure" in history[0]["stacktrace"]
    finally:
        cluster.stop()


def _checkpoint_config(cluster: Cluster, job_id: str):
    try:
        return cluster.rest(f"/jobs/{job_id}/checkpoints/config")
    except OSError:  # 404 until the job's checkpoint coordinator exists
        return None
