"""The server's current binlog position, where a start time falls in its binlogs, and file/position
-> GTID state on MariaDB."""

from __future__ import annotations

from typing import Optional

import pymysql

from operators.cdc.errors import SourceNotReady
from operators.mysql.binlog.connection import ServerSettings, file_start_time
from operators.mysql.binlog.transaction import BinlogPosition


def is_mariadb(conn) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        return "mariadb" in cur.fetchone()[0].lower()


BINLOG_OFF = "binary logging is off — start the server with log_bin=<basename>, server_id and binlog_format=ROW"


def _show(cur, statement: str, what: str) -> None:
    """Runs a ``SHOW`` that needs REPLICATION CLIENT, naming the grant when it is refused."""
    try:
        cur.execute(statement)
    except pymysql.err.OperationalError as e:
        raise SourceNotReady(f"cannot read {what} ({e.args[1]}) — GRANT REPLICATION CLIENT ON *.* TO the job's "
                             f"user") from None


def _master_status(conn) -> dict:
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        try:
            _show(cur, "SHOW BINARY LOG STATUS", "the binlog position")
        except pymysql.err.ProgrammingError:
            _show(cur, "SHOW MASTER STATUS", "the binlog position")
        row = cur.fetchone()
    if not row:
        raise SourceNotReady(BINLOG_OFF)
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


def bytes_after(conn, position: BinlogPosition) -> int:
    """How many binlog bytes the server holds after ``position`` (-1 when it names no file)."""
    if not position.file:
        return -1
    with conn.cursor() as cur:
        _show(cur, "SHOW BINARY LOGS", "the list of binlogs")
        logs = cur.fetchall()
    number = position.file_pos()[0]
    total = 0
    for name, size, *_ in logs:
        n = int(name.rsplit(".", 1)[-1])
        total += int(size) if n > number else max(0, int(size) - position.pos) if n == number else 0
    return total


def gtid_at(conn, file: str, pos: int) -> Optional[str]:
    """MariaDB's GTID state at a file/position (``BINLOG_GTID_POS``); None when unknown."""
    with conn.cursor() as cur:
        cur.execute("SELECT BINLOG_GTID_POS(%s, %s)", (file, pos))
        return cur.fetchone()[0]


def binary_logs(conn) -> list[tuple[str, int]]:
    """The server's binlog files, oldest first, with their sizes (``SHOW BINARY LOGS``)."""
    with conn.cursor() as cur:
        _show(cur, "SHOW BINARY LOGS", "the list of binlogs")
        return [(row[0], int(row[1])) for row in cur.fetchall()]


def first_position(conn) -> BinlogPosition:
    """Where the oldest binlog the server still has begins (``earliest-offset``)."""
    logs = binary_logs(conn)
    if not logs:
        raise SourceNotReady(BINLOG_OFF)
    return _file_start(conn, logs[0][0])


def position_at_time(conn, settings: ServerSettings, server_id: int, timestamp_s: int) -> BinlogPosition:
    """Where to read from to see every transaction of ``timestamp_s`` or later (``timestamp``): the
    start of the newest binlog begun before that second (a binary search over the files' first
    events, as Flink CDC's), or of the oldest when none was. Not "at or before": a file begun in
    that very second may follow one that holds the second's first transactions."""
    files = [name for name, _ in binary_logs(conn)]
    if not files:
        raise SourceNotReady(BINLOG_OFF)
    low, high = 0, len(files) - 1  # the answer is in files[low..high]
    while low < high:
        middle = (low + high + 1) // 2
        if file_start_time(settings, server_id, files[middle]) < timestamp_s:
            low = middle
        else:
            high = middle - 1
    return _file_start(conn, files[low])


def _file_start(conn, file: str) -> BinlogPosition:
    gtid = (gtid_at(conn, file, 4) or "") if is_mariadb(conn) else ""
    return BinlogPosition(file, 4, gtid)
