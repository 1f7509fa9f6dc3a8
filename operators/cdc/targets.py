"""``Targets``: which lake table each source table goes to, and how a new one is created.

The flags of Paimon's CDC actions: a single target (``*_sync_table``, several source tables may
merge into it) or one target per source table (``*_sync_database``: the source name with
``--table_prefix``/``--table_suffix``), primary and partition keys, and ``--table_conf`` options.

Table options given for a whole database (``--table_conf bucket=8``) shape primary-key tables; a
table without a primary key stays a bucket-unaware append table (``bucket=-1``) unless a
``bucket-key`` is given, and the log says so once per table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence

from operators.cdc.errors import InvalidJobOption
from operators.cdc.table_spec import TableSpec

LOG = logging.getLogger(__name__)

DEFAULT_BUCKETS = "-1"
"""Buckets of a new primary-key table: dynamic bucket mode, as Paimon's CDC actions create them."""

PRIMARY_KEY_OPTIONS = ("deletion-vectors.enabled",)
"""Table options a database-wide ``--table_conf`` gives primary-key tables only."""

BUCKET_OPTIONS = ("bucket", "bucket-key", "dynamic-bucket.target-row-num", "dynamic-bucket.initial-buckets",
                  "dynamic-bucket.max-buckets", "dynamic-bucket.assigner-parallelism")


@dataclass(frozen=True)
class Targets:
    name_of: Callable[[str, str], str]
    """(source namespace, source table) -> ``database.table``."""
    spec_of: Callable[[str, str, tuple[str, ...]], TableSpec]
    """(source namespace, source table, its primary keys) -> how the target is created."""
    to_string: bool = False
    """``--type_mapping to-string``: every column as STRING."""
    computed: tuple[str, ...] = ()
    """``--computed_column`` specs."""
    metadata: tuple[str, ...] = ()
    """``--metadata_column`` names."""


def table_targets(database: str, table: str, primary_keys: Sequence[str], partition_keys: Sequence[str],
                  options: Mapping[str, str], to_string: bool = False) -> Targets:
    """``*_sync_table``: every matched source table into ``database.table`` (a primary-key table)."""
    target = f"{database}.{table}"

    def spec_of(namespace: str, name: str, source_keys: tuple[str, ...]) -> TableSpec:
        keys = tuple(primary_keys) or source_keys
        if not keys:
            raise InvalidJobOption(f"source table {namespace}.{name} has no primary key — pass --primary_keys "
                                   f"(the sync_table jobs write a primary-key table)")
        spec = TableSpec(keys, tuple(partition_keys), table_options(target, options, keys))
        missing = [k for k in partition_keys if k not in keys]
        if missing and spec.options["bucket"] == "-1":
            raise InvalidJobOption(f"{target}: partition key(s) {missing} are not in the primary key {list(keys)}, "
                                   f"which dynamic bucket mode needs — add them to --primary_keys or pass "
                                   f"--table_conf bucket=N")
        return spec
    return Targets(lambda namespace, name: target, spec_of, to_string)


def database_targets(database: str, prefix: str, suffix: str, options: Mapping[str, str],
                     to_string: bool = False) -> Targets:
    """``*_sync_database``: each source table into ``database.<prefix><name><suffix>``."""
    def name_of(namespace: str, name: str) -> str:
        return f"{database}.{prefix}{name}{suffix}"

    def spec_of(namespace: str, name: str, source_keys: tuple[str, ...]) -> TableSpec:
        return TableSpec(source_keys, (), table_options(name_of(namespace, name), options, source_keys))
    return Targets(name_of, spec_of, to_string)


_announced: set[str] = set()


def table_options(target: str, options: Mapping[str, str], primary_keys: Sequence[str]) -> dict[str, str]:
    """``--table_conf`` for one new table: bucket options and deletion vectors shape primary-key
    tables; a table without a primary key is a bucket-unaware append table unless ``bucket-key``
    is given (paimon_py writes deletion vectors for primary-key tables only)."""
    out = dict(options)
    if primary_keys:
        out.setdefault("bucket", DEFAULT_BUCKETS)
        return out
    dropped = PRIMARY_KEY_OPTIONS if "bucket-key" in out else PRIMARY_KEY_OPTIONS + BUCKET_OPTIONS
    ignored = sorted(k for k in out if k in dropped)
    for key in ignored:
        del out[key]
    if "bucket-key" in out:
        return out
    out["bucket"] = "-1"
    if target not in _announced:
        _announced.add(target)
        note = f" (--table_conf {', '.join(ignored)} applies to primary-key tables)" if ignored else ""
        LOG.warning("%s: the source table has no primary key, so it becomes an append table without buckets%s; "
                    "give it a bucket-key to bucket it.", target, note)
    return out


def split_list(text: Optional[str]) -> list[str]:
    """``"a, b"`` -> ``["a", "b"]`` (comma-separated flag values)."""
    return [part.strip() for part in text.split(",") if part.strip()] if text else []
