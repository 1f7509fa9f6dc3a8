"""``BinlogConnection``: a pymysql connection that asks the server for its binlog as a replica
(COM_BINLOG_DUMP by file/position or MariaDB GTID, COM_BINLOG_DUMP_GTID for MySQL) and reads
the event packets from the socket in big chunks, with a timeout."""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass
from typing import Optional

import pymysql

from operators.cdc.errors import SourceNotReady
from operators.mysql.binlog.charsets import BUILTIN_COLLATIONS
from operators.mysql.binlog.events import HEARTBEAT, HEARTBEAT_V2, ROTATE
from operators.mysql.binlog.gtid import MySqlGtidSet
from operators.mysql.binlog.transaction import BinlogPosition

COM_BINLOG_DUMP, COM_REGISTER_SLAVE, COM_BINLOG_DUMP_GTID = 0x12, 0x15, 0x1E
BINLOG_THROUGH_GTID = 0x04
READ_CHUNK = 1 << 20
MAX_PACKET = 0xFFFFFF


class ConnectionLost(ConnectionError):
    """The dump connection ended (killed, server restart, network): the stream reconnects."""


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    user: str
    password: str


def dump_packet(server_id: int, file: str, pos: int) -> bytes:
    """COM_BINLOG_DUMP's arguments (the command byte is added by the sender)."""
    return struct.pack("<IHI", pos if pos < 1 << 32 else 4, 0, server_id) + file.encode()


def dump_gtid_packet(server_id: int, gtid_set: MySqlGtidSet) -> bytes:
    """COM_BINLOG_DUMP_GTID's arguments: flags, server id, no file name, position 4, the set."""
    data = gtid_set.encode()
    return struct.pack("<HIIQI", BINLOG_THROUGH_GTID, server_id, 0, 4, len(data)) + data


def server_error(code: int, message: str, server_id: int) -> Exception:
    """A dump error as the exception to raise: ``SourceNotReady`` naming the fix, or ``ConnectionLost``."""
    if code == 1236 and "not open" in message:
        return SourceNotReady(f"binary logging is off ({message}) — start the server with log_bin=<basename>, "
                              f"server_id and binlog_format=ROW")
    if code == 1236:
        return SourceNotReady(f"the server cannot send its binlog from the job's position ({message}) — the "
                              f"binlog was purged or belongs to another server: keep binlogs longer "
                              f"(binlog_expire_logs_seconds) and restart the job from a new snapshot")
    if code == 4052:
        return SourceNotReady(f"server id {server_id} is in use by another replica ({message}) — give the job "
                              f"a server-id no other replica or job uses")
    if code in (1227, 1045, 1044):
        return SourceNotReady(f"the user may not read the binlog ({message}) — GRANT REPLICATION SLAVE, "
                              f"REPLICATION CLIENT ON *.* TO the job's user")
    return ConnectionLost(f"binlog dump ended with error {code}: {message}")


