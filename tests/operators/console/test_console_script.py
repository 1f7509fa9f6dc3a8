"""``python -m operators.console.main`` as a process: exit codes, stdout, and errors as one line on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.console_lake import demo_lake
from tests.support.paths import ROOT


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return demo_lake(tmp_path_factory.mktemp("demo"))


def paimon_cdc(*argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "operators.console.main", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_success(demo):
    done = paimon_cdc("read", "--warehouse", demo, "shop.orders", "--select", "order_id", "--where", "order_id = 1",
                      "--json")
    assert (done.returncode, json.loads(done.stdout), done.stderr) == (0, [{"order_id": 1}], "")


@pytest.mark.parametrize("argv, stderr", [
    (["describe", "shop.nope"], "error: table shop.nope does not exist — shop has: orders\n"),
    (["read", "shop.orders", "--where", "order_id = = 1"],
     "error: --where: expected a value ('text', a number, TRUE or FALSE) at position 12, found '=' — e.g. --where "
     "\"amount >= 10 AND customer IN ('ada', 'bob')\"\n"),
    (["snapshots", "shop.orders", "--limit", "many"],
     "error: paimon-cdc snapshots: argument --limit: invalid positive value: 'many' — see paimon-cdc snapshots --help\n"),
])
def test_user_errors_are_one_line_and_exit_2(demo, argv, stderr):
    done = paimon_cdc(argv[0], "--warehouse", demo, *argv[1:])
    assert (done.returncode, done.stdout, done.stderr) == (2, "", stderr)
