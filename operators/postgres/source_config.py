"""``PostgresSourceConfig``: the ``--postgres_conf key=value`` options of the PostgreSQL jobs,
named as in Paimon's ``postgres_sync_table`` (and Flink CDC's postgres-cdc source), declared in
``POSTGRES_OPTIONS`` (``paimon_py.config_option``) and validated up front with messages that say
what to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from operators.cdc.errors import UserError
from operators.cdc.password_file import PASSWORD_OPTIONS, password_of
from paimon_py.config_option import INT, MEMORY, REGEX, ConfigOption, OptionSet, at_least, enum, matching
from paimon_py.exceptions import OptionError

STARTUP_MODES = ("initial", "latest-offset", "snapshot")


class InvalidSourceOption(UserError, ValueError):
    """A ``--postgres_conf`` option is missing, unknown or has a bad value."""


POSTGRES_OPTIONS = OptionSet("--postgres_conf", [
    ConfigOption("hostname", required=True, description="Server host"),
    ConfigOption("port", INT, "5432", "Server port", checks=(at_least(1),)),
    ConfigOption("username", required=True, description="User with the `REPLICATION` attribute"),
    *PASSWORD_OPTIONS,
    ConfigOption("database-name", required=True, description="Database"),
    ConfigOption("schema-name", REGEX, "public", "Schema, or a regex of schemas"),
    ConfigOption("table-name", REGEX, None, "Table, or a regex of tables (postgres_sync_table: required)",
                 default_doc="`.*`"),
    ConfigOption("slot.name", required=True, description="Replication slot, created when missing",
                 checks=(matching(r"[a-z0-9_]{1,63}", "not a PostgreSQL slot name",
                                  "use only lower case letters, digits and underscores (at most 63)"),)),
    ConfigOption("publication.name", description="Publication, created when missing",
                 default_doc="`<slot.name>_pub`"),
    ConfigOption("decoding.plugin.name", enum("pgoutput", ignore_case=False, what="not supported",
                                              fix="use pgoutput (built into PostgreSQL 10+, no server extension "
                                                  "needed)"),
                 "pgoutput", "Logical decoding plugin: only `pgoutput`"),
    ConfigOption("scan.startup.mode", enum(*STARTUP_MODES, ignore_case=False), "initial",
                 "`initial`: snapshot, then stream; `latest-offset`: stream from now; `snapshot`: read the "
                 "tables, commit, end"),
    ConfigOption("scan.snapshot.chunk.size", INT, "100000", "Rows per snapshot chunk", checks=(at_least(1),)),
    ConfigOption("scan.snapshot.parallelism", INT, "1", "Snapshot split readers: above 1, that many subtasks read "
                 "the chunks in parallel, and streaming starts once every chunk is in a completed checkpoint",
                 checks=(at_least(1),)),
    ConfigOption("heartbeat.interval.ms", INT, "10000", "How often the slot advances while the tables are quiet",
                 checks=(at_least(100),)),
    ConfigOption("poll.max.rows", INT, "50000", "Change rows read per poll at most", checks=(at_least(1),)),
    ConfigOption("poll.prefetch.size", MEMORY, "32mb", "Messages read ahead of the reader, at most (the "
                 "walsender streams on while the job is between polls)", checks=(at_least(1 << 16),)),
], see="README, PostgreSQL CDC")
"""The ``--postgres_conf`` options, named as in Paimon's ``postgres_sync_table`` (the README's table
is rendered from them: ``scripts/readme_options.py``)."""


@dataclass(frozen=True)
class PostgresSourceConfig:
    hostname: str
    port: int
    username: str
    password: str
    database: str
    schema_pattern: str
    table_pattern: str
    slot: str
    publication: str
    startup_mode: str
    chunk_size: int
    snapshot_parallelism: int
    heartbeat_ms: int
    poll_max_rows: int
    prefetch_bytes: int
    publish_schemas: bool = False
    """Create the publication for the matched schemas (tables created later are included;
    postgres_sync_database) rather than for the matched tables."""

    @property
    def source_id(self) -> str:
        """Stable id of this change stream (one slot of one database on one server)."""
        return f"postgres/{self.hostname}:{self.port}/{self.database}/{self.slot}"

    def dsn(self, **extra: str) -> str:
        parts = {"host": self.hostname, "port": str(self.port), "dbname": self.database,
                 "user": self.username, "password": self.password,
                 "application_name": "paimon-cdc", **extra}
        return " ".join(f"{k}={_quote(v)}" for k, v in parts.items())

    def matches_schema(self, schema: str) -> bool:
        return re.fullmatch(self.schema_pattern, schema) is not None

    def matches(self, schema: str, table: str) -> bool:
        return self.matches_schema(schema) and re.fullmatch(self.table_pattern, table) is not None

    @staticmethod
    def parse(options: Mapping[str, str], table_required: bool) -> "PostgresSourceConfig":
        try:
            values = POSTGRES_OPTIONS.parse(options, also_required=["table-name"] if table_required else [])
            password = password_of(values)
        except OptionError as e:
            raise InvalidSourceOption(str(e)) from e
        slot = values["slot.name"]
        return PostgresSourceConfig(
            hostname=values["hostname"], port=values["port"], username=values["username"],
            password=password, database=values["database-name"], schema_pattern=values["schema-name"],
            table_pattern=".*" if values["table-name"] is None else values["table-name"], slot=slot,
            publication=f"{slot}_pub" if values["publication.name"] is None else values["publication.name"],
            startup_mode=values["scan.startup.mode"],
            chunk_size=values["scan.snapshot.chunk.size"],
            snapshot_parallelism=values["scan.snapshot.parallelism"], heartbeat_ms=values["heartbeat.interval.ms"],
            poll_max_rows=values["poll.max.rows"], prefetch_bytes=values["poll.prefetch.size"])


def _quote(value: str) -> str:
    if value and re.fullmatch(r"[A-Za-z0-9_.:/@-]+", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
