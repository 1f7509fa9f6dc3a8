"""The processes of a local run: PyFlink launches its gateway JVM (and with it the mini-cluster)
as a child of the job's Python process, and the JVM starts Python worker processes
(``pyflink-udf-runner.sh`` -> ``beam_boot``, ``tee``), which are re-parented to init when their
shell ends. Left alone, the JVM notices the client's exit only when its stdin closes, and it and
its workers go on for seconds after the client is gone.

``mark_job_processes`` (at start) puts a token into the environment that every process the job
starts inherits; ``stop_job_processes`` (at exit) stops the JVM with SIGTERM (its shutdown hooks
stop the mini-cluster), then kills whatever still carries the token, so no process of a job
outlives the job's process. Under ``flink run`` the client JVM is the driver's parent, not its
child, and neither applies.

``temporary_directory`` is the run's own directory for the JVM's temporary files (Flink's
``io.tmp.dirs`` and ``web.tmpdir``: the mini-cluster's working directory, the 24 MiB RPC jar Flink
extracts at every start, the REST server's uploads); ``stop_job_processes`` removes it once the
JVM is gone. Stopped
while its mini-cluster is still closing, the JVM leaves them in the system's temporary directory."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import tempfile
import time
import uuid
from typing import Optional

LOG = logging.getLogger(__name__)

TOKEN_VARIABLE = "PAIMON_CDC_JOB_PROCESS"
GATEWAY_CLASS = b"org.apache.flink.client.python.PythonGatewayServer"
GRACE_S = 15.0
EXEC_S = 1.0
"""How long an empty environment may be one of a program being executed (``_environ``)."""
EMPTY = b"\0"
"""What ``_read`` gives for an empty file."""
PF_KTHREAD = 0x00200000
"""The kernel-thread bit of the flags in ``/proc/<pid>/stat``."""


def mark_job_processes() -> None:
    """Marks every process this one starts from now on as the job's (see the module docstring)."""
    os.environ[TOKEN_VARIABLE] = f"{os.getpid()}-{uuid.uuid4().hex}"


_temporary: Optional[str] = None
"""This process's run directory, once created (a global, not the environment: children inherit that)."""


def temporary_directory() -> str:
    """This run's directory for the JVM's temporary files, created at the first call; removed by
    ``stop_job_processes``, or at exit where that is not called (an environment built in tests)."""
    global _temporary
    if _temporary is None:
        _temporary = tempfile.mkdtemp(prefix="paimon-cdc-job-")
        atexit.register(remove_temporary_directory)
    return _temporary


def remove_temporary_directory() -> None:
    global _temporary
    if _temporary is not None:
        shutil.rmtree(_temporary, ignore_errors=True)
        _temporary = None


def stop_job_processes(grace_s: float = GRACE_S) -> None:
    """SIGTERM to the gateway JVM, up to ``grace_s`` for it to exit, then SIGKILL for every marked
    process still running; returns when none is left, with the run's temporary directory removed."""
    token = os.environ.get(TOKEN_VARIABLE, "")
    if not token:
        return
    try:
        _stop(token, grace_s)
    finally:
        remove_temporary_directory()


def _stop(token: str, grace_s: float) -> None:
    jvms = [pid for pid in processes_carrying(TOKEN_VARIABLE, token) if GATEWAY_CLASS in _read(pid, "cmdline")]
    for pid in jvms:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while any(is_running(pid) for pid in jvms) and time.monotonic() < deadline:
        _reap_children()
        time.sleep(0.05)
    while left := processes_carrying(TOKEN_VARIABLE, token):
        LOG.info("stopping the job's processes that are still running: %s", left)
        for pid in left:
            _signal(pid, signal.SIGKILL)
        while any(is_running(pid) for pid in left):
            _reap_children()
            time.sleep(0.02)
    _reap_children()


def processes_carrying(variable: str, value: str) -> list[int]:
    """Running processes (not this one) whose environment holds ``variable=value``."""
    me = os.getpid()
    return [int(pid) for pid in os.listdir("/proc")
            if pid.isdigit() and int(pid) != me and carries(int(pid), variable, value) and is_running(int(pid))]


def carries(pid: int, variable: str, value: str) -> bool:
    """Whether process ``pid``'s environment holds ``variable=value``."""
    return f"{variable}={value}".encode() in _environ(pid).split(b"\0")


def _environ(pid: int) -> bytes:
    """Process ``pid``'s environment as ``_read`` gives it. A process executing a new program
    shows an empty environment for a moment: the kernel has switched to the new program's memory
    and not yet laid out its arguments and environment there, or the read began in the memory the
    process has just left. ``flink-daemon.sh`` records a daemon's PID before its ``java`` starts,
    and ``subprocess.Popen`` returns within that moment. Such an environment is read again until
    the command line shows (up to ``EXEC_S``); a process that really has none costs one more read."""
    deadline = time.monotonic() + EXEC_S
    while (environ := _read(pid, "environ")) == EMPTY and _executing(pid) and time.monotonic() < deadline:
        time.sleep(0.001)
    return _read(pid, "environ") if environ == EMPTY else environ


def _executing(pid: int) -> bool:
    """Whether process ``pid`` runs and shows no command line: it is executing a new program."""
    return _read(pid, "cmdline") == EMPTY and is_running(pid) and not _kernel_thread(pid)


def _kernel_thread(pid: int) -> bool:
    """Whether ``pid`` is a kernel thread (it never shows a command line or an environment)."""
    stat = _read(pid, "stat")
    return bool(stat) and bool(int(stat.rsplit(b")", 1)[1].split()[6]) & PF_KTHREAD)


def _read(pid: int, name: str) -> bytes:
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            return f.read() + b"\0"
    except OSError:
        return b""


def is_running(pid: int) -> bool:
    """True unless the process is gone or a zombie (exited, not yet reaped by its parent). A
    leader thread shows ``Z`` while the process's other threads still finish: that is running."""
    stat = _read(pid, "stat")
    if not stat:
        return False
    if stat.rsplit(b")", 1)[1].split()[0] != b"Z":
        return True
    try:
        return len(os.listdir(f"/proc/{pid}/task")) > 1
    except OSError:
        return False


def _reap_children() -> None:
    """Collects this process's exited children (the JVM), so none stays a zombie."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
