"""Checks of the server before the MySQL source starts: binlog settings, privileges, the replica
server id, and whether a stored binlog position can still be read. They create nothing; every
refusal is a ``SourceNotReady`` naming the setting and the statement that fixes it
(docs/mysql.md §6.2).

Server id: refused when a registered replica (``SHOW SLAVE HOSTS``) has our id and no binlog dump
thread of our user runs. With such a thread, the replica is taken to be this job's own previous
run, whose lingering thread MariaDB replaces when we connect: a restart is not blocked. (The
server does not tell which thread has which id, and shows other users' threads only to holders of
PROCESS.) Listing
replicas needs MariaDB's REPLICATION MASTER ADMIN (MySQL: REPLICATION SLAVE); without it the check
is skipped (INFO log) and a clash shows as the server's error 4052 when the stream connects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional

from operators.cdc.errors import SourceNotReady
from operators.mysql.binlog.server_position import binary_logs
from operators.mysql.binlog.transaction import BinlogPosition
from operators.mysql.source_config import MySqlSourceConfig

log = logging.getLogger(__name__)

ACCESS_DENIED = (1227, 1044, 1142, 1143)
MY_CNF = "and in the server's my.cnf ([mysqld] section) so it survives a restart"


@dataclass(frozen=True)
class ServerInfo:
    flavour: str
    """``MariaDB`` or ``MySQL``."""
    version: str
    server_id: int
    server_uuid: Optional[str]
    """MySQL's ``@@server_uuid`` (MariaDB has none)."""
    has_snapshot_position: bool
    """``Binlog_snapshot_file`` exists (MariaDB, Percona Server): exact chunk positions."""
    time_zone: str
    """The server's zone: ``@@time_zone`` when it names one, else its current UTC offset (``+02:00``)."""


def server_info(conn) -> ServerInfo:
    return _server_info(conn, _variables(conn))


def check_server(conn, config: MySqlSourceConfig) -> ServerInfo:
    variables = _variables(conn)
    info = _server_info(conn, variables)
    _check_binlog(variables, info.flavour)
    _check_privileges(conn, config)
    _check_server_id(conn, config)
    return info


def _variables(conn) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image',"
                    " 'binlog_row_metadata', 'log_bin_compress', 'binlog_transaction_compression',"
                    " 'binlog_row_value_options', 'server_id', 'server_uuid', 'version', 'time_zone')")
        return {name: "" if value is None else str(value) for name, value in cur.fetchall()}


def _server_info(conn, variables: dict[str, str]) -> ServerInfo:
    with conn.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS LIKE 'binlog_snapshot_file'")
        has_snapshot = cur.fetchone() is not None
        cur.execute("SELECT TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(), NOW())")
        offset = int(cur.fetchone()[0])
    zone = variables.get("time_zone", "SYSTEM")
    if zone == "SYSTEM" or zone[:1] in "+-":
        zone = f"{'-' if offset < 0 else '+'}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    version = variables.get("version", "")
    return ServerInfo("MariaDB" if "mariadb" in version.lower() else "MySQL", version,
                      int(variables.get("server_id", 0)), variables.get("server_uuid") or None, has_snapshot, zone)


def _check_binlog(variables: dict[str, str], flavour: str) -> None:
    if variables.get("log_bin", "OFF").upper() != "ON":
        raise SourceNotReady("binary logging is off (log_bin=OFF) — start the server with log_bin=binlog and "
                             "server_id=<a unique number>, binlog_format=ROW, binlog_row_image=FULL, "
                             "binlog_row_metadata=FULL (my.cnf [mysqld]) and restart it")
    required = {"binlog_format": "ROW", "binlog_row_image": "FULL", "binlog_row_metadata": "FULL",
                "log_bin_compress": "OFF", "binlog_transaction_compression": "OFF"}
    for name, wanted in required.items():
        value = variables.get(name)
        if value is not None and value.upper() != wanted:
            raise SourceNotReady(f"{name}={value}: the source needs {wanted} — SET GLOBAL {name}={wanted} "
                                 f"{MY_CNF}")
    if variables.get("binlog_row_value_options"):
        raise SourceNotReady(f"binlog_row_value_options={variables['binlog_row_value_options']}: partial JSON "
                             f"updates cannot be captured — SET GLOBAL binlog_row_value_options='' {MY_CNF}")


def _check_privileges(conn, config: MySqlSourceConfig) -> None:
    grants = _grants(conn)
    if not _has(grants, "REPLICATION SLAVE"):
        raise SourceNotReady(f"user {config.username} lacks the REPLICATION SLAVE privilege — GRANT REPLICATION "
                             f"SLAVE ON *.* TO '{config.username}'@'<host>'")
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW MASTER STATUS")
    except Exception as e:
        if _code(e) not in ACCESS_DENIED:
            raise
        raise SourceNotReady(f"user {config.username} may not read the binlog position (SHOW MASTER STATUS: "
                             f"{e.args[1]}) — GRANT REPLICATION CLIENT ON *.* TO '{config.username}'@'<host>' "
                             f"(MariaDB: BINLOG MONITOR)") from None


