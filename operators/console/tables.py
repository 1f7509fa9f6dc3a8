"""``paimon-cdc tables``: the lake's tables at a glance (keys, bucket mode, latest snapshot, rows, size)."""

from __future__ import annotations

import argparse

from operators.console.lake import add_warehouse_arguments, open_lake
from operators.console.output import Result, Table, millis_to_datetime
from paimon_py.catalog import FileSystemCatalog
from paimon_py.table.file_store_table import FileStoreTable

COLUMNS = ["table", "primary_keys", "partition_keys", "bucket_mode", "snapshot", "committed", "records", "files", "bytes"]
"""``records``: rows in the live files net of deletion vectors, from the manifests (without reading
data files); a key updated since the last full compaction counts once per sorted run holding it."""


def register(commands, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("tables", parents=[common], help="list tables with keys, snapshot, rows and size")
    add_warehouse_arguments(parser)
    parser.add_argument("--database", help="only this database")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> Result:
    catalog = open_lake(args)
    databases = [args.database] if args.database else catalog.list_databases()
    rows = [describe_table(catalog, f"{db}.{name}") for db in databases for name in catalog.list_tables(db)]
    return Result(tables=[Table(COLUMNS, rows)])


def describe_table(catalog: FileSystemCatalog, identifier: str) -> list:
    table = catalog.get_table(identifier)
    snapshot = table.snapshot_manager().latest_snapshot()
    files = table.new_scan().live_entries(snapshot) if snapshot else []
    return [identifier, table.primary_keys, table.partition_keys, bucket_mode(table),
            snapshot.id if snapshot else None,
            millis_to_datetime(snapshot.time_millis) if snapshot else None,
            sum(e.file.row_count - (e.file.delete_row_count or 0) for e in files), len(files), sum(e.file.file_size for e in files)]


def bucket_mode(table: FileStoreTable) -> str:
    """Paimon's names: ``fixed(N)``, ``dynamic`` (``bucket = -1`` with keys) or ``unaware``."""
    bucket = table.options.bucket
    if bucket > 0:
        return f"fixed({bucket})"
    return "dynamic" if table.primary_keys else "unaware"
