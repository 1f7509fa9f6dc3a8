"""``paimon-cdc <subcommand>``: the command line. Each subcommand module has ``register(subparsers)``,
which adds its parser with ``func`` set to a function ``(args) -> Result``.

A user error (a ``UserError`` or a paimon_py ``PaimonError``: a missing table, a bad flag, an
unreachable database) prints one line ``error: ...`` on stderr and exits with code 2; its traceback
goes to the client log (``operators.cli.client_log_path``) and, with ``--verbose``, to stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback

from operators.cdc.errors import UserError
from operators.cli import USER_ERROR_EXIT_CODE, client_log_path, one_line
from operators.console import (compact, describe, files, maintenance, positions, read, snapshots, tables, tags,
                               verify)
from operators.console.output import emit
from paimon_py.exceptions import PaimonError

LOG = logging.getLogger("paimon_cdc.console")

SUBCOMMANDS = [tables, describe, snapshots, files, read, verify, positions, maintenance, tags, compact]
"""Every subcommand module, in the order ``--help`` lists them."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose errors follow the project's rule: one line on stderr, exit code 2."""

    def error(self, message: str) -> None:
        print(f"error: {self.prog}: {one_line(message)} — see {self.prog} --help", file=sys.stderr)
        sys.exit(USER_ERROR_EXIT_CODE)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="paimon-cdc", description="Look at and look after a Paimon lake the CDC jobs write.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON for scripts instead of a table")
    common.add_argument("--verbose", action="store_true", help="tracebacks of errors on stderr too")
    commands = parser.add_subparsers(dest="command", metavar="<subcommand>", parser_class=ArgumentParser)
    commands.required = True
    for module in SUBCOMMANDS:
        module.register(commands, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs one subcommand; returns its exit code (0, 1 when a check found a difference, 2 on a user error)."""
    configure_logging()
    args = build_parser().parse_args(argv)
    try:
        result = args.func(args)
    except (UserError, PaimonError) as e:
        LOG.error("paimon-cdc %s failed: %s", args.command, e, exc_info=True)
        if args.verbose:
            traceback.print_exc()
        print(f"error: {one_line(str(e))}", file=sys.stderr, flush=True)
        return USER_ERROR_EXIT_CODE
    emit(result, args.json)
    return result.exit_code


def configure_logging() -> None:
    handler = logging.FileHandler(client_log_path())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(handler)


def entry_point() -> None:
    """``[project.scripts] paimon-cdc``; a closed pipe (``| head``) ends it quietly."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    entry_point()
