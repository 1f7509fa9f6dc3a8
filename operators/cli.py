"""How every job's command line ends: a user error (``operators.cdc.errors.UserError``: a bad
flag or option, an unreachable or unready server, a missing privilege, an unsupported type, an
incompatible schema) prints one line ``error: <what> — <how to fix>`` on stderr and exits with
code 2 (1 when the job failed while running: ``JobFailed``); its traceback goes to the client log
(and to stderr with ``--verbose``), as does what the local run's Python workers print to stderr.
However the job ends (done, failed, SIGTERM, Ctrl-C), every process a local run started (the JVM,
Python workers) is stopped before the client exits."""

from __future__ import annotations

import logging
import os
import signal
import sys
import tempfile
import traceback
from typing import Callable, Protocol

from operators.cdc.errors import UserError
from operators.runtime.job_processes import mark_job_processes, stop_job_processes

LOG = logging.getLogger("paimon_cdc")

USER_ERROR_EXIT_CODE = 2


class Runnable(Protocol):
    def run(self) -> None:
        ...


def client_log_path() -> str:
    """Where the client part of a job logs (``PAIMON_CDC_LOG_DIR``, default the temp directory)."""
    directory = os.environ.get("PAIMON_CDC_LOG_DIR") or os.path.join(tempfile.gettempdir(), "paimon-cdc")
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, "client.log")


def run_job(make_job: Callable[[list[str]], Runnable], argv: list[str]) -> None:
    """Builds the job from ``argv`` and runs it; user errors end the process as described above.

    Without ``--verbose``, what Python writes to stderr goes to the client log from here until the
    process ends: a local run's Python workers are threads of this process and print the
    tracebacks of failing operators there (also while the process exits), which would bury the
    one line that says why the job stopped."""
    configure_client_logging()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    mark_job_processes()
    verbose = "--verbose" in argv
    terminal = sys.stderr
    if not verbose:
        sys.stderr = open(client_log_path(), "a", buffering=1)
    code = 0
    try:
        make_job(argv).run()
    except UserError as e:
        LOG.error("%s failed: %s", os.path.basename(sys.argv[0]), e, exc_info=True)
        if verbose:
            traceback.print_exc()
        print(f"error: {one_line(str(e))}", file=terminal, flush=True)
        code = e.exit_code
    except Exception:
        traceback.print_exc(file=terminal)
        code = 1
    finally:
        stop_job_processes()
    exit_now(code)


def exit_now(code: int) -> None:
    """Ends the process once its output is flushed, without the interpreter's teardown: PyFlink's
    loopback worker server stops at exit with a one-second grace for the workers' calls, and the
    teardown of gRPC, Beam and Arrow takes ~1.5 s of a 1-row job's ~6. Nothing of the job is left
    to clean up by then (``stop_job_processes`` has run; the writers removed their spill files)."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed or broken: nothing more can be said there
            pass
    logging.shutdown()
    os._exit(code)


def _exit_on_sigterm(signum, frame) -> None:
    """SIGTERM ends the client like Ctrl-C does: through ``run_job``'s cleanup (the job's processes)."""
    sys.exit(128 + signum)


def configure_client_logging() -> None:
    """Everything to the client log; warnings (what the user should know at start) also to stdout,
    so stderr carries nothing but an error."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    to_file = logging.FileHandler(client_log_path())
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    to_terminal = logging.StreamHandler(sys.stdout)
    to_terminal.setLevel(logging.WARNING)
    to_terminal.addFilter(lambda record: record.exc_info is None)  # tracebacks: the log file only
    to_terminal.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root.addHandler(to_file)
    root.addHandler(to_terminal)


def one_line(text: str) -> str:
    return " ".join(text.split())
