"""The chaos suite's short run (marked ``chaos``; the long one is ``scripts/chaos.sh``): a sync
job on a private standalone cluster with two TaskManagers under a live workload (primary-key and
append tables, primary-key changes, multi-table transactions), TaskManagers SIGKILLed (with their
Python workers) during the snapshot and while streaming and replaced, the whole cluster killed
with kill -9 and the same submission run again without a savepoint; then the lake equals the
source row by row, the append table holds no duplicate, and the database's position is at most
three checkpoints behind the lake's (``tests/support/chaos.py``). ``CHAOS_SEED`` changes the
seeded schedule. Every process the run starts is stopped by PID (``Cluster.stop``).
"""

from __future__ import annotations

import os

import pytest

from tests.support.chaos import ChaosConfig, ChaosRun, assert_survived
from tests.support.chaos_sources import mariadb_source, postgres_source

pytestmark = [pytest.mark.slow, pytest.mark.chaos]

SEED = int(os.environ.get("CHAOS_SEED", "13"))


def test_postgres_survives_taskmanager_and_cluster_kills(postgres_server, database, tmp_path):
    config = ChaosConfig(SEED, taskmanager_kills=5, cluster_kills=1, snapshot_kills=2)
    result = ChaosRun(postgres_source(postgres_server, database), str(tmp_path), config).run()
    print(result)
    assert_survived(result)


def test_mariadb_survives_taskmanager_and_cluster_kills(mariadb_server, mysql_database, tmp_path):
    config = ChaosConfig(SEED, taskmanager_kills=2, cluster_kills=1, snapshot_kills=1)
    result = ChaosRun(mariadb_source(mariadb_server, mysql_database), str(tmp_path), config).run()
    print(result)
    assert_survived(result)
