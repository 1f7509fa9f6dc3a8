"""The source database ``verify`` and ``positions`` read: ``--postgres_conf`` or ``--mysql_conf``
(the sync job's keys) and the job's table flags, handed to the source's own flag parsing, so the
console sees the same tables, lake tables and source id as the job."""

from __future__ import annotations

import argparse
from typing import Optional

from operators.cdc.errors import UserError
from operators.cdc.source_position import PositionStore, SourcePosition
from operators.cdc.verification import VerificationSource
from operators.mysql import job_args as mysql_job
from operators.mysql import verification as mysql
from operators.postgres import job_args as postgres_job
from operators.postgres import verification as postgres

PLACEHOLDER_DATABASE = "default"
"""The lake database handed to the job's flag parsing when a subcommand needs none (``positions``):
it names lake tables only, never the source id."""


def add_source_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    source = parser.add_mutually_exclusive_group(required=required)
    source.add_argument("--postgres_conf", action="append", metavar="KEY=VALUE",
                        help="the PostgreSQL job's --postgres_conf options (repeatable)")
    source.add_argument("--mysql_conf", action="append", metavar="KEY=VALUE",
                        help="the MySQL/MariaDB job's --mysql_conf options (repeatable)")
    parser.add_argument("--including_tables", default=".*", help="as the job's (regex of source tables)")
    parser.add_argument("--excluding_tables", help="as the job's (regex of source tables)")
    parser.add_argument("--table_prefix", default="", help="as the job's")
    parser.add_argument("--table_suffix", default="", help="as the job's")
    parser.add_argument("--type_mapping", help="as the job's")


def open_source(args: argparse.Namespace, database: str = PLACEHOLDER_DATABASE) -> Optional[VerificationSource]:
    """The source of ``--postgres_conf``/``--mysql_conf`` (None when neither is given)."""
    flag, conf = ("--postgres_conf", args.postgres_conf) if args.postgres_conf else ("--mysql_conf", args.mysql_conf)
    if not conf:
        return None
    argv = ["--warehouse", args.warehouse, "--database", database, "--including_tables", args.including_tables,
            "--table_prefix", args.table_prefix, "--table_suffix", args.table_suffix]
    argv += ["--excluding_tables", args.excluding_tables] if args.excluding_tables else []
    argv += ["--type_mapping", args.type_mapping] if args.type_mapping else []
    argv += [item for pair in conf for item in (flag, pair)]
    argv += [item for pair in args.catalog_conf for item in ("--catalog_conf", pair)]
    if args.postgres_conf:
        return postgres.PostgresVerification(postgres_job.from_args(argv, database_sync=True).preparation.factory)
    return mysql.MySqlVerification(mysql_job.from_args(argv, database_sync=True).preparation.factory)


def describe_position(position: SourcePosition) -> str:
    """A published position in human form, by the kind of its source id."""
    if position.source.startswith("postgres/"):
        return postgres.describe(position.state)
    if position.source.startswith("mysql/"):
        return mysql.describe(position.state)
    return position.to_json()


def check_published(store: PositionStore, source: VerificationSource) -> None:
    """Refuses a source whose id the lake does not know while it holds other sources' positions
    (the flags differ from the job's, e.g. its table patterns, which a MySQL server id derives from)."""
    published = [p.position.source for p in store.published()]
    if published and source.source_id not in published:
        raise UserError(f"the warehouse has no position of source {source.source_id}; it has {', '.join(published)} "
                        f"— give the job's own conf and table flags (slot.name, server-id, --including_tables ...)")
