"""Server checks on private MariaDB servers with wrong settings, users with missing privileges,
a taken server id, and stored positions that are purged or from another server."""

from __future__ import annotations

import threading
import time

import pytest

from operators.cdc.errors import SourceNotReady
from operators.mysql.binlog.transaction import BinlogPosition
from operators.mysql.local_server import LocalMariaDB
from operators.mysql.server_checks import check_position, check_select, check_server
from operators.mysql.source_config import MySqlSourceConfig

pytestmark = pytest.mark.slow

PASSWORD = "cdc-password"


@pytest.fixture(scope="module")
def server():
    """A private server whose global settings the tests change."""
    server = LocalMariaDB().start()
    server.execute("CREATE DATABASE shop")
    server.execute("CREATE TABLE shop.orders (id INT PRIMARY KEY)")
    try:
        yield server
    finally:
        server.stop()


def config_for(server, username="root", password=None, **extra) -> MySqlSourceConfig:
    conf = {**server.conf("shop"), "table-name": "orders", **extra}
    if username != "root":
        conf.update(username=username, password=password or PASSWORD)
    return MySqlSourceConfig.parse(conf, True)


def check(server, **kwargs):
    config = config_for(server, **kwargs)
    conn = config.connect()
    try:
        return check_server(conn, config)
    finally:
        conn.close()


def test_a_well_configured_server_passes(server):
    info = check(server)
    assert (info.flavour, info.server_id, info.has_snapshot_position) == ("MariaDB", 101, True)
    assert info.version.startswith("10.") or info.version.startswith("11.")
    assert info.time_zone == "+00:00" and info.server_uuid is None


@pytest.mark.parametrize("variable, value, message", [
    ("binlog_format", "MIXED", "binlog_format=MIXED: the source needs ROW — SET GLOBAL binlog_format=ROW"),
    ("binlog_row_image", "MINIMAL", "binlog_row_image=MINIMAL: the source needs FULL — SET GLOBAL binlog_row_image"),
    ("binlog_row_metadata", "NO_LOG", "binlog_row_metadata=NO_LOG: the source needs FULL"),
    ("log_bin_compress", "ON", "log_bin_compress=ON: the source needs OFF — SET GLOBAL log_bin_compress=OFF"),
])
def test_wrong_binlog_settings(server, variable, value, message):
    before = server.execute(f"SHOW GLOBAL VARIABLES LIKE '{variable}'")[0][1]
    server.execute(f"SET GLOBAL {variable} = '{value}'")
    try:
        with pytest.raises(SourceNotReady, match=message):
            check(server)
    finally:
        server.execute(f"SET GLOBAL {variable} = '{before}'")


def test_binary_logging_off():
    with LocalMariaDB(settings={"log-bin": None}) as server:
        with pytest.raises(SourceNotReady, match=r"binary logging is off \(log_bin=OFF\) — start the server with "
                                                 r"log_bin="):
            check(server)


@pytest.fixture
def user(server):
    server.execute("CREATE USER cdc@'127.0.0.1' IDENTIFIED BY %s", (PASSWORD,))
    server.execute("GRANT SELECT ON shop.orders TO cdc@'127.0.0.1'")
    try:
        yield "cdc"
    finally:
        server.execute("DROP USER cdc@'127.0.0.1'")


def test_privileges(server, user):
    with pytest.raises(SourceNotReady, match="lacks the REPLICATION SLAVE privilege — GRANT REPLICATION SLAVE"):
        check(server, username=user)
    server.execute("GRANT REPLICATION SLAVE ON *.* TO cdc@'127.0.0.1'")
    with pytest.raises(SourceNotReady, match="may not read the binlog position .* GRANT REPLICATION CLIENT"):
        check(server, username=user)
    server.execute("GRANT BINLOG MONITOR ON *.* TO cdc@'127.0.0.1'")
    assert check(server, username=user).flavour == "MariaDB"


