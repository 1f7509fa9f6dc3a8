"""Every mapped MySQL/MariaDB type through the real sync job into the lake, read back with pypaimon
(``tests/support/mysql_type_cases.py``: the cases and the values the lake must show, by hand).

Three jobs capture the same table at once, each into its own warehouse: the default mapping
(the server's time zone), every ``--type_mapping`` option that changes a type but ``to-string``
(``server-time-zone=+09:00``), and ``to-string`` (``server-time-zone=Asia/Tokyo``). Rows of
templates A, B and N (NULLs) are read by the snapshot; the same templates are then inserted, and a
snapshot row updated to A, while the jobs stream the binlog. The lake must equal the hand-written
values column by column, its schema must carry the hand-written types, and the row read by the
snapshot must equal the row of the same values read from the binlog.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import time

import pytest

from tests.support.jobs import Job, lake_rows
from tests.support.mariadb import mysql_conf_args
from tests.support.mysql_type_cases import COLUMNS, OPTIONS, A, B, N, expected, literal, paimon_type

pytestmark = pytest.mark.slow

TIMEOUT = 150.0
MAPPINGS = {  # mapping -> (server-id, server-time-zone or None for the server's)
    "default": ("6101", None),
    OPTIONS: ("6102", "+09:00"),
    "to-string": ("6103", "Asia/Tokyo"),
}
SNAPSHOT = {1: A, 2: B, 3: N, 4: B}
STREAMED = {1: A, 2: B, 3: N, 4: A, 11: A, 12: B, 13: N}
SAME_VALUES = [(1, 11), (1, 4), (2, 12), (3, 13)]
"""Rows with the same values, one read by the snapshot, the other from the binlog."""


def run(server, database: str, sql: str) -> None:
    """``sql`` in a ``+00:00`` session (TIMESTAMP literals are UTC instants)."""
    conn = server.connect(database, charset="utf8mb4")
    try:
        with conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
            cur.execute(sql)
    finally:
        conn.close()


def insert(server, database: str, rows: dict[int, int]) -> None:
    values = ", ".join(f"({i}, {', '.join(literal(c, t) for c in COLUMNS)})" for i, t in rows.items())
    run(server, database, f"INSERT INTO all_types (id, {', '.join(c.name for c in COLUMNS)}) VALUES {values}")


def update(server, database: str, row_id: int, template: int) -> None:
    assignments = ", ".join(f"{c.name} = {literal(c, template)}" for c in COLUMNS)
    run(server, database, f"UPDATE all_types SET {assignments} WHERE id = {row_id}")


def server_offset(server) -> dt.timedelta:
    return dt.timedelta(seconds=int(server.execute("SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), NOW())")[0][0]))


def expected_rows(templates: dict[int, int], mapping: str, offset: dt.timedelta) -> list[dict]:
    key = (lambda i: str(i)) if mapping == "to-string" else (lambda i: i)
    return [{"id": key(i), **{c.name: expected(c, t, mapping, offset) for c in COLUMNS}}
            for i, t in sorted(templates.items())]


def _same(got, want) -> bool:
    return type(got) is type(want) and got == want and not (isinstance(got, dt.datetime) and got.tzinfo)


def differences(lake: list[dict], want: list[dict]) -> list[str]:
    if [r["id"] for r in lake] != [r["id"] for r in want]:
        return [f"ids {[r['id'] for r in lake]} != {[r['id'] for r in want]}"]
    return [f"id {w['id']} {name}: {str(got.get(name))[:80]!r} != {str(value)[:80]!r}"
            for got, w in zip(lake, want) for name, value in w.items() if not _same(got.get(name), value)]


def wait_lake(jobs: dict, warehouses: dict, templates: dict[int, int], offsets: dict, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    for mapping, job in jobs.items():
        want = expected_rows(templates, mapping, offsets[mapping])
        while True:
            lake = sorted(lake_rows(warehouses[mapping], "lake.all_types", ["id"]), key=lambda r: int(r["id"]))
            problems = differences(lake, want)
            if not problems:
                break
            if job.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what}, {mapping}: {problems[:8]}\n{job.output()}")
            time.sleep(1.0)


def schema_types(warehouse: str) -> dict:
    files = glob.glob(os.path.join(warehouse, "lake.db", "all_types", "schema", "schema-*"))
    with open(max(files, key=lambda f: int(f.rsplit("-", 1)[1]))) as f:
        return {field["name"]: field["type"] for field in json.load(f)["fields"]}


def start_jobs(server, database: str, tmp_path, warehouses: dict) -> dict:
    jobs = {}
    for mapping, (server_id, zone) in MAPPINGS.items():
        conf = {"server-id": server_id, **({"server-time-zone": zone} if zone else {})}
        args = ["--warehouse", warehouses[mapping], "--database", "lake",
                *mysql_conf_args(server, database, **conf)]
        if mapping != "default":
            args += ["--type_mapping", mapping]
        jobs[mapping] = Job("mysql_sync_database", args, str(tmp_path / f"{len(jobs)}.log"))
    return jobs


def test_every_type_round_trips_from_snapshot_and_binlog(mariadb_server, mysql_database, tmp_path):
    server, database = mariadb_server, mysql_database
    columns = ", ".join(f"{c.name} {c.sql}" for c in COLUMNS)
    run(server, database, f"CREATE TABLE all_types (id INT PRIMARY KEY, {columns}) DEFAULT CHARSET=utf8mb4")
    insert(server, database, SNAPSHOT)
    warehouses = {m: str(tmp_path / f"lake{i}") for i, m in enumerate(MAPPINGS)}
    offsets = {"default": server_offset(server), OPTIONS: dt.timedelta(hours=9), "to-string": dt.timedelta(hours=9)}
    jobs = start_jobs(server, database, tmp_path, warehouses)
    try:
        wait_lake(jobs, warehouses, SNAPSHOT, offsets, "the snapshot")
        insert(server, database, {i: t for i, t in STREAMED.items() if i > 10})
        update(server, database, 4, A)
        wait_lake(jobs, warehouses, STREAMED, offsets, "the binlog")
    finally:
        for job in jobs.values():
            job.stop()
    for mapping, warehouse in warehouses.items():
        types = schema_types(warehouse)
        assert types.pop("id") == ("STRING NOT NULL" if mapping == "to-string" else "INT NOT NULL")
        assert types == {c.name: paimon_type(c, mapping) for c in COLUMNS}, mapping
        rows = {int(r["id"]): {k: v for k, v in r.items() if k != "id"}
                for r in lake_rows(warehouse, "lake.all_types", ["id"])}
        for snapshot_id, binlog_id in SAME_VALUES:
            assert rows[snapshot_id] == rows[binlog_id], (mapping, snapshot_id, binlog_id)
