"""Why a job failed, as one line: Flink reports a failed job as a Java exception whose text holds
the Python traceback of the operator that failed; ``job_failed`` finds that traceback's
exception and turns it into a ``JobFailed`` whose message says what happened and what to do.
"""

from __future__ import annotations

import errno
import importlib
import re
from typing import Optional

from operators.cdc.errors import JobFailed, UserError
from paimon_py.exceptions import PaimonError

_TRACEBACK = "Traceback (most recent call last):"
_EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*): (?P<message>.*)$")
_ERRNO = re.compile(r"\[Errno (\d+)\]", re.IGNORECASE)

RESUME = "run the same command again: the job resumes from its last checkpoint, nothing is lost"


def job_failed(java_error: str, log_hint: str) -> JobFailed:
    """The failure of a job from the text of Flink's exception; ``log_hint`` says where the full
    traceback is."""
    found = operator_exception(java_error)
    if found is None:
        first = java_error.strip().splitlines()[0] if java_error.strip() else "no detail"
        return JobFailed(f"the job failed: {first} — see {log_hint}; then {RESUME}")
    type_name, message = found
    kind = _exception_class(type_name)
    if kind is not None and issubclass(kind, (UserError, PaimonError)) and " — " in message:
        return JobFailed(message)
    code = _errno_of(kind, message)
    if code == errno.ENOSPC:
        return JobFailed(f"no space left on device ({message}) — free space on the warehouse's (or the "
                         f"temporary directory's) filesystem and {RESUME}")
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return JobFailed(f"the job may not write a file ({message}) — make the warehouse writable and {RESUME}")
    return JobFailed(f"the job failed: {type_name}: {message} — see {log_hint}; then {RESUME}")


def operator_exception(java_error: str) -> Optional[tuple[str, str]]:
    """(qualified type name, message) of the first Python traceback in ``java_error``."""
    start = java_error.find(_TRACEBACK)
    if start < 0:
        return None
    for line in java_error[start + len(_TRACEBACK):].splitlines()[1:]:
        if line and not line[0].isspace():
            match = _EXCEPTION_LINE.match(line.strip())
            return (match["type"], match["message"].strip()) if match else (line.strip(), "")
    return None


def _exception_class(type_name: str) -> Optional[type]:
    module, _, name = type_name.rpartition(".")
    try:
        found = getattr(importlib.import_module(module or "builtins"), name, None)
    except ImportError:
        return None
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


def _errno_of(kind: Optional[type], message: str) -> Optional[int]:
    if kind is None or not issubclass(kind, OSError):
        return None
    match = _ERRNO.search(message)
    return int(match.group(1)) if match else None
