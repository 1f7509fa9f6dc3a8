"""The MySQL/MariaDB side of the sync jobs (``jobs/mysql_sync_table.py``,
``jobs/mysql_sync_database.py``): ``--mysql_conf``, ``--type_mapping``, ``--merge_shards`` and
the client-side checks of the source. The other flags are every source's
(``operators/cdc/sync_flags.py``); ``operators/sync_job.py`` prepares the lake and assembles the
topology.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

from operators.cdc.catalog import catalog_options, open_catalog
from operators.cdc.errors import InvalidJobOption
from operators.cdc.source import SourcePlan, SyncSource
from operators.cdc.source_position import PositionStore
from operators.cdc.sync_flags import parse_key_values, sync_parser, table_pattern, targets_of
from operators.cdc.targets import Targets
from operators.mysql import inspection, server_checks
from operators.mysql.binlog.transaction import BinlogPosition
from operators.mysql.change_source import MySqlSourceFactory
from operators.mysql.source_config import TYPE_MAPPINGS, MySqlSourceConfig, TypeMapping
from operators.mysql.source_table import MySqlTable
from operators.mysql.table_mapping import MySqlTableMapping


@dataclass
class MySqlPreparation:
    """The client side of the MySQL source (``SourcePreparation``): checks only; the source
    creates nothing on the server."""

    factory: MySqlSourceFactory
    catalog_options: Optional[dict[str, str]]
    """The lake's, to check the position a restart resumes from (None: no lake to check)."""
    tables: list[MySqlTable] = field(default_factory=list)

    @property
    def config(self) -> MySqlSourceConfig:
        return self.factory.config

    def check(self) -> SourcePlan:
        """Server settings and privileges, the position a restart would resume from, the matched
        tables and every column's type."""
        conn = self.config.connect()
        try:
            info = server_checks.check_server(conn, self.config)
            self._check_published_position(conn)
            self.tables = tables = inspection.list_tables(conn, self.config)
            server_checks.check_select(conn, self.config, [t.qualified for t in tables])
            if not tables and not self.config.database_sync:
                raise InvalidJobOption(
                    f"no table matches database-name={self.config.database_pattern} "
                    f"table-name={self.config.table_pattern} — check the --mysql_conf patterns")
            zone = self.config.server_time_zone or info.time_zone
            events = [MySqlTableMapping.of(t, self.factory.targets, self.factory.type_mapping, zone)
                      .target.schema_event() for t in tables]
            ticks = inspection.snapshot_chunks(conn, tables, self.config.chunk_size) + 1 \
                if self.config.startup_mode == "snapshot" else 1
            return SourcePlan(events, ticks)
        finally:
            conn.close()

    def _check_published_position(self, conn) -> None:
        if self.catalog_options is None:
            return
        published = PositionStore.of(open_catalog(self.catalog_options)).load(self.config.source_id)
        if published is not None and published.state.get("binlog"):
            server_checks.check_position(conn, BinlogPosition.from_dict(published.state["binlog"]))

    def create(self) -> None:
        """Nothing: the binlog is the server's, read by a replica connection."""


def from_args(argv: Optional[list[str]], database_sync: bool) -> SyncSource:
    job = "mysql_sync_database" if database_sync else "mysql_sync_table"
    parser = sync_parser(job, "--mysql_conf", database_sync, TYPE_MAPPINGS)
    if database_sync:
        parser.add_argument("--merge_shards", default="true", choices=["true", "false"],
                            help="same-named tables of several databases into one table (false: <db>_<table>)")
    args = parser.parse_args(argv)
    options = parse_key_values(args.mysql_conf, "--mysql_conf")
    targets = _lower_case(targets_of(args, database_sync, TYPE_MAPPINGS), database_sync,
                          getattr(args, "merge_shards", "true") == "true")
    type_mapping = TypeMapping.parse(args.type_mapping)
    if database_sync:
        options.setdefault("table-name", table_pattern(args.including_tables, args.excluding_tables))
    config = MySqlSourceConfig.parse(options, table_required=not database_sync)
    if database_sync:
        config = replace(config, database_sync=True)
    catalog = catalog_options(args.warehouse, parse_key_values(args.catalog_conf, "--catalog_conf"))
    name = f"{job} {args.database}" if database_sync else f"{job} {args.database}.{args.table}"
    preparation = MySqlPreparation(MySqlSourceFactory(config, targets, type_mapping, lake=catalog), catalog)
    return SyncSource(name, preparation, catalog, args, f"server-{config.server_id}")


def _lower_case(targets: Targets, database_sync: bool, merge_shards: bool) -> Targets:
    """``*_sync_database``: lake tables are named as the source tables, in lower case
    (``<database>_<table>`` without shard merging)."""
    if not database_sync:
        return targets

    def name(database: str, table: str) -> str:
        return (table if merge_shards else f"{database}_{table}").lower()
    return replace(targets, name_of=lambda database, table: targets.name_of(database, name(database, table)),
                   spec_of=lambda database, table, keys: targets.spec_of(database, name(database, table), keys))
