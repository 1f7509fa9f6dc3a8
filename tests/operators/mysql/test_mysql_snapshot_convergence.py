"""Rows that change while the snapshot is read, and tables created while the job runs, converge
exactly: small chunks read slowly while a seeded random workload updates, moves keys (to chunks
already read and to chunks still to read), deletes and inserts in a numeric-key table (the exact
per-chunk filter) and in a text-key table whose collation orders keys unlike Python (the
converging replay of ``operators/mysql/snapshot_progress.py``); meanwhile tables are created with
their rows in the same statement (CREATE ... SELECT) or inserted right after. Then the lake must
equal the source row by row.
"""

from __future__ import annotations

import glob
import json
import os
import random
import time

import pytest

from tests.support.jobs import Job, lake_rows
from tests.support.mariadb import mysql_conf_args, wait_equal

pytestmark = pytest.mark.slow

PREFIXES = ["a", "B", "é", "Z", "ß", "_"]
"""Text key prefixes the table's utf8mb4_general_ci orders unlike Python (B < é < Z < ß; _ first)."""
NUMS, TEXTS = 3000, 1500


def phase(warehouse: str) -> str | None:
    """The published position's phase (``snapshot`` or ``stream``), None before the first."""
    files = glob.glob(os.path.join(warehouse, ".cdc-positions", "*.json"))
    if not files:
        return None
    with open(files[0]) as f:
        return json.load(f)["state"]["phase"]


def create_tables(server, database: str) -> None:
    server.execute("CREATE TABLE nums (id BIGINT PRIMARY KEY, v INT, note VARCHAR(40))", database=database)
    server.execute("INSERT INTO nums SELECT seq * 10, seq, CONCAT('n', seq) FROM seq_1_to_%d" % NUMS,
                   database=database)
    server.execute("CREATE TABLE texts (k VARCHAR(20) PRIMARY KEY, v INT) "
                   "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci", database=database)
    rows = ", ".join(f"('{PREFIXES[i % 6]}{i:05d}', {i})" for i in range(TEXTS))
    server.execute(f"INSERT INTO texts VALUES {rows}", database=database)


class Workload:
    """Seeded random changes of ``nums`` and ``texts``, one round at a time."""

    def __init__(self, server, database: str, seed: int):
        self.conn = server.connect(database, charset="utf8mb4")
        self.random = random.Random(seed)
        self.next_num = NUMS * 10 + 1
        self.next_text = TEXTS

    def round(self) -> None:
        with self.conn.cursor() as cur:
            self.conn.begin()
            for _ in range(self.random.randint(2, 6)):
                self._num_change(cur)
                self._text_change(cur)
            self.conn.commit()

    def _num_change(self, cur) -> None:
        r, some = self.random.random(), self.random.randrange(1, NUMS * 10 + 500)
        if r < 0.4:
            cur.execute("UPDATE nums SET v = v + 1, note = %s WHERE id BETWEEN %s AND %s",
                        (f"u{some}", some, some + 30))
        elif r < 0.6:  # the key moves anywhere: to a chunk read already, or one still to read
            cur.execute("UPDATE IGNORE nums SET id = %s WHERE id >= %s ORDER BY id LIMIT 1",
                        (self.random.randrange(1, NUMS * 10 + 2000) * 10 + 3, some))
        elif r < 0.8:
            cur.execute("DELETE FROM nums WHERE id >= %s ORDER BY id LIMIT 2", (some,))
        else:
            cur.execute("INSERT IGNORE INTO nums VALUES (%s, 0, 'gap'), (%s, 0, 'end')",
                        (some * 10 + 7, self.next_num))
            self.next_num += 1

    def _text_change(self, cur) -> None:
        r, i = self.random.random(), self.random.randrange(TEXTS + 200)
        key = f"{PREFIXES[i % 6]}{i:05d}"
        if r < 0.4:
            cur.execute("UPDATE texts SET v = v + 100 WHERE k >= %s ORDER BY k LIMIT 3", (key,))
        elif r < 0.6:
            cur.execute("UPDATE IGNORE texts SET k = %s WHERE k >= %s ORDER BY k LIMIT 1",
                        (f"{self.random.choice(PREFIXES)}{self.next_text:05d}m", key))
            self.next_text += 1
        elif r < 0.8:
            cur.execute("DELETE FROM texts WHERE k >= %s ORDER BY k LIMIT 1", (key,))
        else:
            cur.execute("INSERT IGNORE INTO texts VALUES (%s, -1)", (f"{self.random.choice(PREFIXES)}"
                                                                    f"{self.next_text:05d}",))
            self.next_text += 1

    def close(self) -> None:
        self.conn.close()


def create_late_tables(server, database: str, which: int) -> None:
    """A table with its rows in the same statement, and one with rows right after its CREATE."""
    server.execute(f"CREATE TABLE late_ctas{which} (id INT PRIMARY KEY, v INT) "
                   f"SELECT seq AS id, seq * 2 AS v FROM seq_1_to_300", database=database)
    server.execute(f"CREATE TABLE late{which} (id INT PRIMARY KEY, t VARCHAR(10))", database=database)
    server.execute(f"INSERT INTO late{which} SELECT seq, CONCAT('t', seq) FROM seq_1_to_50", database=database)
    server.execute(f"UPDATE late_ctas{which} SET v = -v WHERE id % 7 = 0", database=database)


def test_changes_during_the_snapshot_and_new_tables_converge(mariadb_server, mysql_database, tmp_path):
    server, database, warehouse = mariadb_server, mysql_database, str(tmp_path / "lake")
    create_tables(server, database)
    job = Job("mysql_sync_database", ["--warehouse", warehouse, "--database", "lake", "--ticks_per_second", "3",
                                      *mysql_conf_args(server, database,
                                                       **{"scan.incremental.snapshot.chunk.size": "150"})],
              str(tmp_path / "job.log"))
    workload = Workload(server, database, seed=20240601)
    during_snapshot = 0
    try:
        while phase(warehouse) != "stream":  # the workload runs while the snapshot is read
            assert job.process.poll() is None, job.output()
            workload.round()
            time.sleep(0.3)  # a pace the slow snapshot keeps up with
            if phase(warehouse) == "snapshot" and lake_rows(warehouse, "lake.nums", ["id"]):
                during_snapshot += 1
                if during_snapshot == 5:
                    create_late_tables(server, database, 1)
        create_late_tables(server, database, 2)
        for _ in range(20):
            workload.round()
    finally:
        workload.close()
    try:
        assert during_snapshot >= 10, f"only {during_snapshot} rounds overlapped the snapshot"
        wait_equal(server, database, warehouse, "nums", "lake.nums", ["id"], job, timeout=180)
        wait_equal(server, database, warehouse, "texts", "lake.texts", ["k"], job)
        for table in ("late_ctas1", "late1", "late_ctas2", "late2"):
            wait_equal(server, database, warehouse, table, f"lake.{table}", ["id"], job)
    finally:
        job.stop()
