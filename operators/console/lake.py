"""The lake a subcommand looks at: ``--warehouse`` and ``--catalog_conf`` (as the sync jobs take
them) opened as a paimon_py catalog, and ``db.table`` identifiers resolved in it."""

from __future__ import annotations

import argparse

from operators.cdc.catalog import catalog_options, open_catalog
from operators.cdc.errors import UserError
from operators.cdc.sync_flags import parse_key_values
from paimon_py.catalog import FileSystemCatalog
from paimon_py.table.file_store_table import FileStoreTable


class CommandError(UserError):
    """A subcommand cannot do what was asked: one line on stderr, exit code 2."""


def add_warehouse_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", required=True, help="the warehouse path or URI (as the sync job's)")
    parser.add_argument("--catalog_conf", action="append", default=[], metavar="KEY=VALUE",
                        help="catalog options, e.g. s3.endpoint=... (repeatable)")


def open_lake(args: argparse.Namespace) -> FileSystemCatalog:
    """The catalog of ``--warehouse``/``--catalog_conf``; a warehouse that does not exist is an error
    (the console never creates one)."""
    options = catalog_options(args.warehouse, parse_key_values(args.catalog_conf, "--catalog_conf"))
    catalog = open_catalog(options)
    if not catalog.file_io.exists(catalog.warehouse):
        raise CommandError(f"warehouse {args.warehouse} does not exist — give the --warehouse of the sync job")
    return catalog


def get_table(catalog: FileSystemCatalog, identifier: str) -> FileStoreTable:
    """``db.table`` in the catalog, or a ``CommandError`` that lists what there is."""
    database, dot, name = identifier.partition(".")
    if not dot or not database or not name:
        raise CommandError(f"table {identifier!r} is not of the form database.table — e.g. shop.orders")
    if database not in catalog.list_databases():
        raise CommandError(f"database {database!r} does not exist in the warehouse — it has: "
                           f"{', '.join(catalog.list_databases()) or 'no databases'}")
    if name not in catalog.list_tables(database):
        raise CommandError(f"table {identifier} does not exist — {database} has: "
                           f"{', '.join(catalog.list_tables(database)) or 'no tables'}")
    return catalog.get_table(identifier)
