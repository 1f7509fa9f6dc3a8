"""The server's current binlog position, and file/position -> GTID state on MariaDB."""

from __future__ import annotations

from typing import Optional

import pymysql

from operators.cdc.errors import SourceNotReady
from operators.mysql.binlog.transaction import BinlogPosition


def is_mariadb(conn) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        return "mariadb" in cur.fetchone()[0].lower()


def _master_status(conn) -> dict:
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        try:
            cur.execute("SHOW BINARY LOG STATUS")
        except pymysql.err.ProgrammingError:
            cur.execute("SHOW MASTER STATUS")
        except pymysql.err.OperationalError as e:
            raise SourceNotReady(f"cannot read the binlog position ({e.args[1]}) — GRANT REPLICATION CLIENT "
                                 f"ON *.* TO the job's user") from None
        row = cur.fetchone()
    if not row:
        raise SourceNotReady("binary logging is off — start the server with log_bin=<basename>, server_id and "
                             "binlog_format=ROW")
    return row


def current_position(conn) -> BinlogPosition:
    """Where the binlog ends now: file, position and GTID state (MariaDB ``@@gtid_binlog_pos``,
    MySQL ``Executed_Gtid_Set``)."""
    row = _master_status(conn)
    if is_mariadb(conn):
        with conn.cursor() as cur:
            cur.execute("SELECT @@gtid_binlog_pos")
            gtid = cur.fetchone()[0] or ""
    else:
        gtid = (row.get("Executed_Gtid_Set") or "").replace("\n", "")
    return BinlogPosition(row["File"], int(row["Position"]), gtid)


def gtid_at(conn, file: str, pos: int) -> Optional[str]:
    """MariaDB's GTID state at a file/position (``BINLOG_GTID_POS``); None when unknown."""
    with conn.cursor() as cur:
        cur.execute("SELECT BINLOG_GTID_POS(%s, %s)", (file, pos))
        return cur.fetchone()[0]


def first_position(conn) -> BinlogPosition:
    """Where the oldest binlog the server still has begins (``earliest-offset``)."""
    with conn.cursor() as cur:
        try:
            cur.execute("SHOW BINARY LOGS")
        except pymysql.err.OperationalError as e:
            raise SourceNotReady(f"cannot list the binlogs ({e.args[1]}) — GRANT REPLICATION CLIENT ON *.* TO the "
                                 f"job's user") from None
        rows = cur.fetchall()
    if not rows:
        raise SourceNotReady("binary logging is off — start the server with log_bin=<basename>, server_id and "
                             "binlog_format=ROW")
    file = rows[0][0]
    gtid = (gtid_at(conn, file, 4) or "") if is_mariadb(conn) else ""
    return BinlogPosition(file, 4, gtid)
