"""The CDC side's errors. ``CdcError`` is their root; a ``UserError`` is one the user fixes (a flag,
an option, a server setting, a privilege, a schema change), so the jobs print its message on
one line and exit with its ``exit_code``: 2 for what is found at start, 1 for a job that failed
while running (``operators/cli.py``)."""

from __future__ import annotations


class CdcError(Exception):
    """Root of the CDC side's errors (paimon_py has its own root, ``paimon_py.PaimonError``)."""


class UserError(CdcError):
    """Something the user fixes; the message says what is wrong and how to fix it."""

    exit_code = 2
    """A job's exit code when it stops for this error (``operators/cli.py``)."""


class InvalidJobOption(UserError, ValueError):
    """A command-line flag or option is missing or has a bad value."""


class SourceNotReady(UserError):
    """The source database is not set up for CDC (a server setting, a privilege, a slot...)."""


class JobFailed(UserError):
    """A job that started and then failed (after Flink's restart attempts); the message names
    the cause, as one line ``<what> — <how to fix>``."""

    exit_code = 1
