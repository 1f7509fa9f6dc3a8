"""Bad input to the MySQL sync jobs, as a new user would give it: each case ends with exit code 2
and one line ``error: <what> — <how to fix>`` on stderr (no traceback), and nothing is created in
the lake. Private MariaDB servers, started and stopped by this module (one per wrong server
setting), so no test changes a server another test uses.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from operators.mysql.local_server import LocalMariaDB
from tests.support.jobs import Case, assert_refused
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

DATABASE = "shop"


def _shop(server: LocalMariaDB) -> LocalMariaDB:
    server.execute(f"CREATE DATABASE {DATABASE}")
    server.execute("CREATE TABLE orders (id BIGINT PRIMARY KEY, v INT, note TEXT)", database=DATABASE)
    server.execute("CREATE TABLE events (at DATETIME, message TEXT)", database=DATABASE)
    return server


@pytest.fixture(scope="module")
def my():
    server = _shop(LocalMariaDB().start())
    server.execute("CREATE USER 'reader'@'%' IDENTIFIED BY 'pw'")
    server.execute(f"GRANT SELECT ON {DATABASE}.* TO 'reader'@'%'")
    yield server
    server.stop()


CASES = {
    "unknown source option": Case("mysql_sync_database", [], {"server-idd": "5"},
                                  "server-idd is not a --mysql_conf option — known: hostname, port, "),
    "bad startup mode": Case("mysql_sync_database", [], {"scan.startup.mode": "earliest"},
                             "scan.startup.mode=earliest is unknown — use one of initial, latest-offset, earliest-offset"),
    "offset without a position": Case("mysql_sync_database", [], {"scan.startup.mode": "specific-offset"},
                                      "scan.startup.mode=specific-offset needs a position — set "
                                      "scan.startup.specific-offset.file and .pos, or .gtid-set"),
    "bad chunk size": Case("mysql_sync_database", [], {"scan.incremental.snapshot.chunk.size": "many"},
                           "scan.incremental.snapshot.chunk.size=many is not an integer — give a whole number"),
    "unreadable password file": Case("mysql_sync_database", [], {"password": "", "password.file": "/nonexistent/secret-file"},
                                     "password.file=/nonexistent/secret-file cannot be read (No such file or directory) — "
                                     "name a readable file whose first line is the password"),
    "bad type mapping": Case("mysql_sync_database", ["--type_mapping", "to-nullable,tinyint1-not-boo"], {},
                             "--type_mapping tinyint1-not-boo: unknown — use one of tinyint1-not-bool"),
    "bad merge_shards": Case("mysql_sync_database", ["--merge_shards", "yes"], {},
                             "argument --merge_shards: invalid choice: 'yes' (choose from 'true', 'false') — see "
                             "mysql_sync_database --help"),
    "refused connection": Case("mysql_sync_database", [], {"port": "1"},
                               "— check hostname and port in --mysql_conf, and that the server runs"),
    "wrong password": Case("mysql_sync_database", [], {"password": "wrong"},
                           "Access denied for user 'root'@'127.0.0.1' (using password: YES)) — check username and "
                           "password in --mysql_conf"),
    "missing privilege": Case("mysql_sync_database", [], {"username": "reader", "password": "pw"},
                              "user reader lacks the REPLICATION SLAVE privilege — GRANT REPLICATION SLAVE ON *.* TO "
                              "'reader'@'<host>'"),
    "no primary key": Case("mysql_sync_table", ["--table", "ev"], {"table-name": "events"},
                           "source table shop.events has no primary key — pass --primary_keys"),
    "no table matches": Case("mysql_sync_table", ["--table", "t"], {"table-name": "nope"},
                              "no table matches database-name=shop table-name=nope — check the --mysql_conf patterns"),
    "bad table option": Case("mysql_sync_database", ["--table_conf", "merge-engine=newest"], {},
                             "table lake.events: merge-engine=newest is unknown — use one of deduplicate, partial-update, "
                             "aggregation, first-row"),
}


def run(server: LocalMariaDB, case: Case, warehouse: str) -> subprocess.CompletedProcess:
    conf = {**server.conf(DATABASE), **case.conf}
    args = [a for k, v in conf.items() for a in ("--mysql_conf", f"{k}={v}")]
    return subprocess.run([sys.executable, os.path.join(ROOT, "jobs", f"{case.job}.py"), "--warehouse", warehouse,
                           "--database", "lake", *case.flags, *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PAIMON_CDC_LOG_DIR": os.path.dirname(warehouse)})


def assert_nothing_created(warehouse: str) -> None:
    entries = os.listdir(warehouse) if os.path.isdir(warehouse) else []
    assert not [d for d in entries if d.endswith(".db")], entries


@pytest.mark.parametrize("name", list(CASES))
def test_refused_with_one_line_and_nothing_created(my, tmp_path, name):
    case = CASES[name]
    warehouse = str(tmp_path / "lake")
    result = run(my, case, warehouse)
    assert_refused(result, case.expected)
    assert_nothing_created(warehouse)
    assert not re.search(r"\bpw\b|mariadb-root", result.stdout + result.stderr), "a password was shown"


SERVER_SETTINGS = {
    "binary logging off": ({"log-bin": None}, "binary logging is off (log_bin=OFF) — start the server with log_bin=binlog"),
    "statement-based binlog": ({"binlog-format": "STATEMENT"},
                               "binlog_format=STATEMENT: the source needs ROW — SET GLOBAL binlog_format=ROW"),
    "minimal row image": ({"binlog-row-image": "MINIMAL"},
                          "binlog_row_image=MINIMAL: the source needs FULL — SET GLOBAL binlog_row_image=FULL"),
    "row metadata not full": ({"binlog-row-metadata": "MINIMAL"},
                              "binlog_row_metadata=MINIMAL: the source needs FULL — SET GLOBAL binlog_row_metadata=FULL"),
    "compressed binlog": ({"log-bin-compress": "ON"},
                          "log_bin_compress=ON: the source needs OFF — SET GLOBAL log_bin_compress=OFF"),
}


@pytest.mark.parametrize("name", list(SERVER_SETTINGS))
def test_a_server_not_set_up_for_cdc(tmp_path, name):
    settings, expected = SERVER_SETTINGS[name]
    with LocalMariaDB(settings=settings) as server:
        _shop(server)
        warehouse = str(tmp_path / "lake")
        result = run(server, Case("mysql_sync_database", []), warehouse)
        assert_refused(result, expected)
        assert_nothing_created(warehouse)
