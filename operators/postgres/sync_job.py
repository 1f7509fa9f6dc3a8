"""The PostgreSQL sync jobs (``jobs/postgres_sync_table.py``, ``jobs/postgres_sync_database.py``):
command-line flags as in Paimon's CDC actions, checks and preparation in the client (so a
misconfigured server or a bad option fails before anything is submitted), and the topology:

    ticks -> key_by(slot) -> [bridge] -> PostgresReader -> add_paimon_sink
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, replace
from typing import Optional

from operators.catalog import catalog_options, open_catalog
from operators.computed_columns import metadata_column
from operators.job_config import create_environment, parse_key_values
from operators.postgres import replication as repl
from operators.postgres.change_source import Targets
from operators.postgres.source_config import PostgresSourceConfig
from operators.postgres.types import TypeRegistry
from operators.schema_evolution import SchemaEvolutionLogic, TableSpec

DEFAULT_BUCKETS = "4"
"""Buckets of a new primary-key table (Paimon's dynamic bucket mode is not written yet)."""

TYPE_MAPPINGS = ("to-string",)


class InvalidJobOption(ValueError):
    """A command-line flag is missing or has a bad value."""


def parser(database_sync: bool) -> argparse.ArgumentParser:
    name = "postgres_sync_database" if database_sync else "postgres_sync_table"
    p = argparse.ArgumentParser(prog=name, description=f"{name}: PostgreSQL -> Paimon, exactly once.")
    p.add_argument("--warehouse", required=True, help="Paimon warehouse (path or URI: s3://bucket/path, ...)")
    p.add_argument("--database", required=True, help="Paimon database of the target table(s)")
    p.add_argument("--postgres_conf", action="append", default=[], help="source option key=value")
    p.add_argument("--table_conf", action="append", default=[], help="Paimon table option key=value")
    p.add_argument("--catalog_conf", action="append", default=[],
                   help="catalog option key=value: s3.endpoint, s3.access-key, s3.secret-key, ...")
    p.add_argument("--type_mapping", default=None, help="to-string: every column as STRING")
    p.add_argument("--flink_conf", action="append", default=[], help="Flink option key=value")
    p.add_argument("--ignore_incompatible", action="store_true",
                   help="skip source column changes the Paimon table cannot follow")
    p.add_argument("--metadata_column", action="append", default=[],
                   help="table_name, database_name, schema_name, op_ts (comma-separated or repeated)")
    p.add_argument("--writer_parallelism", type=int, default=1)
    p.add_argument("--ticks_per_second", type=float, default=20.0, help="reader polls per second")
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
                       help="name=function(column[, args]), see operators/computed_columns.py")
    return p


@dataclass
class SyncJob:
    config: PostgresSourceConfig
    targets: Targets
    catalog_options: dict[str, str]
    """``--warehouse`` and ``--catalog_conf``: every operator opens the lake from them."""
    args: argparse.Namespace
    snapshot_ticks: int = 1
    """Ticks of the bounded ``snapshot`` mode: one per chunk (estimated), see ``prepare``."""

    def prepare(self) -> list[str]:
        """Checks the server and every table's columns, then creates the publication, the slot
        and the target tables (in that order: a refused column type leaves nothing behind);
        returns the target tables."""
        conn = repl.connect(self.config)
        try:
            tables = repl.inspect_source(conn, self.config)
            if not tables and not self.config.publish_schemas:
                raise InvalidJobOption(
                    f"No table in {self.config.database} matches schema-name={self.config.schema_pattern} "
                    f"table-name={self.config.table_pattern}.")
            registry = TypeRegistry(conn)
            mappings = [self.targets.mapping(table, registry, self.config.database) for table in tables]
            repl.ensure_capture(conn, self.config, tables)
            if self.config.startup_mode == "snapshot":
                self.snapshot_ticks = _snapshot_ticks(conn, tables, self.config.chunk_size)
            evolution = SchemaEvolutionLogic(open_catalog(self.catalog_options), self.args.ignore_incompatible)
            for mapping in mappings:
                evolution.apply(mapping.target, mapping.arrow_schema(), mapping.spec)
            return sorted({m.target for m in mappings})
        finally:
            conn.close()

    def build(self, commit_user: Optional[str] = None):
        """The job's StreamExecutionEnvironment (not started)."""
        from pyflink.common.typeinfo import Types

        from operators import bridge
        from operators.failures import FailurePlan
        from operators.postgres.reader import PostgresReader
        from operators.sink import add_paimon_sink, new_commit_user

        env = create_environment(self.args.flink_conf)
        failures = FailurePlan(self.args.fail, self.args.failure_dir)
        bounded = self.config.startup_mode == "snapshot"
        ticks = bridge.tick_source(env, self.snapshot_ticks if bounded else 2 ** 63 - 1, self.args.ticks_per_second) \
            .set_parallelism(1)
        slot = self.config.slot
        keyed = ticks.map(lambda t: bridge.data_envelope(slot, t), output_type=bridge.ENVELOPE_TYPE) \
            .set_parallelism(1).key_by(lambda e: e[bridge.KEY], key_type=Types.STRING())
        commit_user = commit_user or new_commit_user(f"postgres-{slot}")
        changes = bridge.process_with_signals(
            keyed, PostgresReader(self.config, self.targets, self.catalog_options, f"paimon-cdc {commit_user[-12:]}",
                                  1.0 / self.args.ticks_per_second, self.snapshot_ticks - 1, failures),
            output_type=bridge.ENVELOPE_TYPE, name="postgres reader", parallelism=1)
        add_paimon_sink(changes, self.catalog_options, commit_user,
                        self.args.writer_parallelism, failures, self.args.ignore_incompatible)
        return env


