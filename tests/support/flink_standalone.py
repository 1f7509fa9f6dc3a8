"""A private standalone Flink cluster for the end-to-end tests: ``start-cluster.sh`` from the pip
package with a private configuration directory (127.0.0.1, free ports), the Python workers and
the ``flink run -py`` client on this interpreter (the venv's). ``Cluster.stop()`` ends it and
every process it left behind, by PID (the daemons from the PID files, and the Python workers that
can outlive a TaskManager that is stopped or killed).
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

import yaml

from tests.support.paths import ROOT



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _merge(tree: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(tree.get(key), dict):
            _merge(tree[key], value)
        else:
            tree[key] = value


class Cluster:
    """A private standalone cluster; ``stop()`` ends it and any process it left behind."""

    def __init__(self, root, slots: int = 6, settings: dict | None = None):
        """``settings``: nested entries merged into the cluster's config.yaml."""
        import pyflink
        self.home = os.path.dirname(pyflink.__file__)
        self.root = root
        self.slots = slots
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
        config["taskmanager"].update({"bind-host": "127.0.0.1", "host": "127.0.0.1", "numberOfTaskSlots": slots})
        self.rest_port = free_port()
        config["rest"] = {"address": "127.0.0.1", "bind-address": "127.0.0.1", "port": self.rest_port}
        config["python"] = {"executable": sys.executable, "client": {"executable": sys.executable}}
        _merge(config, settings or {})
        with open(config_path, "w") as f:
            yaml.safe_dump(config, f)
        self.env = {**os.environ, "FLINK_CONF_DIR": self.conf, "FLINK_LOG_DIR": self.logs,
                    "FLINK_PID_DIR": self.pids, "PYFLINK_CLIENT_EXECUTABLE": sys.executable,
                    "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
        self.started_pids: set[int] = set()

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
            for pid in self.leftover_pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def leftover_pids(self) -> list[int]:
        """Processes started by this cluster that outlived it (Python workers of a TaskManager that
        was stopped or killed): their environment names this cluster's private PID directory."""
        marker = f"FLINK_PID_DIR={self.pids}".encode()
        found = []
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) != os.getpid():
                try:
                    with open(f"/proc/{name}/environ", "rb") as f:
                        if marker in f.read().split(b"\0"):
                            found.append(int(name))
                except OSError:
                    pass
        return found