def check_select(conn, config: MySqlSourceConfig, qualified_tables: list[str]) -> None:
    """Refuses when a captured table (```db`.`t```) cannot be read."""
    for table in qualified_tables:
        try:
            with conn.cursor() as cur:
                cur.execute(f"SELECT 1 FROM {table} LIMIT 0")
        except Exception as e:
            if _code(e) not in ACCESS_DENIED:
                raise
            raise SourceNotReady(f"user {config.username} may not read {table} — GRANT SELECT ON "
                                 f"{table.split('.')[0]}.* TO '{config.username}'@'<host>'") from None


def _grants(conn) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SHOW GRANTS")
        return [row[0].upper() for row in cur.fetchall()]


def _has(grants: list[str], privilege: str) -> bool:
    return any(g.startswith("GRANT ALL PRIVILEGES ON *.*") or
               (g.startswith("GRANT ") and " ON *.* " in g and privilege in g.split(" ON *.* ")[0]) for g in grants)


def _check_server_id(conn, config: MySqlSourceConfig) -> None:
    with conn.cursor() as cur:
        try:
            cur.execute("SHOW SLAVE HOSTS")
        except Exception as e:
            if _code(e) not in ACCESS_DENIED:
                raise
            log.info("server-id %s not checked: user %s may not list replicas (%s)", config.server_id,
                     config.username, e.args[1])
            return
        replicas = [int(row[0]) for row in cur.fetchall()]
        cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%%'"
                    " AND USER = %s", (config.username,))
        own_readers = cur.fetchone()[0]
    if config.server_id in replicas and not own_readers:
        raise SourceNotReady(f"server-id {config.server_id} is used by another replica of this server (SHOW SLAVE "
                             f"HOSTS) — give --mysql_conf server-id=<another id>")


def check_position(conn, position: BinlogPosition) -> None:
    """Refuses a stored position the server can no longer (or never could) stream from."""
    logs = binary_logs(conn)
    files = [name for name, _ in logs]
    fix = "restart the job with a new snapshot (scan.startup.mode=initial, a fresh target) and keep binlogs longer " \
          "(binlog_expire_logs_seconds)"
    if position.gtid:
        _check_gtid(conn, position.gtid, files[0] if files else "", fix)
    elif position.file not in files:
        if files and position.file_pos() < (int(files[0].rsplit(".", 1)[-1]), 0):
            raise SourceNotReady(f"binlog {position.file} was purged (the oldest is {files[0]}) — {fix}")
        raise SourceNotReady(f"binlog {position.file} is not on this server (its binlogs: {files[0]} .. "
                             f"{files[-1]}) — is it the same server? Otherwise {fix}")
    else:
        size = dict(logs)[position.file]
        if position.pos > size and position.file == files[-1]:
            raise SourceNotReady(f"binlog position {position.file}:{position.pos} is beyond the end of the server's "
                                 f"binlog ({size}) — is it the same server? Otherwise {fix}")


def _check_gtid(conn, gtid: str, first_file: str, fix: str) -> None:
    """MariaDB GTIDs: each domain's seq must lie between the start of the oldest binlog and the
    server's state, and come from a server this server's binlog has seen."""
    with conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.gtid_binlog_state, BINLOG_GTID_POS(%s, 4)", (first_file,))
        state, oldest = cur.fetchone()
    known = _gtids(state or "")
    start = {domain: seq for (domain, _), seq in _gtids(oldest or "").items()}
    for (domain, server), seq in _gtids(gtid).items():
        if (domain, server) not in known or seq > known[(domain, server)]:
            raise SourceNotReady(f"GTID {domain}-{server}-{seq} is not in this server's binlog (its state: "
                                 f"{state or 'empty'}) — is it the same server? Otherwise {fix}")
        if seq < start.get(domain, 0):
            raise SourceNotReady(f"GTID {domain}-{server}-{seq} is in purged binlogs (the oldest binlog {first_file} "
                                 f"starts after {oldest}) — {fix}")


def _gtids(text: str) -> dict[tuple[int, int], int]:
    """``0-101-7,1-5-3`` -> {(domain, server): seq}."""
    found = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        domain, server, seq = (int(v) for v in item.split("-"))
        found[(domain, server)] = seq
    return found


def _code(error: Exception) -> Optional[int]:
    return error.args[0] if error.args and isinstance(error.args[0], int) else None
