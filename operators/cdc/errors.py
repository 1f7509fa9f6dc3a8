"""The CDC side's errors. ``CdcError`` is their root; a ``UserError`` is one the user fixes (a flag,
an option, a server setting, a privilege, a schema change), so the jobs print its message on
one line and exit with code 2 (``operators/cli.py``)."""

from __future__ import annotations


class CdcError(Exception):
    """Root of the CDC side's errors (paimon_py has its own root, ``paimon_py.PaimonError``)."""


class UserError(CdcError):
    """Something the user fixes; the message says what is wrong and how to fix it."""


class InvalidJobOption(UserError, ValueError):
    """A command-line flag or option is missing or has a bad value."""


class SourceNotReady(UserError):
    """The source database is not set up for CDC (a server setting, a privilege, a slot...)."""
