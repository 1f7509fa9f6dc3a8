"""``job_failed``: the one line a failed job ends with, from the text of Flink's exception (its
real form is exercised by tests/operators/postgres/test_job_runtime_errors.py)."""

from __future__ import annotations

import pytest

from operators.runtime.job_failure import RESUME, job_failed, operator_exception


def flink_error(exception_line: str) -> str:
    """Flink's exception text around a Python operator's traceback, as PyFlink reports it."""
    return ("An error occurred while calling o50.execute.\n: org.apache.flink.runtime.client.JobExecutionException: "
            "Job execution failed.\n\tat org.apache.flink.Foo(Foo.java:1)\nCaused by: java.lang.RuntimeException: "
            "Error received from SDK harness for instruction 1: Traceback (most recent call last):\n"
            '  File "/x/operators/sink/sink_functions.py", line 170, in process_element\n    self._evolve(value)\n'
            f"{exception_line}\n\n\tat java.base/java.util.concurrent.CompletableFuture.reportGet(X.java:396)\n")


@pytest.mark.parametrize("exception_line, expected", [
    ("operators.cdc.errors.SourceNotReady: slot s no longer exists — start again with a new slot.name",
     "slot s no longer exists — start again with a new slot.name"),
    ("paimon_py.exceptions.CorruptFileError: snapshot file /w/snapshot-3 is corrupt or truncated (9 bytes) — restore it",
     "snapshot file /w/snapshot-3 is corrupt or truncated (9 bytes) — restore it"),
    ("OSError: [Errno 28] Error writing bytes to file. Detail: [errno 28] No space left on device",
     "no space left on device ([Errno 28] Error writing bytes to file. Detail: [errno 28] No space left on device) — "
     "free space on the warehouse's (or the temporary directory's) filesystem and " + RESUME),
    ("OSError: [Errno 30] Failed to open local file '/w/x'. Detail: [errno 30] Read-only file system",
     "the job may not write a file ([Errno 30] Failed to open local file '/w/x'. Detail: [errno 30] Read-only file "
     "system) — make the warehouse writable and " + RESUME),
    ("KeyError: 'id'", "the job failed: KeyError: 'id' — see the logs; then " + RESUME),
    ("operators.nowhere.Gone: boom", "the job failed: operators.nowhere.Gone: boom — see the logs; then " + RESUME),
])
def test_the_operators_exception_becomes_one_line(exception_line, expected):
    failure = job_failed(flink_error(exception_line), "the logs")
    assert str(failure) == expected
    assert failure.exit_code == 1


def test_without_a_python_traceback_the_first_line_is_named():
    assert operator_exception("java.lang.OutOfMemoryError: heap\n\tat x") is None
    assert str(job_failed("java.lang.OutOfMemoryError: heap\n\tat x", "the logs")) == \
        "the job failed: java.lang.OutOfMemoryError: heap — see the logs; then " + RESUME