def test_select_privilege(server, user):
    server.execute("CREATE TABLE shop.secret (id INT PRIMARY KEY)")
    config = config_for(server, username=user)
    conn = config.connect()
    try:
        check_select(conn, config, ["`shop`.`orders`"])
        with pytest.raises(SourceNotReady, match="may not read `shop`.`secret` — GRANT SELECT ON `shop`.*"):
            check_select(conn, config, ["`shop`.`orders`", "`shop`.`secret`"])
    finally:
        conn.close()
        server.execute("DROP TABLE shop.secret")


def test_server_id_of_another_reader(server, user):
    from pymysqlreplication import BinLogStreamReader
    server.execute("GRANT REPLICATION SLAVE, BINLOG MONITOR, REPLICATION MASTER ADMIN ON *.* TO cdc@'127.0.0.1'")
    stream = BinLogStreamReader({"host": "127.0.0.1", "port": server.port, "user": "root",
                                 "passwd": server.conf()["password"]}, server_id=7777, report_slave="other",
                                blocking=True)
    threading.Thread(target=stream.fetchone, daemon=True).start()
    try:
        wait_for_replica(server, 7777)
        with pytest.raises(SourceNotReady, match="server-id 7777 is used by another replica"):
            check(server, username=user, **{"server-id": "7777"})
        check(server, username=user, **{"server-id": "7778"})
        check(server, **{"server-id": "7777"})  # root's own reader: a previous run of this job
    finally:
        stream.close()


def wait_for_replica(server, server_id: int) -> None:
    deadline = time.monotonic() + 10
    while not any(row[0] == server_id for row in server.execute("SHOW SLAVE HOSTS")):
        assert time.monotonic() < deadline, "the replica did not register"
        time.sleep(0.05)


def purge(server, last: str) -> None:
    """PURGE BINARY LOGS TO ``last``, waiting for InnoDB's binlog checkpoint to release them."""
    deadline = time.monotonic() + 20
    while server.execute("SHOW BINARY LOGS")[0][0] != last:
        assert time.monotonic() < deadline, server.execute("SHOW WARNINGS")
        server.execute(f"PURGE BINARY LOGS TO '{last}'")
        time.sleep(0.1)


def test_stored_positions(server):
    server.execute("INSERT INTO shop.orders VALUES (1)")
    server.execute("FLUSH BINARY LOGS")
    purged_gtid = server.execute("SELECT @@gtid_binlog_pos")[0][0]  # the next transaction is in a purged file
    server.execute("INSERT INTO shop.orders VALUES (2)")
    kept_gtid = server.execute("SELECT @@gtid_binlog_pos")[0][0]  # the next one is in the kept file
    server.execute("FLUSH BINARY LOGS")
    server.execute("INSERT INTO shop.orders VALUES (3)")
    logs = [row[0] for row in server.execute("SHOW BINARY LOGS")]
    file, pos = server.execute("SHOW MASTER STATUS")[0][:2]
    gtid = server.execute("SELECT @@gtid_binlog_pos")[0][0]
    purge(server, logs[-1])
    conn = config_for(server).connect()
    try:
        check_position(conn, BinlogPosition(file, int(pos)))
        check_position(conn, BinlogPosition(file, int(pos), gtid))
        check_position(conn, BinlogPosition(file, int(pos), kept_gtid))
        refusals = {
            BinlogPosition(logs[0], 4): f"binlog {logs[0]} was purged",
            BinlogPosition("binlog.000099", 4): "binlog binlog.000099 is not on this server",
            BinlogPosition(file, int(pos) + 1000): "beyond the end of the server's binlog",
            BinlogPosition(file, int(pos), purged_gtid): f"GTID {purged_gtid} is in purged binlogs",
            BinlogPosition(file, int(pos), "0-999-3"): "GTID 0-999-3 is not in this server's binlog",
            BinlogPosition(file, int(pos), "0-101-99999"): "GTID 0-101-99999 is not in this server's binlog",
        }
        for position, message in refusals.items():
            with pytest.raises(SourceNotReady, match=message):
                check_position(conn, position)
    finally:
        conn.close()
