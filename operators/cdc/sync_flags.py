"""The command-line flags of the sync jobs, as in Paimon's CDC actions, for every source.

``*_sync_table`` writes one target table (``--table``, ``--primary_keys``, ``--partition_keys``,
``--computed_column``); ``*_sync_database`` one table per source table (``--including_tables``,
``--excluding_tables``, ``--table_prefix``, ``--table_suffix``). A source adds its own
``--<source>_conf key=value`` options and its ``--type_mapping`` choices.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import replace
from typing import NoReturn, Optional, Sequence

from operators.cdc.computed_columns import metadata_column
from operators.cdc.errors import InvalidJobOption
from operators.cdc.targets import Targets, database_targets, split_list, table_targets


class SyncArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are ``InvalidJobOption`` (one line, exit code 2)."""

    def error(self, message: str) -> NoReturn:
        raise InvalidJobOption(f"{message} — see {self.prog} --help")


def sync_parser(job: str, source_conf: str, database_sync: bool,
                type_mappings: Sequence[str]) -> argparse.ArgumentParser:
    """``source_conf``: the source's option flag, e.g. ``--postgres_conf``."""
    p = SyncArgumentParser(prog=job, description=f"{job}: change data capture into Paimon, exactly once.")
    p.add_argument("--warehouse", required=True, help="Paimon warehouse (path or URI: s3://bucket/path, ...)")
    p.add_argument("--database", required=True, help="Paimon database of the target table(s)")
    p.add_argument(source_conf, action="append", default=[], help="source option key=value")
    p.add_argument("--table_conf", action="append", default=[], help="Paimon table option key=value")
    p.add_argument("--catalog_conf", action="append", default=[],
                   help="catalog option key=value: s3.endpoint, s3.access-key, s3.secret-key, ...")
    p.add_argument("--type_mapping", default=None, help="comma-separated: " + ", ".join(type_mappings))
    p.add_argument("--flink_conf", action="append", default=[], help="Flink option key=value")
    p.add_argument("--ignore_incompatible", action="store_true",
                   help="skip source column changes the Paimon table cannot follow")
    p.add_argument("--metadata_column", action="append", default=[],
                   help="table_name, database_name, schema_name, op_ts (comma-separated or repeated)")
    p.add_argument("--writer_parallelism", type=int, default=1)
    p.add_argument("--ticks_per_second", type=float, default=20.0, help="reader polls per second")
    p.add_argument("--verbose", action="store_true", help="print the traceback of an error on stderr")
    p.add_argument("--fail", action="append", default=[], help=argparse.SUPPRESS)
    p.add_argument("--failure_dir", default=None, help=argparse.SUPPRESS)
    if database_sync:
        p.add_argument("--including_tables", default=".*", help="regex of source tables to sync")
        p.add_argument("--excluding_tables", default=None, help="regex of source tables to skip")
        p.add_argument("--table_prefix", default="")
        p.add_argument("--table_suffix", default="")
    else:
        p.add_argument("--table", required=True, help="Paimon table to write")
        p.add_argument("--primary_keys", default=None, help="comma-separated (default: the source's)")
        p.add_argument("--partition_keys", default=None, help="comma-separated")
        p.add_argument("--computed_column", action="append", default=[],
                       help="name=function(column[, args]), see operators/cdc/computed_columns.py")
    return p


def parse_key_values(pairs: Optional[list[str]], option: str) -> dict[str, str]:
    """``["k=v", ...]`` from repeated command-line options."""
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise InvalidJobOption(f"{option} expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip()] = value.strip()
    return out


SECRET_KEYS = re.compile(r"password|secret|token|credential|access[-_.]?key", re.IGNORECASE)
"""Option keys whose values are never shown (start summary, logs)."""


def masked(options: dict[str, str]) -> dict[str, str]:
    """``options`` with the values of secret keys (``SECRET_KEYS``) replaced by ``******``."""
    return {k: "******" if SECRET_KEYS.search(k) else v for k, v in options.items()}


def targets_of(args: argparse.Namespace, database_sync: bool, type_mappings: Sequence[str]) -> Targets:
    """Where each source table goes (``Targets``) from the flags, checked."""
    mappings = type_mapping_values(args, type_mappings)
    if args.writer_parallelism < 1:
        raise InvalidJobOption(f"--writer_parallelism {args.writer_parallelism}: must be at least 1")
    if args.ticks_per_second <= 0:
        raise InvalidJobOption(f"--ticks_per_second {args.ticks_per_second}: must be positive")
    options = parse_key_values(args.table_conf, "--table_conf")
    to_string = "to-string" in mappings
    if database_sync:
        if args.excluding_tables:
            _regex(args.excluding_tables, "--excluding_tables")
        _regex(args.including_tables, "--including_tables")
        targets = database_targets(args.database, args.table_prefix, args.table_suffix, options, to_string)
    else:
        targets = table_targets(args.database, args.table, split_list(args.primary_keys),
                                split_list(args.partition_keys), options, to_string)
    metadata = tuple(m for value in args.metadata_column for m in split_list(value))
    for name in metadata:
        metadata_column(name)  # fails fast on an unknown name
    return replace(targets, computed=tuple(getattr(args, "computed_column", [])), metadata=metadata)


def type_mapping_values(args: argparse.Namespace, type_mappings: Sequence[str]) -> tuple[str, ...]:
    """``--type_mapping a,b`` -> ``("a", "b")``, each one of the source's ``type_mappings``."""
    values = tuple(split_list(args.type_mapping))
    for value in values:
        if value not in type_mappings:
            raise InvalidJobOption(f"--type_mapping {value}: unknown — use one of {', '.join(type_mappings)}")
    return values


def table_pattern(including: str, excluding: Optional[str]) -> str:
    """One regex for ``--including_tables`` minus ``--excluding_tables``."""
    return f"(?!(?:{excluding})$)(?:{including})" if excluding else including


def _regex(text: str, flag: str) -> None:
    try:
        re.compile(text)
    except re.error as e:
        raise InvalidJobOption(f"{flag} {text}: not a valid regex ({e}) — fix the pattern") from None
