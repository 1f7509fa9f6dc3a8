"""The lake a subcommand looks at: ``--warehouse`` and ``--catalog_conf`` (as the sync jobs take
them) opened as a paimon_py catalog, and ``db.table`` identifiers resolved in it."""

from __future__ import annotations

import argparse
import re
from typing import Any, Callable, Sequence

import pyarrow as pa

from operators.cdc.catalog import catalog_options, open_catalog
from operators.cdc.errors import UserError
from operators.cdc.sync_flags import parse_key_values
from paimon_py.catalog import FileSystemCatalog
from paimon_py.config_option import parse_duration_ms
from paimon_py.snapshot.snapshot import Snapshot
from paimon_py.table.file_store_table import FileStoreTable
from paimon_py.types import to_arrow_type


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


def add_table_arguments(parser: argparse.ArgumentParser) -> None:
    """``--warehouse``, ``--catalog_conf`` and the positional ``database.table``."""
    add_warehouse_arguments(parser)
    parser.add_argument("table", metavar="database.table", help="the table, e.g. shop.orders")


def open_table(args: argparse.Namespace) -> FileStoreTable:
    return get_table(open_lake(args), args.table)


def arrow_columns(table: FileStoreTable) -> dict[str, pa.DataType]:
    """The table's columns in order, as Arrow types."""
    return {f.name: to_arrow_type(f.type) for f in table.schema.fields}


def typed_value(value: Any, arrow_type: pa.DataType, column: str) -> Any:
    """``value`` as the Python value of a column of ``arrow_type`` ('2026-11-20' -> a date)."""
    try:
        return pa.scalar(value).cast(arrow_type).as_py()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        text = repr(value) if isinstance(value, str) else str(value)
        raise CommandError(f"{text} is not a value of column {column} ({arrow_type}) — give one such "
                           f"as {_sample(arrow_type)}") from None


def _sample(arrow_type: pa.DataType) -> str:
    if pa.types.is_date(arrow_type):
        return "'2026-11-20'"
    if pa.types.is_timestamp(arrow_type):
        return "'2026-11-20 10:30:00+00:00'" if arrow_type.tz else "'2026-11-20 10:30:00'"
    if pa.types.is_boolean(arrow_type):
        return "TRUE"
    if pa.types.is_integer(arrow_type):
        return "42"
    if pa.types.is_decimal(arrow_type) or pa.types.is_floating(arrow_type):
        return "10.5"
    return "'text'"


def add_partition_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--partition", action="append", default=[], metavar="KEY=VALUE",
                        help=f"only {what} of this partition, e.g. day=2026-11-20 (repeatable: several "
                             f"partitions; KEY=VALUE/KEY=VALUE or KEY=VALUE,KEY=VALUE for several partition keys)")


def partition_filter(table: FileStoreTable, specs: Sequence[str]) -> Callable[[tuple], bool] | None:
    """``--partition`` values as a filter over partition tuples (None: every partition); a spec
    matches partitions with those values (keys it leaves out match anything)."""
    if not specs:
        return None
    wanted = [_partition_spec(table, spec) for spec in specs]
    return lambda partition: any(all(partition[i] == v for i, v in spec.items()) for spec in wanted)


def _partition_spec(table: FileStoreTable, spec: str) -> dict[int, Any]:
    keys = table.partition_keys
    if not keys:
        raise CommandError(f"--partition {spec}: {table.identifier} is not partitioned — leave out --partition")
    columns = arrow_columns(table)
    values: dict[int, Any] = {}
    for key, value in parse_key_values(re.split(r"[,/]", spec), "--partition").items():
        if key not in keys:
            raise CommandError(f"--partition {spec}: {key} is not a partition key — the partition keys "
                               f"are {', '.join(keys)}")
        default = value == table.options.partition_default_name
        values[keys.index(key)] = None if default else typed_value(value, columns[key], key)
    return values


def partition_text(table: FileStoreTable, partition: tuple) -> str:
    """``k1=v1/k2=v2`` with the values as people write them (``--partition`` takes them back);
    empty for an unpartitioned table."""
    default = table.options.partition_default_name
    return "/".join(f"{k}={default if v is None else v}" for k, v in zip(table.partition_keys, partition))


def parse_duration(text: str, flag: str) -> int:
    """A duration flag such as ``--older-than 2h`` in milliseconds."""
    try:
        return parse_duration_ms(text)
    except ValueError as e:
        raise CommandError(f"{flag} {text!r} is not a duration — write it like 1d, 2h, 30min or 10s") from e


def existing_snapshot(table: FileStoreTable, snapshot_id: int) -> Snapshot:
    """Snapshot ``snapshot_id`` of the table, or a ``CommandError`` with the ids there are."""
    snapshot = table.snapshot_manager.get_snapshot_by_id(snapshot_id)
    if snapshot is None:
        ids = table.snapshot_manager.list_ids()
        there = f"snapshots {ids[0]}..{ids[-1]}" if ids else "no snapshots"
        raise CommandError(f"snapshot {snapshot_id} of {table.identifier} does not exist (it may have expired) "
                           f"— the table has {there}")
    return snapshot


def positive(text: str) -> int:
    """argparse type of counts: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value
