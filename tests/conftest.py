"""Fixtures shared by the tests (support code lives in ``tests/support/``).

* ``postgres_server``: the session's one private PostgreSQL server (``LocalPostgres``, started
  the first time a test asks for it, stopped by PID at the end of the session). Server-wide
  state (slots, publications, roles) outlives a test: drop what you create or use unique names.
* ``database``: a fresh database on ``postgres_server`` for one test, dropped afterwards with
  its replication slots.
* ``mariadb_server``: the session's one private MariaDB server (``LocalMariaDB``, binlog in ROW
  format with full metadata), started lazily, stopped by PID at the end of the session.
* ``mysql_database``: a fresh database on ``mariadb_server`` for one test, dropped afterwards.
* ``cluster``: a private standalone Flink cluster with 2 slots for one test, stopped by PID.
* ``warehouse``: a fresh warehouse directory (under pytest's ``tmp_path``).
* ``pp_catalog`` / ``ppy_catalog``: a paimon_py catalog and a pypaimon catalog over that same
  warehouse, so a table written by one is read by the other.
* ``read_sorted``: reads a table object of either library into a pyarrow Table sorted by keys.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from operators.mysql.local_server import LocalMariaDB
from operators.postgres.local_server import LocalPostgres
from tests.support import helpers
from tests.support.flink_standalone import Cluster
from tests.support.mariadb import fresh_mysql_database, mysql_database_name
from tests.support.postgres import database_name, fresh_database

# Timing-based health checks and deadlines fail on a loaded 2-core machine without any defect.
settings.register_profile("project", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("project")


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse"
    path.mkdir()
    return path


@pytest.fixture
def pp_catalog(warehouse):
    """paimon_py's filesystem catalog over ``warehouse``."""
    return helpers.paimon_py_catalog(warehouse)


@pytest.fixture
def ppy_catalog(warehouse):
    """pypaimon's filesystem catalog over ``warehouse`` (the reference implementation)."""
    return helpers.pypaimon_catalog(warehouse)


@pytest.fixture
def open_catalogs(warehouse):
    """``open_catalogs()`` -> (paimon_py catalog, pypaimon catalog), freshly created.

    Use it to re-open the catalogs after the other library changed the table, so no cached
    table object hides what is on disk.
    """
    def _open():
        return helpers.paimon_py_catalog(warehouse), helpers.pypaimon_catalog(warehouse)
    return _open


@pytest.fixture
def read_sorted():
    return helpers.read_sorted


@pytest.fixture(scope="session")
def postgres_server():
    """One ``LocalPostgres`` (wal_level=logical) for the whole session, started lazily."""
    server = LocalPostgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def database(postgres_server, request):
    """The name of an empty database on ``postgres_server`` for this test only (``db_<test>``)."""
    with fresh_database(postgres_server, database_name(request.node.name)) as name:
        yield name


@pytest.fixture(scope="session")
def mariadb_server():
    """One ``LocalMariaDB`` (log_bin, binlog_format=ROW, binlog_row_metadata=FULL) for the whole
    session, started lazily."""
    server = LocalMariaDB().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mysql_database(mariadb_server, request):
    """The name of an empty database on ``mariadb_server`` for this test only (``t_<test>``)."""
    with fresh_mysql_database(mariadb_server, mysql_database_name(request.node.name)) as name:
        yield name


@pytest.fixture
def cluster(tmp_path):
    """A private standalone Flink cluster (2 slots) for one test; request it after the database
    fixtures, so that it (and the job it runs) stops first."""
    cluster = Cluster(str(tmp_path / "flink"), slots=2)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
