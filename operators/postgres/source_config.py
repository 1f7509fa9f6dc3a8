"""``PostgresSourceConfig``: the ``--postgres_conf key=value`` options of the PostgreSQL jobs,
named as in Paimon's ``postgres_sync_table`` (and Flink CDC's postgres-cdc source), validated
up front with messages that say what to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from operators.cdc.errors import UserError

STARTUP_MODES = ("initial", "latest-offset", "snapshot")


class InvalidSourceOption(UserError, ValueError):
    """A ``--postgres_conf`` option is missing, unknown or has a bad value."""


_KEYS = {
    "hostname": "server host (required)",
    "port": "server port (default 5432)",
    "username": "user with the REPLICATION attribute (required)",
    "password": "password (default empty)",
    "database-name": "database (required)",
    "schema-name": "schema, or a regex of schemas (default public)",
    "table-name": "table, or a regex of tables (postgres_sync_table: required)",
    "slot.name": "replication slot, created when missing (required)",
    "publication.name": "publication, created when missing (default <slot.name>_pub)",
    "decoding.plugin.name": "logical decoding plugin: only pgoutput",
    "scan.startup.mode": "initial | latest-offset | snapshot (default initial)",
    "scan.snapshot.chunk.size": "rows per snapshot chunk (default 100000)",
    "heartbeat.interval.ms": "how often the slot advances while tables are quiet (default 10000)",
    "poll.max.rows": "change rows read per poll at most (default 50000)",
}


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
    heartbeat_ms: int
    poll_max_rows: int
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
        unknown = sorted(set(options) - set(_KEYS))
        if unknown:
            raise InvalidSourceOption(f"unknown --postgres_conf option(s) {', '.join(unknown)} — known: "
                                      f"{', '.join(_KEYS)} (descriptions: README, PostgreSQL CDC)")
        required = ["hostname", "username", "database-name", "slot.name"]
        if table_required:
            required.append("table-name")
        missing = [k for k in required if not options.get(k)]
        if missing:
            raise InvalidSourceOption(
                "missing --postgres_conf " + ", ".join(f"{k}=..." for k in missing) + " — add them")
        plugin = options.get("decoding.plugin.name", "pgoutput")
        if plugin != "pgoutput":
            raise InvalidSourceOption(f"decoding.plugin.name={plugin} is not supported — use pgoutput "
                                      f"(built into PostgreSQL 10+, no server extension needed)")
        mode = options.get("scan.startup.mode", "initial")
        if mode not in STARTUP_MODES:
            raise InvalidSourceOption(f"scan.startup.mode={mode} is unknown — use one of {', '.join(STARTUP_MODES)}")
        slot = options["slot.name"]
        if not re.fullmatch(r"[a-z0-9_]{1,63}", slot):
            raise InvalidSourceOption(f"slot.name={slot} is not a PostgreSQL slot name — use only lower "
                                      f"case letters, digits and underscores (at most 63)")
        for key in ("schema-name", "table-name"):
            if options.get(key):
                try:
                    re.compile(options[key])
                except re.error as e:
                    raise InvalidSourceOption(f"{key}={options[key]} is not a valid regex ({e}) — fix the pattern") from None
        return PostgresSourceConfig(
            hostname=options["hostname"], port=_int(options, "port", 5432, 1),
            username=options["username"], password=options.get("password", ""),
            database=options["database-name"], schema_pattern=options.get("schema-name", "public"),
            table_pattern=options.get("table-name", ".*"), slot=slot,
            publication=options.get("publication.name", f"{slot}_pub"), startup_mode=mode,
            chunk_size=_int(options, "scan.snapshot.chunk.size", 100_000, 1),
            heartbeat_ms=_int(options, "heartbeat.interval.ms", 10_000, 100),
            poll_max_rows=_int(options, "poll.max.rows", 50_000, 1))


def _int(options: Mapping[str, str], key: str, default: int, minimum: int) -> int:
    text = options.get(key)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise InvalidSourceOption(f"{key}={text} is not an integer — give a whole number") from None
    if value < minimum:
        raise InvalidSourceOption(f"{key}={text} is too small — give at least {minimum}")
    return value


def _quote(value: str) -> str:
    if value and re.fullmatch(r"[A-Za-z0-9_.:/@-]+", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
