"""Telling a job's (or a cluster's) processes by their environment: a process caught executing a
new program shows an empty environment for a moment and must still count as carrying its
variables (the chaos suite took a TaskManager that was starting for one that had died)."""

import os
import subprocess

from operators.runtime import job_processes
from operators.runtime.job_processes import carries

VARIABLE, VALUE = "PAIMON_CDC_TEST_MARK", "marked"


def test_a_process_executing_a_new_program_still_carries_its_variables(monkeypatch):
    env_reads = iter([b"\0", b"\0", f"{VARIABLE}={VALUE}\0\0".encode()])
    cmdlines = iter([b"\0", b"java\0\0"])
    stat = b"1 (java) R 1 1 1 0 -1 4194304 0 0\n\0"
    reads = {"environ": lambda: next(env_reads), "cmdline": lambda: next(cmdlines), "stat": lambda: stat}
    monkeypatch.setattr(job_processes, "_read", lambda pid, name: reads[name]())
    monkeypatch.setattr(job_processes, "is_running", lambda pid: True)
    assert carries(1, VARIABLE, VALUE)


def test_a_process_without_environment_is_answered_at_once():
    with subprocess.Popen(["sleep", "30"], env={}) as process:
        try:
            assert not carries(process.pid, VARIABLE, VALUE)
        finally:
            process.kill()


def test_a_kernel_thread_is_not_waited_for(monkeypatch):
    kernel_thread = f"2 (kthreadd) S 0 0 0 0 -1 {job_processes.PF_KTHREAD} 0 0\n\0".encode()
    reads = []

    def read(pid: int, name: str) -> bytes:
        reads.append(name)
        return kernel_thread if name == "stat" else b"\0"

    monkeypatch.setattr(job_processes, "_read", read)
    monkeypatch.setattr(job_processes, "is_running", lambda pid: True)
    assert not carries(2, VARIABLE, VALUE)
    assert reads.count("environ") <= 2, reads


def test_a_marked_process_carries_its_variable():
    with subprocess.Popen(["sleep", "30"], env={**os.environ, VARIABLE: VALUE}) as process:
        try:
            assert carries(process.pid, VARIABLE, VALUE)
            assert not carries(process.pid, VARIABLE, "other")
        finally:
            process.kill()