class BinlogConnection:
    """One dump session; ``read`` returns whole event payloads (header included, OK byte not)."""

    def __init__(self, settings: ServerSettings, server_id: int, heartbeat_ms: int = 1000,
                 connect_timeout: float = 10.0, register: bool = False) -> None:
        self.settings = settings
        self.server_id = server_id
        try:
            self.conn = pymysql.connect(host=settings.host, port=settings.port, user=settings.user,
                                        password=settings.password, connect_timeout=connect_timeout,
                                        autocommit=True)
        except pymysql.err.OperationalError as e:
            if e.args[0] in (1045, 1044):
                raise server_error(e.args[0], e.args[1], server_id) from None
            raise ConnectionLost(str(e)) from e
        self.mariadb = "mariadb" in self.query_one("SELECT VERSION()")[0].lower()
        self.checksum = self.query_one("SELECT @@global.binlog_checksum")[0]
        self.collations = self._collations()
        self.execute("SET @master_binlog_checksum = @@global.binlog_checksum")
        self.execute("SET @mariadb_slave_capability = 4")
        self.execute(f"SET @master_heartbeat_period = {int(heartbeat_ms) * 1_000_000}")
        if register:
            self._register()
        self.sock: Optional[socket.socket] = None
        self.buffer = bytearray()
        self.partial: Optional[bytearray] = None

    def query_one(self, sql: str) -> tuple:
        with self.conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()

    def execute(self, sql: str, args=None) -> None:
        with self.conn.cursor() as cur:
            cur.execute(sql, args)

    def _collations(self) -> dict[int, tuple[str, int]]:
        with self.conn.cursor() as cur:
            cur.execute("SELECT c.ID, c.CHARACTER_SET_NAME, s.MAXLEN FROM information_schema.COLLATIONS c "
                        "JOIN information_schema.CHARACTER_SETS s USING (CHARACTER_SET_NAME) WHERE c.ID IS NOT NULL")
            return {**BUILTIN_COLLATIONS, **{int(i): (name, int(maxlen)) for i, name, maxlen in cur.fetchall()}}

    def _register(self) -> None:
        host = socket.gethostname().encode()[:60]
        data = struct.pack("<IB", self.server_id, len(host)) + host + b"\0\0" + struct.pack("<HII", 0, 0, 0)
        self._command(COM_REGISTER_SLAVE, data)
        self.conn._read_ok_packet()

    def _command(self, command: int, data: bytes) -> None:
        try:
            self.conn._execute_command(command, data)
        except pymysql.err.OperationalError as e:
            raise server_error(e.args[0], e.args[1], self.server_id) from None

    def dump(self, start: BinlogPosition, gtid_mode: bool) -> None:
        """Starts the dump at ``start``: MariaDB GTID mode from ``start.gtid``, MySQL from the GTID
        set, else by file/position."""
        if gtid_mode and self.mariadb:
            self.execute("SET @slave_connect_state = %s", (start.gtid,))
            self.execute("SET @slave_gtid_strict_mode = 1")
            self.execute("SET @slave_gtid_ignore_duplicates = 0")
            self._command(COM_BINLOG_DUMP, dump_packet(self.server_id, "", 4))
        elif gtid_mode:
            self._command(COM_BINLOG_DUMP_GTID, dump_gtid_packet(self.server_id, MySqlGtidSet(start.gtid)))
        else:
            self._command(COM_BINLOG_DUMP, dump_packet(self.server_id, start.file, start.pos))
        self.sock = self.conn._sock

    def read(self, timeout: float) -> list[bytes]:
        """The events that have arrived; waits up to ``timeout`` s for the first bytes if none."""
        events = self._parse()
        if events:
            return events
        try:
            self.sock.settimeout(timeout)
            chunk = self.sock.recv(READ_CHUNK)
            if chunk:
                self.buffer += chunk
                self.sock.settimeout(0)
                while len(chunk) == READ_CHUNK and len(self.buffer) < 16 * READ_CHUNK:
                    chunk = self.sock.recv(READ_CHUNK)
                    self.buffer += chunk
        except (socket.timeout, BlockingIOError):
            pass
        except OSError as e:
            raise ConnectionLost(f"binlog connection failed: {e}") from e
        else:
            if not chunk:
                raise ConnectionLost("the server closed the binlog connection")
        return self._parse()

    def _parse(self) -> list[bytes]:
        events, buf, p = [], self.buffer, 0
        while len(buf) - p >= 4:
            length = buf[p] | buf[p + 1] << 8 | buf[p + 2] << 16
            if len(buf) - p - 4 < length:
                break
            payload = buf[p + 4:p + 4 + length]
            p += 4 + length
            if self.partial is not None or length == MAX_PACKET:
                self.partial = (self.partial or bytearray()) + payload
                if length == MAX_PACKET:
                    continue
                payload, self.partial = self.partial, None
            events.append(self._event(payload))
        del buf[:p]
        return events

    def _event(self, payload: bytearray) -> bytes:
        if payload[0] == 0:
            return bytes(payload[1:])
        if payload[0] == 0xFF:
            code = struct.unpack_from("<H", payload, 1)[0]
            message = payload[9:].decode("utf-8", "replace") if payload[3:4] == b"#" else \
                payload[3:].decode("utf-8", "replace")
            raise server_error(code, message, self.server_id)
        raise ConnectionLost("the server ended the binlog dump")

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass


def file_start_time(settings: ServerSettings, server_id: int, file: str, timeout: float = 10.0) -> int:
    """When binlog ``file`` was begun (epoch seconds): the timestamp of its first event, read by a
    dump from its start (the server's fake Rotate first carries none)."""
    conn = BinlogConnection(settings, server_id, connect_timeout=timeout)
    try:
        conn.dump(BinlogPosition(file, 4, ""), gtid_mode=False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in conn.read(0.2):
                timestamp, event_type = struct.unpack_from("<IB", event)
                if timestamp and event_type not in (ROTATE, HEARTBEAT, HEARTBEAT_V2):
                    return timestamp
        raise ConnectionLost(f"no event of binlog {file} within {timeout:.0f} s")
    finally:
        conn.close()
