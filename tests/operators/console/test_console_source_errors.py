"""``verify`` and ``positions`` refuse bad source flags and unreachable servers with one line and
exit code 2 (no server is started: the ports are closed)."""

from __future__ import annotations

import pytest

from tests.support.helpers import paimon_py_catalog
from tests.support.jobs import assert_refused
from tests.support.paimon_cdc import run_console

CLOSED = ["hostname=127.0.0.1", "port=1", "username=u", "password=secret-word"]


def flags(option: str, pairs: list[str]) -> list[str]:
    return [item for pair in pairs for item in (option, pair)]


@pytest.mark.parametrize("source, expected", [
    (flags("--postgres_conf", CLOSED + ["database-name=shop", "slot.name=lake"]), "cannot connect to PostgreSQL"),
    (flags("--mysql_conf", CLOSED + ["database-name=shop"]), "cannot connect to the server at 127.0.0.1:1"),
    (flags("--postgres_conf", CLOSED + ["database-name=shop"]), "slot.name"),
    (flags("--mysql_conf", CLOSED + ["database-name=shop", "port=x"]), "port=x"),
    (flags("--postgres_conf", ["hostname=h"]) + flags("--mysql_conf", ["hostname=h"]), "not allowed with"),
])
def test_verify_refuses_in_one_line(tmp_path, source, expected):
    paimon_py_catalog(tmp_path).create_database("lake")
    run = run_console("verify", "--warehouse", str(tmp_path), "--database", "lake", *source)
    assert_refused(run, expected)
    assert "secret-word" not in run.stderr + run.stdout


def test_verify_refuses_a_database_the_warehouse_lacks(tmp_path):
    paimon_py_catalog(tmp_path).create_database("shop")
    run = run_console("verify", "--warehouse", str(tmp_path), "--database", "lake",
                      *flags("--mysql_conf", CLOSED + ["database-name=shop"]))
    assert_refused(run, "database 'lake' does not exist in the warehouse — it has: shop")


def test_positions_of_a_warehouse_without_any(tmp_path):
    run = run_console("positions", "--json", "--warehouse", str(tmp_path))
    assert (run.returncode, run.json()) == (0, [])
