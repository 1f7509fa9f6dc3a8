"""The PostgreSQL side of the sync jobs (``jobs/postgres_sync_table.py``,
``jobs/postgres_sync_database.py``): ``--postgres_conf`` and the client-side checks and
preparation of the source. The other flags are every source's (``operators/cdc/sync_flags.py``);
``operators/sync_job.py`` prepares the lake and assembles the topology.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

from operators.cdc.errors import InvalidJobOption
from operators.cdc.catalog import catalog_options, open_catalog
from operators.cdc.source import SourcePlan, SyncSource
from operators.cdc.source_position import PositionStore
from operators.cdc.sync_flags import parse_key_values, sync_parser, table_pattern, targets_of
from operators.postgres import replication as repl
from operators.postgres.change_source import PostgresSourceFactory
from operators.postgres.replication import SourceTable
from operators.postgres.source_config import PostgresSourceConfig
from operators.postgres.table_mapping import table_mapping
from operators.postgres.types import TypeRegistry

TYPE_MAPPINGS = ("to-string",)


@dataclass
class PostgresPreparation:
    """The client side of the PostgreSQL source (``SourcePreparation``)."""

    factory: PostgresSourceFactory
    catalog_options: Optional[dict[str, str]] = None
    """The lake's, to check the slot a restart resumes from (None: no lake to check)."""
    tables: list[SourceTable] = field(default_factory=list)
    """The matched tables, as ``check`` found them (``create`` publishes them)."""

    @property
    def config(self) -> PostgresSourceConfig:
        return self.factory.config

    def check(self) -> SourcePlan:
        """Server settings, privileges, the slot a restart resumes from, the matched tables, every
        column's type and each table's replica identity against its lake key."""
        conn = repl.connect(self.config)
        try:
            self._check_published_position(conn)
            self.tables = tables = repl.inspect_source(conn, self.config)
            if not tables and not self.config.publish_schemas:
                raise InvalidJobOption(
                    f"no table in {self.config.database} matches schema-name={self.config.schema_pattern} "
                    f"table-name={self.config.table_pattern} — check the --postgres_conf patterns")
            if self.config.publish_schemas:
                repl.check_distinct_targets(tables, self.factory.targets)
            registry = TypeRegistry(conn)
            mappings = [table_mapping(self.factory.targets, t, registry, self.config.database) for t in tables]
            for table, mapping in zip(tables, mappings):
                repl.check_identity_covers(conn, table, mapping.spec.primary_keys)
            events = [mapping.schema_event() for mapping in mappings]
            ticks = _snapshot_ticks(conn, tables, self.config.chunk_size) \
                if self.config.startup_mode == "snapshot" else 1
            return SourcePlan(events, ticks)
        finally:
            conn.close()

    def _check_published_position(self, conn) -> None:
        if self.catalog_options is None or self.config.startup_mode == "snapshot":
            return
        published = PositionStore.of(open_catalog(self.catalog_options)).load(self.config.source_id)
        if published is not None:
            repl.check_slot_kept(conn, self.config, published.state["lsn"])

    def create(self) -> None:
        """The publication and the slot (reused when present)."""
        conn = repl.connect(self.config)
        try:
            repl.ensure_capture(conn, self.config, self.tables)
        finally:
            conn.close()


def from_args(argv: Optional[list[str]], database_sync: bool) -> SyncSource:
    job = "postgres_sync_database" if database_sync else "postgres_sync_table"
    args = sync_parser(job, "--postgres_conf", database_sync, TYPE_MAPPINGS).parse_args(argv)
    options = parse_key_values(args.postgres_conf, "--postgres_conf")
    targets = targets_of(args, database_sync, TYPE_MAPPINGS)
    if database_sync:
        options.setdefault("table-name", args.including_tables)
    config = PostgresSourceConfig.parse(options, table_required=not database_sync)
    if database_sync:
        config = replace(config, publish_schemas=True,
                         table_pattern=table_pattern(config.table_pattern, args.excluding_tables))
    catalog = catalog_options(args.warehouse, parse_key_values(args.catalog_conf, "--catalog_conf"))
    name = f"{job} {args.database}" if database_sync else f"{job} {args.database}.{args.table}"
    return SyncSource(name, PostgresPreparation(PostgresSourceFactory(config, targets), catalog), catalog, args,
                      config.slot)


def _snapshot_ticks(conn, tables, chunk_size: int) -> int:
    """Chunks of a snapshot from the table statistics, one per table without a primary key, plus one."""
    rows = repl.estimated_rows(conn, [t.oid for t in tables])
    return 1 + sum(-(-rows.get(t.oid, 0) // chunk_size) + 1 if t.primary_keys else 1 for t in tables)
