"""A private standalone Flink cluster for the end-to-end tests: ``start-cluster.sh`` from the pip
package with a private configuration directory (127.0.0.1, free ports), the Python workers and
the ``flink run -py`` client on this interpreter (the venv's). ``Cluster.stop()`` ends it and
every process it left behind, by PID (every process whose environment names the cluster's private
PID directory: the daemons, and the Python workers that can outlive a TaskManager that is stopped
or killed; never a PID the cluster once used that another process has now).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import yaml

from operators.runtime.job_processes import carries, processes_carrying
from operators.cdc.loopback import loopback_port
from tests.support.paths import ROOT
from tests.support.waiting import wait_until

RUNNING = ("INITIALIZING", "CREATED", "RUNNING", "RESTARTING")


def _merge(tree: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(tree.get(key), dict):
            _merge(tree[key], value)
        else:
            tree[key] = value


class Cluster:
    """A private standalone cluster; ``stop()`` ends it and any process it left behind, and removes
    its daemons' temporary files (``io.tmp.dirs``, ``<root>/tmp``)."""

    def __init__(self, root, slots: int = 6, settings: dict | None = None):
        """``settings``: nested entries merged into the cluster's config.yaml."""
        import pyflink
        self.home = os.path.dirname(pyflink.__file__)
        self.root = root
        self.slots = slots
        self.conf, self.logs, self.pids, self.temporary = (os.path.join(root, d) for d in ("conf", "log", "pid", "tmp"))
        for d in (self.conf, self.logs, self.pids, self.temporary):
            os.makedirs(d)
        source = os.path.join(self.home, "conf")
        for name in os.listdir(source):
            with open(os.path.join(source, name), "rb") as f, open(os.path.join(self.conf, name), "wb") as out:
                out.write(f.read())
        config_path = os.path.join(self.conf, "config.yaml")
        with open(config_path) as f:
            config = yaml.safe_load(f)
        config["jobmanager"]["bind-host"] = "127.0.0.1"
        config["jobmanager"]["rpc"] = {"address": "127.0.0.1", "port": loopback_port()}
        config["taskmanager"].update({"bind-host": "127.0.0.1", "host": "127.0.0.1", "numberOfTaskSlots": slots})
        self.rest_port = loopback_port()
        config["rest"] = {"address": "127.0.0.1", "bind-address": "127.0.0.1", "port": self.rest_port}
        config["python"] = {"executable": sys.executable, "client": {"executable": sys.executable}}
        # the daemons' files (blobs, shuffle, tm_*, the web server's uploads): removed by stop()
        config["io"] = {"tmp": {"dirs": self.temporary}}
        config.setdefault("web", {})["tmpdir"] = self.temporary
        _merge(config, settings or {})
        with open(config_path, "w") as f:
            yaml.safe_dump(config, f)
        self.env = {**os.environ, "FLINK_CONF_DIR": self.conf, "FLINK_LOG_DIR": self.logs,
                    "FLINK_PID_DIR": self.pids, "PYFLINK_CLIENT_EXECUTABLE": sys.executable,
                    "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}

    def start(self, timeout: float = 60) -> "Cluster":
        """``start-cluster.sh``, then waits (up to ``timeout`` s) until every slot is registered."""
        self.script("start-cluster.sh")
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.rest("/overview")["slots-available"] >= self.slots:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        return self

    def script(self, name: str, *args: str, timeout: int = 120) -> str:
        result = subprocess.run([os.path.join(self.home, "bin", name), *args], env=self.env, cwd=ROOT,
                                capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def rest(self, path: str):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.rest_port}{path}", timeout=10) as response:
            return json.load(response)

    def taskmanager_pids(self) -> list[int]:
        """The TaskManagers started and not killed (``forget``)."""
        return [pid for pid in self.taskmanager_lines() if pid]

    def taskmanager_lines(self) -> list[int | None]:
        """The TaskManager PID file line by line (a line's index numbers the TaskManager's log
        file): the PID, or None for one that was killed (``forget``)."""
        with open(os.path.join(self.pids, "flink--taskexecutor.pid")) as f:
            return [int(line) if line.isdigit() else None for line in f.read().split()]

    def log_tail(self, daemon: str, index: int, chars: int = 3000) -> str:
        """The end of the log of daemon ``index`` (``taskexecutor`` or ``standalonesession``)."""
        text = ""
        for name in sorted(os.listdir(self.logs)):
            if name.startswith(f"flink--{daemon}-{index}-") and name.endswith((".log", ".out")):
                with open(os.path.join(self.logs, name), errors="replace") as f:
                    text += f"{name}:\n{f.read()[-chars:]}\n"
        return text

    def forget(self, pids: set[int]) -> None:
        """Marks killed daemons in the PID files (``killed-<pid>``: no script signals that PID
        again, which may belong to another process by then; the line count, which numbers the
        next daemon's log file, stays)."""
        for name in os.listdir(self.pids):
            path = os.path.join(self.pids, name)
            with open(path) as f:
                lines = f.read().split()
            with open(path, "w") as f:
                f.writelines(f"killed-{line}\n" if line.isdigit() and int(line) in pids else f"{line}\n"
                             for line in lines)

    def stop(self) -> None:
        try:
            subprocess.run([os.path.join(self.home, "bin", "stop-cluster.sh")], env=self.env,
                           capture_output=True, timeout=60)
        finally:
            for pid in self.leftover_pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            shutil.rmtree(self.temporary, ignore_errors=True)

    def leftover_pids(self) -> list[int]:
        """The processes of this cluster still running (daemons, and Python workers that
        outlive a TaskManager that was stopped or killed): their environment names this
        cluster's private PID directory. A PID the cluster once used that now belongs to another
        process is left alone."""
        return processes_carrying("FLINK_PID_DIR", self.pids)

    def owns(self, pid: int) -> bool:
        """Whether process ``pid`` was started by this cluster (its environment says so)."""
        return carries(pid, "FLINK_PID_DIR", self.pids)


class ClusterJob:
    """A sync job (``jobs/<name>.py``) submitted to ``cluster`` with ``flink run -d``, shaped like
    ``tests.support.jobs.Job`` for ``wait_equal``: ``process.poll()`` is None while the job runs,
    ``output()`` tells why not."""

    def __init__(self, cluster: Cluster, name: str, args: list[str], savepoint: str | None = None):
        self.cluster = cluster
        restore = ["-s", savepoint] if savepoint else []
        self.client_output = cluster.script(
            "flink", "run", "-d", *restore, "-py", os.path.join(ROOT, "jobs", f"{name}.py"),
            *args, "--flink_conf", "execution.checkpointing.interval=1s", timeout=300)
        found = re.search(r"JobID ([0-9a-f]{32})", self.client_output)
        assert found, self.client_output
        self.job_id = found.group(1)
        self.process = self

    returncode = None

    def state(self) -> str:
        return self.cluster.rest(f"/jobs/{self.job_id}")["state"]

    def poll(self):
        state = self.state()
        if state in RUNNING:
            return None
        self.returncode = state
        return state

    def output(self) -> str:
        exceptions = self.cluster.rest(f"/jobs/{self.job_id}/exceptions")
        root = (exceptions.get("exceptionHistory", {}).get("entries") or [{}])[0].get("stacktrace", "")
        logs = ""
        for name in sorted(os.listdir(self.cluster.logs)):
            if "taskexecutor" in name and name.endswith(".log"):
                with open(os.path.join(self.cluster.logs, name), errors="replace") as f:
                    logs += f.read()[-3000:]
        return f"{self.client_output}\nroot exception:\n{root[-4000:]}\ntaskmanager log:\n{logs}"

    def stop_with_savepoint(self, directory: str) -> str:
        out = self.cluster.script("flink", "stop", "--savepointPath", directory, self.job_id, timeout=300)
        found = re.search(r"Savepoint completed\. Path: (\S+)", out)
        assert found, out
        wait_until(lambda: self.state() == "FINISHED", 120, "the stopped job to finish")
        return found.group(1)
