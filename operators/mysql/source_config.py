"""``MySqlSourceConfig``: the ``--mysql_conf key=value`` options of the MySQL jobs, named as in
Paimon's ``mysql_sync_table`` (Flink CDC's mysql-cdc source), declared in ``MYSQL_OPTIONS`` and
validated up front; and ``TypeMapping``, the ``--type_mapping`` choices.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Mapping, Optional

from operators.cdc.errors import InvalidJobOption, SourceNotReady, UserError
from operators.cdc.password_file import PASSWORD_OPTIONS, password_of
from paimon_py.config_option import DURATION, INT, MEMORY, REGEX, STRING, ConfigOption, Invalid, OptionSet, OptionType, at_least, enum
from paimon_py.exceptions import OptionError

STARTUP_MODES = ("initial", "latest-offset", "earliest-offset", "specific-offset", "timestamp", "snapshot")
SYSTEM_DATABASES = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
DERIVED_SERVER_IDS = (5400, 1 << 30)
"""Derived server ids fall in [5400, 5400 + 2^30): above the small ids people give servers."""


class InvalidSourceOption(UserError, ValueError):
    """A ``--mysql_conf`` option is missing, unknown or has a bad value."""


@dataclass(frozen=True)
class ServerIdRange:
    first: int
    last: int


def parse_server_id(text: str) -> ServerIdRange:
    """``5400`` or ``5400-5408`` (MySQL server ids are 1 .. 2^32-1)."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", text)
    if not match:
        raise Invalid("not a server id", "give an id like 5400 or a range like 5400-5408")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if not 1 <= first <= last < 1 << 32:
        raise Invalid("not a server id range", "ids are 1 .. 4294967295, the first not above the last")
    return ServerIdRange(first, last)


def parse_time_zone(text: str) -> str:
    """A zone name (``Europe/Berlin``, ``UTC``) or an offset (``+02:00``)."""
    value = text.strip()
    if not re.fullmatch(r"[+-]\d{2}:\d{2}|[A-Za-z][A-Za-z0-9_+\-/]*", value):
        raise Invalid("not a time zone", "give a zone name like Europe/Berlin or an offset like +02:00")
    return value


SERVER_ID = OptionType("server id", parse_server_id)
TIME_ZONE = OptionType("time zone", parse_time_zone)

MYSQL_OPTIONS = OptionSet("--mysql_conf", [
    ConfigOption("hostname", required=True, description="Server host"),
    ConfigOption("port", INT, "3306", "Server port", checks=(at_least(1),)),
    ConfigOption("username", required=True,
                 description="User with `SELECT, REPLICATION SLAVE, REPLICATION CLIENT` (MariaDB: `BINLOG MONITOR`)"),
    *PASSWORD_OPTIONS,
    ConfigOption("database-name", REGEX, required=True, description="Database, or a regex of databases"),
    ConfigOption("table-name", REGEX, None, "Table, or a regex of tables (mysql_sync_table: required)",
                 default_doc="`.*`"),
    ConfigOption("server-id", SERVER_ID, None, "Replica server id, or a range `5400-5408` (its first id is used)",
                 default_doc="derived from hostname, port, database-name and table-name"),
    ConfigOption("server-time-zone", TIME_ZONE, None, "Zone of TIMESTAMP values' wall clock in Paimon",
                 default_doc="the server's zone"),
    ConfigOption("scan.startup.mode", enum(*STARTUP_MODES), "initial",
                 "`initial`: snapshot, then binlog; `latest-offset`/`earliest-offset`: binlog from its end/start; "
                 "`specific-offset`: from `scan.startup.specific-offset.*`; `timestamp`: from "
                 "`scan.startup.timestamp-millis`; `snapshot`: read the tables, commit, end"),
    ConfigOption("scan.startup.specific-offset.file", description="Binlog file for `specific-offset`"),
    ConfigOption("scan.startup.specific-offset.pos", INT, None, "Binlog offset for `specific-offset`",
                 checks=(at_least(4),)),
    ConfigOption("scan.startup.specific-offset.gtid-set", description="GTID set for `specific-offset`"),
    ConfigOption("scan.startup.timestamp-millis", INT, None,
                 "Start time for `timestamp` (epoch milliseconds): the binlog is read from the newest file begun before "
                 "it (a binary search over the files' first events), transactions before it are skipped",
                 checks=(at_least(0),)),
    ConfigOption("scan.incremental.snapshot.chunk.size", INT, "50000",
                 "Rows per snapshot chunk (Flink CDC: 8096; 50000 reads ~1.5x faster here, a chunk being one query)",
                 checks=(at_least(1),)),
    ConfigOption("scan.incremental.snapshot.chunk.key-column", STRING, None,
                 "Column to chunk the snapshot by instead of the primary key (unique and NOT NULL; a table "
                 "without a primary key is read in one piece)",
                 default_doc="the primary key"),
    ConfigOption("heartbeat.interval", DURATION, "30 s", "How often the server sends a heartbeat while quiet",
                 checks=(at_least(100),)),
    ConfigOption("connect.timeout", DURATION, "30 s", "Connection timeout", checks=(at_least(1000),)),
    ConfigOption("poll.max.rows", INT, "50000", "Change rows read per poll at most", checks=(at_least(1),)),
    ConfigOption("poll.prefetch.size", MEMORY, "32mb", "Binlog events read ahead of the reader, at most (the "
                 "server streams on while the job is between polls)", checks=(at_least(1 << 16),)),
], see="README, MySQL CDC")
"""The ``--mysql_conf`` options, named as in Paimon's ``mysql_sync_table``."""


