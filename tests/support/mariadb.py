"""Helpers of the MySQL/MariaDB tests: a fresh database on the session's private MariaDB
(``fresh_mysql_database``, behind the ``mysql_database`` fixture of tests/conftest.py) and the
job's ``--mysql_conf`` flags (``mysql_conf_args``).

The server is ``operators.mysql.local_server.LocalMariaDB`` (fixture ``mariadb_server``).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

from operators.mysql.local_server import LocalMariaDB


def mysql_database_name(test_name: str) -> str:
    """A database name for a test: ``t_`` and the test's name, shortened to MariaDB's 64."""
    return ("t_" + re.sub(r"[^a-z0-9_]", "_", test_name.lower()))[:64]


@contextmanager
def fresh_mysql_database(server: LocalMariaDB, name: str) -> Iterator[str]:
    server.execute(f"DROP DATABASE IF EXISTS `{name}`")
    server.execute(f"CREATE DATABASE `{name}`")
    try:
        yield name
    finally:
        server.execute(f"DROP DATABASE IF EXISTS `{name}`")


def mysql_conf_args(server: LocalMariaDB, database: str, **extra: str) -> list[str]:
    conf = {**server.conf(database), **extra}
    out = []
    for key, value in conf.items():
        out += ["--mysql_conf", f"{key}={value}"]
    return out
