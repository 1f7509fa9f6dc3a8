"""For the job tests of every source: a sync job in a child process (``Job``), the lake as
pypaimon reads it (``lake_rows``), waiting until a source table and its lake table hold the same
rows (``wait_rows_equal``), the source position published under a warehouse (``published``), bad
starts with what a refusal looks like (``Case``, ``assert_refused``), and what a job that failed
while running looks like (``assert_failed``)."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import pypaimon
import pytest

from operators.runtime.job_processes import is_running
from tests.support.paths import ROOT


class Job:
    """A sync job in a child process; ``stop()`` kills its whole process group (kill -9: the job
    cannot clean up) and removes its temporary directory, ``<log_path>.tmp/`` (its ``TMPDIR``: the
    JVM's run directory goes there). Its Flink logs (with what the Python operators log) go to
    ``<log_path>.flink/``, its client log to ``<log_path>.client/`` unless ``env`` names another
    ``PAIMON_CDC_LOG_DIR`` (its default is under ``TMPDIR``, which ``stop()`` removes)."""

    def __init__(self, name: str, args: list[str], log_path: str, env: dict | None = None,
                 stderr_path: Optional[str] = None):
        """``stderr_path``: stderr there, apart from stdout (else both go to ``log_path``)."""
        self.log = open(log_path, "ab")
        self.stderr_path = stderr_path
        self.flink_log_dir = log_path + ".flink"
        self.temporary = log_path + ".tmp"
        os.makedirs(self.temporary, exist_ok=True)
        env = {"PAIMON_CDC_LOG_DIR": log_path + ".client", **(env or os.environ),
               "FLINK_LOG_DIR": self.flink_log_dir, "TMPDIR": self.temporary}
        command = [sys.executable, os.path.join(ROOT, "jobs", f"{name}.py"), *args,
                   "--flink_conf", "execution.checkpointing.interval=500ms",
                   "--flink_conf", "execution.checkpointing.min-pause=100ms",
                   "--flink_conf", "restart-strategy.fixed-delay.delay=200ms"]
        stderr = open(stderr_path, "ab") if stderr_path else subprocess.STDOUT
        self.process = subprocess.Popen(command, stdout=self.log, stderr=stderr,
                                        start_new_session=True, cwd=ROOT, env=env)
        if stderr_path:
            stderr.close()
        self.log_path = log_path
        self.left_behind: list[str] = []

    def wait(self, timeout: float) -> int:
        """The job's exit code once it ended by itself; ``left_behind`` then lists the processes of
        its session still running when it exited (none should)."""
        try:
            code = self.process.wait(timeout=timeout)
            self.left_behind = session_processes(self.process.pid)
            return code
        finally:
            self.stop()

    def terminate(self, timeout: float) -> int:
        """SIGTERM to the job's process alone, as a service manager stops it; then as ``wait``."""
        self.process.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.log.close()
        shutil.rmtree(self.temporary, ignore_errors=True)

    def output(self, tail: int = 6000) -> str:
        """The job's stdout and stderr (the last ``tail`` characters)."""
        with open(self.log_path, errors="replace") as f:
            return f.read()[-tail:]

    def web_ui(self) -> Optional[str]:
        """The address the job printed as ``Flink web UI: <address>`` (None before it did)."""
        found = re.search(r"^Flink web UI: (\S+)$", self.output(tail=10 ** 9), re.MULTILINE)
        return found.group(1) if found else None

    def operator_log(self) -> str:
        """What the job's Python operators logged (the mini-cluster's python log)."""
        text = ""
        for name in sorted(os.listdir(self.flink_log_dir)) if os.path.isdir(self.flink_log_dir) else ():
            if "python" in name and name.endswith(".log"):
                with open(os.path.join(self.flink_log_dir, name), errors="replace") as f:
                    text += f.read()
        return text


def session_processes(session: int) -> list[str]:
    """Command lines of the running (not zombie) processes in session ``session``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getsid(int(pid)) != session or not is_running(int(pid)):
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                found.append(f"{pid}: " + f.read().replace(b"\0", b" ").decode(errors="replace")[:200])
        except OSError:
            continue
    return found


def lake_rows(warehouse: str, table: str, keys: list[str]) -> list[dict]:
    catalog = pypaimon.CatalogFactory.create({"warehouse": warehouse})
    try:
        t = catalog.get_table(table)
    except Exception:
        return []
    rb = t.new_read_builder()
    rows = rb.new_read().to_arrow(rb.new_scan().plan().splits()).to_pylist()
    return sorted(rows, key=lambda r: tuple(r[k] for k in keys))


def published(warehouse: str) -> dict | None:
    """The state of the one source position published under the warehouse (None before the first)."""
    paths = glob.glob(os.path.join(warehouse, ".cdc-positions", "*.json"))
    if not paths:
        return None
    with open(paths[0]) as f:
        return json.load(f)["state"]


def published_time(warehouse: str) -> float:
    """When the published position was last written (0 before the first)."""
    paths = glob.glob(os.path.join(warehouse, ".cdc-positions", "*.json"))
    return os.stat(paths[0]).st_mtime if paths else 0.0


def wait_rows_equal(source: Callable[[], list[dict]], lake: Callable[[], list[dict]], target: str, job: Job,
                    timeout: float) -> list[dict]:
    """Until ``source()`` and ``lake()`` (rows sorted the same way) are equal; fails with the
    difference and the job's output when the job ends or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        want, have = source(), lake()
        if want == have:
            return want
        if job.process.poll() is not None:
            pytest.fail(f"the job ended (code {job.process.returncode}):\n{job.output()}")
        if time.monotonic() > deadline:
            missing = [r for r in want if r not in have][:3]
            extra = [r for r in have if r not in want][:3]
            pytest.fail(f"{target}: lake != source after {timeout} s: {len(want)} vs {len(have)} rows; "
                        f"missing {missing}, extra {extra}\n{job.output()}")
        time.sleep(1.0)


@dataclass
class Case:
    """A bad start of a job: its flags and source options, and a part of the one-line message."""

    job: str
    flags: list[str]
    conf: dict[str, str] = field(default_factory=dict)
    expected: str = ""


def assert_failed(job: Job, timeout: float, expected: str) -> str:
    """A running job (started with ``stderr_path``) failed: it ends within ``timeout`` s with exit
    code 1 and one line ``error: <what> — <how to fix>`` on stderr holding ``expected``, no
    traceback; returns that line."""
    code = job.wait(timeout)
    with open(job.stderr_path, errors="replace") as f:
        stderr = f.read()
    lines = stderr.strip().splitlines()
    assert code == 1, f"exit code {code}\n{job.output()}\n{stderr[-3000:]}"
    assert len(lines) == 1 and lines[0].startswith("error: ") and " — " in lines[0], stderr[-3000:]
    assert expected in lines[0], lines[0]
    assert "Traceback" not in stderr + job.output(tail=10 ** 9)
    return lines[0]


def assert_refused(result: subprocess.CompletedProcess, expected: str) -> None:
    """A job refused its input: exit code 2 and one line ``error: <what> — <how to fix>`` on
    stderr holding ``expected``, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-3000:]
    assert " — " in lines[0], lines[0]
    assert expected in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def password_in_file(args: list[str], directory: str) -> tuple[list[str], str]:
    """A job's ``--postgres_conf``/``--mysql_conf`` flags with ``password=X`` replaced by
    ``password.file=<directory>/password`` (a file holding X); also returns X."""
    out, password = [], None
    for arg in args:
        if arg.startswith("password="):
            password = arg.split("=", 1)[1]
            path = os.path.join(directory, "password")
            with open(path, "w") as f:
                f.write(password + "\n")
            arg = f"password.file={path}"
        out.append(arg)
    assert password, "the flags carry no password"
    return out, password