@dataclass(frozen=True)
class SpecificOffset:
    """Where ``specific-offset`` starts: a file and offset, or a GTID set (which wins)."""
    file: Optional[str]
    pos: Optional[int]
    gtid_set: Optional[str]


@dataclass(frozen=True)
class MySqlSourceConfig:
    hostname: str
    port: int
    username: str
    password: str
    database_pattern: str
    table_pattern: str
    server_id: int
    server_time_zone: Optional[str]
    """None: the server's own zone (``server_checks.ServerInfo.time_zone``)."""
    startup_mode: str
    specific_offset: Optional[SpecificOffset]
    startup_timestamp_ms: Optional[int]
    chunk_size: int
    chunk_key_column: Optional[str]
    heartbeat_ms: int
    connect_timeout_ms: int
    poll_max_rows: int
    prefetch_bytes: int
    database_sync: bool = False
    """mysql_sync_database: tables created later in a captured database are picked up."""

    @property
    def source_id(self) -> str:
        """Stable id of this change stream (one replica id on one server)."""
        return f"mysql/{self.hostname}:{self.port}/{self.server_id}"

    def matches(self, database: str, table: str) -> bool:
        return (database.lower() not in SYSTEM_DATABASES
                and re.fullmatch(self.database_pattern, database) is not None
                and re.fullmatch(self.table_pattern, table) is not None)

    def connect(self, **kwargs):
        """A pymysql connection (autocommit, utf8mb4, session ``time_zone='+00:00'`` so TIMESTAMP
        values read as UTC)."""
        import pymysql
        try:
            conn = pymysql.connect(host=self.hostname, port=self.port, user=self.username, password=self.password,
                                   charset="utf8mb4", autocommit=True,
                                   connect_timeout=max(1, self.connect_timeout_ms // 1000), **kwargs)
        except pymysql.err.OperationalError as e:
            raise _connection_error(self, e) from None
        with conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
        return conn

    @staticmethod
    def parse(options: Mapping[str, str], table_required: bool) -> "MySqlSourceConfig":
        try:
            values = MYSQL_OPTIONS.parse(options, also_required=["table-name"] if table_required else [])
            password = password_of(values)
        except OptionError as e:
            raise InvalidSourceOption(str(e)) from e
        table_pattern = ".*" if values["table-name"] is None else values["table-name"]
        server_ids = values["server-id"]
        return MySqlSourceConfig(
            hostname=values["hostname"], port=values["port"], username=values["username"],
            password=password, database_pattern=values["database-name"], table_pattern=table_pattern,
            server_id=server_ids.first if server_ids else derived_server_id(
                values["hostname"], values["port"], values["database-name"], table_pattern),
            server_time_zone=values["server-time-zone"], startup_mode=values["scan.startup.mode"],
            specific_offset=_specific_offset(values), startup_timestamp_ms=_startup_timestamp(values),
            chunk_size=values["scan.incremental.snapshot.chunk.size"],
            chunk_key_column=values["scan.incremental.snapshot.chunk.key-column"],
            heartbeat_ms=values["heartbeat.interval"], connect_timeout_ms=values["connect.timeout"],
            poll_max_rows=values["poll.max.rows"], prefetch_bytes=values["poll.prefetch.size"])


def _connection_error(config: "MySqlSourceConfig", error: Exception) -> UserError:
    """A refused connection as a one-line error naming what to check (never the password)."""
    code, message = (error.args + ("",))[:2]
    where = f"{config.hostname}:{config.port}"
    if code in (1045, 1044):
        return SourceNotReady(f"the server at {where} refused user {config.username} ({message}) — check username "
                              f"and password in --mysql_conf")
    return SourceNotReady(f"cannot connect to the server at {where} ({message}) — check hostname and port in "
                          f"--mysql_conf, and that the server runs")


def derived_server_id(hostname: str, port: int, database_pattern: str, table_pattern: str) -> int:
    """The same command always gets the same id; different captures most likely different ones."""
    low, count = DERIVED_SERVER_IDS
    identity = f"{hostname}:{port}/{database_pattern}/{table_pattern}".encode()
    return low + zlib.crc32(identity) % count


def _specific_offset(values: dict) -> Optional[SpecificOffset]:
    offset = SpecificOffset(values["scan.startup.specific-offset.file"], values["scan.startup.specific-offset.pos"],
                            values["scan.startup.specific-offset.gtid-set"])
    given = any(v is not None for v in (offset.file, offset.pos, offset.gtid_set))
    if values["scan.startup.mode"] != "specific-offset":
        if given:
            raise InvalidSourceOption("scan.startup.specific-offset.* is set but scan.startup.mode is "
                                      f"{values['scan.startup.mode']} — set scan.startup.mode=specific-offset "
                                      "or remove the offset")
        return None
    if not offset.gtid_set and (offset.file is None or offset.pos is None):
        raise InvalidSourceOption("scan.startup.mode=specific-offset needs a position — set "
                                  "scan.startup.specific-offset.file and .pos, or .gtid-set")
    return offset


def _startup_timestamp(values: dict) -> Optional[int]:
    millis = values["scan.startup.timestamp-millis"]
    if (values["scan.startup.mode"] == "timestamp") != (millis is not None):
        raise InvalidSourceOption("scan.startup.mode=timestamp and scan.startup.timestamp-millis go together — "
                                  "set both or neither")
    return millis


# --- --type_mapping -----------------------------------------------------------------------------

TYPE_MAPPINGS = ("tinyint1-not-bool", "to-nullable", "to-string", "char-to-string", "longtext-to-bytes",
                 "bigint-unsigned-to-bigint")


@dataclass(frozen=True)
class TypeMapping:
    """Paimon's ``--type_mapping`` options for MySQL (``operators/mysql/types.py`` applies them)."""
    tinyint1_not_bool: bool = False
    to_nullable: bool = False
    to_string: bool = False
    char_to_string: bool = False
    longtext_to_bytes: bool = False
    bigint_unsigned_to_bigint: bool = False

    @staticmethod
    def parse(text: Optional[str]) -> "TypeMapping":
        """``"to-nullable,char-to-string"`` (None or empty: Paimon's defaults)."""
        chosen = [v.strip() for v in (text or "").split(",") if v.strip()]
        unknown = [v for v in chosen if v not in TYPE_MAPPINGS]
        if unknown:
            raise InvalidJobOption(f"--type_mapping {', '.join(unknown)}: unknown — use a comma-separated list "
                                   f"of {', '.join(TYPE_MAPPINGS)}")
        return TypeMapping(**{v.replace("-", "_"): True for v in chosen})
