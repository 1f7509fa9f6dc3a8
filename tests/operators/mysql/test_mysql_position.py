"""The published binlog position (``<warehouse>/.cdc-positions/*.json``, ``state.binlog``) of a
job whose captured table is quiet: changes of a table it does not capture, and no traffic at all
(heartbeats, ``heartbeat.interval=1s``, across ``FLUSH BINARY LOGS``), move it to where the
server's binlog ends, so the server could purge everything before it."""

from __future__ import annotations

import glob
import json
import os
import time

import pytest

from tests.support.jobs import Job
from tests.support.mariadb import mysql_conf_args, wait_equal
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def published(warehouse: str) -> tuple[str, int] | None:
    """The binlog (file, pos) of the job's one published position, None before the first."""
    files = glob.glob(os.path.join(warehouse, ".cdc-positions", "*.json"))
    if not files:
        return None
    assert len(files) == 1, files
    with open(files[0]) as f:
        binlog = json.load(f)["state"]["binlog"]
    return binlog["file"], int(binlog["pos"])


def server_end(server) -> tuple[str, int]:
    file, pos = server.execute("SHOW MASTER STATUS")[0][:2]
    return file, int(pos)


def file_pos(position: tuple[str, int]) -> tuple[int, int]:
    return int(position[0].rsplit(".", 1)[1]), position[1]


def wait_published(server, warehouse: str, job: Job, target, what: str) -> None:
    """Until the published position is at or past ``target`` (file, pos), or, ``target`` None,
    exactly where the server's binlog ends now."""
    def reached():
        assert job.process.poll() is None, job.output()
        now = published(warehouse)
        if now is None:
            return False
        return now == server_end(server) if target is None else file_pos(now) >= file_pos(target)
    wait_until(reached, 90, what, lambda: f"published {published(warehouse)}, server {server_end(server)}, "
                                          f"wanted {target}\n{job.output()}")


def test_quiet_captured_table_does_not_hold_the_position_back(mariadb_server, mysql_database, tmp_path):
    server, database, warehouse = mariadb_server, mysql_database, str(tmp_path / "lake")
    server.execute("CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(20))", database=database)
    server.execute("CREATE TABLE b (id INT PRIMARY KEY, v VARCHAR(20))", database=database)
    server.execute("INSERT INTO a VALUES (1, 'one'), (2, 'two')", database=database)
    job = Job("mysql_sync_database", ["--warehouse", warehouse, "--database", "lake", *mysql_conf_args(
        server, database, **{"table-name": "a", "heartbeat.interval": "1s"})], str(tmp_path / "job.log"))
    try:
        wait_equal(server, database, warehouse, "a", "lake.a", ["id"], job)
        before = published(warehouse)
        for i in range(40):  # only b changes, for a while
            server.execute(f"INSERT INTO b VALUES ({i}, 'b{i}')", database=database)
            server.execute(f"UPDATE b SET v = 'c{i}' WHERE id = {i}", database=database)
            time.sleep(0.1)
        after_b = server_end(server)
        assert before is not None and file_pos(before) < file_pos(after_b)
        wait_published(server, warehouse, job, after_b, "the position to pass b's changes")

        server.execute("FLUSH BINARY LOGS")  # a new binlog file, then no traffic at all
        wait_published(server, warehouse, job, None, "the position at the new binlog file's end")
        time.sleep(8)  # quiet for many heartbeat intervals: the job lives, the position stays current
        assert job.process.poll() is None, job.output()
        quiet = server_end(server)
        assert quiet[0] != after_b[0] and published(warehouse) == quiet
        server.execute("INSERT INTO a VALUES (3, 'three')", database=database)
        wait_equal(server, database, warehouse, "a", "lake.a", ["id"], job)
    finally:
        job.stop()
    assert not os.path.exists(os.path.join(warehouse, "lake.db", "b"))