def from_args(argv: Optional[list[str]], database_sync: bool) -> SyncJob:
    args = parser(database_sync).parse_args(argv)
    options = parse_key_values(args.postgres_conf, "--postgres_conf")
    if database_sync:
        options.setdefault("table-name", args.including_tables)
    config = PostgresSourceConfig.parse(options, table_required=not database_sync)
    if args.type_mapping not in (None, *TYPE_MAPPINGS):
        raise InvalidJobOption(f"--type_mapping {args.type_mapping}: supported: {', '.join(TYPE_MAPPINGS)}.")
    table_options = parse_key_values(args.table_conf, "--table_conf")
    catalog = catalog_options(args.warehouse, parse_key_values(args.catalog_conf, "--catalog_conf"))
    to_string = args.type_mapping == "to-string"
    if database_sync:
        targets = _database_targets(args, table_options, to_string)
        config = replace(config, publish_schemas=True)
        if args.excluding_tables:
            config = _exclude(config, args.excluding_tables)
    else:
        targets = _table_targets(args, table_options, to_string)
    metadata = tuple(m for value in args.metadata_column for m in _split(value))
    for name in metadata:
        metadata_column(name)  # fails fast on an unknown name
    computed = tuple(getattr(args, "computed_column", []))
    return SyncJob(config, replace(targets, computed=computed, metadata=metadata), catalog, args)


def _table_targets(args, table_options: dict, to_string: bool) -> Targets:
    target = f"{args.database}.{args.table}"
    keys = tuple(_split(args.primary_keys))
    partitions = tuple(_split(args.partition_keys))

    def spec_of(table) -> TableSpec:
        primary = keys or table.primary_keys
        if not primary:
            raise InvalidJobOption(f"Source table {table.schema}.{table.name} has no primary key: pass "
                                   f"--primary_keys (postgres_sync_table writes a primary-key table).")
        return TableSpec(primary, partitions, _with_buckets(table_options, True))
    return Targets(lambda schema, name: target, spec_of, to_string)


def _database_targets(args, table_options: dict, to_string: bool) -> Targets:
    database, prefix, suffix = args.database, args.table_prefix, args.table_suffix

    def spec_of(table) -> TableSpec:
        has_keys = bool(table.primary_keys)
        return TableSpec(table.primary_keys, (), _with_buckets(table_options, has_keys))
    return Targets(lambda schema, name: f"{database}.{prefix}{name}{suffix}", spec_of, to_string)


def _with_buckets(options: dict, primary_key: bool) -> dict:
    out = dict(options)
    out.setdefault("bucket", DEFAULT_BUCKETS if primary_key else "-1")
    return out


def _exclude(config: PostgresSourceConfig, excluding: str) -> PostgresSourceConfig:
    pattern = f"(?!(?:{excluding})$)(?:{config.table_pattern})"
    re.compile(pattern)
    return replace(config, table_pattern=pattern)


def _snapshot_ticks(conn, tables, chunk_size: int) -> int:
    """Chunks of a snapshot from the table statistics (pages / 100 bytes a row when the table
    was never analysed), one per table without a primary key, plus one."""
    ticks = 1
    with conn.cursor() as cur:
        for table in tables:
            if not table.primary_keys:
                ticks += 1
                continue
            cur.execute("SELECT CASE WHEN reltuples > 0 THEN reltuples::bigint"
                        " ELSE pg_relation_size(oid) / 100 END FROM pg_class WHERE oid = %s", (table.oid,))
            ticks += -(-cur.fetchone()[0] // chunk_size) + 1
    return ticks


def _split(text: Optional[str]) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()] if text else []


def main(argv: Optional[list[str]], database_sync: bool) -> None:
    job = from_args(argv, database_sync)
    targets = job.prepare()
    print(f"Syncing into {len(targets)} table(s): {', '.join(targets)}", flush=True)
    job.build().execute(job.args.table if not database_sync else f"postgres_sync_database {job.args.database}")
