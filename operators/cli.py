"""How every job's command line ends: a user error (``operators.cdc.errors.UserError``: a bad
flag or option, an unreachable or unready server, a missing privilege, an unsupported type, an
incompatible schema) prints one line ``error: <what> — <how to fix>`` on stderr and exits with
code 2 (1 when the job failed while running: ``JobFailed``); its traceback goes to the client log
(and to stderr with ``--verbose``), as do the tracebacks of the local run's Python worker threads."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
import traceback
from typing import Callable, Protocol

from operators.cdc.errors import UserError

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
    """Builds the job from ``argv`` and runs it; user errors end the process as described above."""
    configure_client_logging()
    try:
        make_job(argv).run()
    except UserError as e:
        LOG.error("%s failed: %s", os.path.basename(sys.argv[0]), e, exc_info=True)
        if "--verbose" in argv:
            traceback.print_exc()
        print(f"error: {one_line(str(e))}", file=sys.stderr, flush=True)
        sys.exit(e.exit_code)


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
    threading.excepthook = _log_thread_failure


def _log_thread_failure(args: threading.ExceptHookArgs) -> None:
    """A local run's Python workers are threads of this process; when the job fails they end with
    errors of their own ("Multiplexer hanging up"), which belong in the log, not on stderr."""
    LOG.warning("thread %s ended with an error", getattr(args.thread, "name", "?"),
                exc_info=(args.exc_type, args.exc_value, args.exc_traceback))


def one_line(text: str) -> str:
    return " ".join(text.split())
