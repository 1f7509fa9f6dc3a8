"""Exactly-once on a real standalone Flink cluster: ``start-cluster.sh`` from the pip package with
a private configuration directory (127.0.0.1, free ports), ``flink run -py`` of the synthetic
job, a TaskManager killed with SIGKILL mid-run and a new one started; the job recovers and ends,
and the lake equals the change stream applied to a model (paimon_py and pypaimon). Every process
the test starts is stopped by PID at the end, also on failure.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter

import pypaimon
import pytest
import yaml

import paimon_py
from operators.synthetic_source import LOG_TABLE, PK_TABLE, ChangeModel, SyntheticChangeStream

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POSITIONS = 450


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A private standalone cluster; ``stop()`` ends it and any process it left behind."""

    def __init__(self, root):
        import pyflink
        self.home = os.path.dirname(pyflink.__file__)
        self.root = root
        self.conf, self.logs, self.pids = (os.path.join(root, d) for d in ("conf", "log", "pid"))
        for d in (self.conf, self.logs, self.pids):
            os.makedirs(d)
        source = os.path.join(self.home, "conf")
        for name in os.listdir(source):
            with open(os.path.join(source, name), "rb") as f, open(os.path.join(self.conf, name), "wb") as out:
                out.write(f.read())
        config_path = os.path.join(self.conf, "config.yaml")
        with open(config_path) as f:
            config = yaml.safe_load(f)
        config["jobmanager"]["bind-host"] = "127.0.0.1"
        config["jobmanager"]["rpc"] = {"address": "127.0.0.1", "port": free_port()}
        config["taskmanager"].update({"bind-host": "127.0.0.1", "host": "127.0.0.1", "numberOfTaskSlots": 6})
        self.rest_port = free_port()
        config["rest"] = {"address": "127.0.0.1", "bind-address": "127.0.0.1", "port": self.rest_port}
        config["python"] = {"executable": sys.executable, "client": {"executable": sys.executable}}
        with open(config_path, "w") as f:
            yaml.safe_dump(config, f)
        self.env = {**os.environ, "FLINK_CONF_DIR": self.conf, "FLINK_LOG_DIR": self.logs,
                    "FLINK_PID_DIR": self.pids, "PYFLINK_CLIENT_EXECUTABLE": sys.executable,
                    "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
        self.started_pids: set[int] = set()

    def script(self, name: str, *args: str, timeout: int = 120) -> str:
        result = subprocess.run([os.path.join(self.home, "bin", name), *args], env=self.env, cwd=ROOT,
                                capture_output=True, text=True, timeout=timeout)
        self._remember_pids()
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def _remember_pids(self) -> None:
        for name in os.listdir(self.pids):
            with open(os.path.join(self.pids, name)) as f:
                self.started_pids.update(int(line) for line in f.read().split() if line.strip().isdigit())

    def rest(self, path: str):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.rest_port}{path}", timeout=10) as response:
            return json.load(response)

    def taskmanager_pids(self) -> list[int]:
        with open(os.path.join(self.pids, "flink--taskexecutor.pid")) as f:
            return [int(line) for line in f.read().split() if line.strip().isdigit()]

    def stop(self) -> None:
        try:
            subprocess.run([os.path.join(self.home, "bin", "stop-cluster.sh")], env=self.env,
                           capture_output=True, timeout=60)
        finally:
            self._remember_pids()
            for pid in self.started_pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.fixture
def cluster(tmp_path):
    cluster = Cluster(str(tmp_path / "flink"))
    try:
        cluster.script("start-cluster.sh")
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if cluster.rest("/overview")["slots-available"] >= 6:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        yield cluster
    finally:
        cluster.stop()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_taskmanager_killed_mid_run(cluster, tmp_path):
    warehouse = str(tmp_path / "lake")
    out = cluster.script("flink", "run", "-d", "-py", os.path.join(ROOT, "jobs", "sync_synthetic.py"),
                         "--warehouse", warehouse, "--positions", str(POSITIONS), "--ticks_per_second", "15",
                         "--writer_parallelism", "2", "--flink_conf", "execution.checkpointing.interval=1s",
                         timeout=180)
    job_id = out.strip().split()[-1]
    snapshots = os.path.join(warehouse, "cdc.db", "orders", "snapshot")
    wait_for(lambda: os.path.isdir(snapshots) and len([n for n in os.listdir(snapshots) if n.startswith("snapshot-")]) >= 3,
             90, "three committed checkpoints")
    for pid in cluster.taskmanager_pids():
        os.kill(pid, signal.SIGKILL)
    cluster.script("taskmanager.sh", "start")
    wait_for(lambda: cluster.rest(f"/jobs/{job_id}")["state"] in ("FINISHED", "FAILED"), 180, "the job to end")
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
