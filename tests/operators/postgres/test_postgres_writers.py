"""Two writers on one lake table, live: a postgres_sync_database job writing while `paimon-cdc
compact` runs again and again beside it, and two postgres_sync_table jobs (two source databases)
writing one fixed-bucket lake table with disjoint keys. The end state must equal the source row by
row, read by paimon_py, pypaimon and Paimon Java; every retained snapshot must be readable with
all its files present; every conflict is either retried (the compaction commits, or the job's own
compaction is discarded and the job restarts once) or reported in one line.
"""

from __future__ import annotations

import random
import threading
import time

import psycopg2
import pyarrow as pa
import pytest

import paimon_py
from tests.support import helpers, java_tool
from tests.support.jobs import Job, lake_rows, wait_rows_equal
from tests.support.console_lake import console
from tests.support.postgres import conf_args, fresh_database, source_rows

pytestmark = pytest.mark.slow

LAKE_SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("v", pa.string()),
                         pa.field("n", pa.int32())])
TABLES = {
    # the job compacts (dynamic buckets): an external compaction may make the job's obsolete
    "t_dyn": {},
    # the job compacts at every commit (deletion vectors): the same, more often
    "t_dv": {"bucket": "2", "deletion-vectors.enabled": "true"},
    # the job only writes; `compact` is its dedicated compaction, as Paimon recommends
    "t_fixed": {"bucket": "2", "write-only": "true"},
}
COMPACT_EVERY_ROUND = {"t_fixed"}
"""Compacted every round; the tables the job compacts too only twice (each conflict the job loses
costs a restart of the job, and restarts are bounded by the restart strategy)."""


def create_source(pg, database: str, tables, first_ids: dict[str, int]) -> None:
    for table in tables:
        pg.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, v text, n int)", database=database)
        first = first_ids.get(table, 0)
        pg.execute(f"INSERT INTO {table} SELECT g, 'v' || g, g % 17 FROM generate_series({first}, {first + 299}) g",
                   database=database)


def create_lake_tables(warehouse: str, options: dict[str, dict[str, str]]) -> None:
    """The lake tables made beforehand with their options (the jobs write existing tables)."""
    catalog = paimon_py.CatalogFactory.create({"warehouse": warehouse})
    catalog.create_database("lake", ignore_if_exists=True)
    for name, table_options in options.items():
        catalog.create_table(f"lake.{name}", paimon_py.Schema.from_pyarrow_schema(
            LAKE_SCHEMA, primary_keys=["id"], options=table_options))


class Workload(threading.Thread):
    """Small transactions (inserts, updates, deletes) on the given tables until stopped."""

    def __init__(self, dsn: str, tables: dict[str, range], seed: int):
        super().__init__(daemon=True)
        self.dsn, self.tables, self.random = dsn, tables, random.Random(seed)
        self.stopped = threading.Event()
        self.transactions = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            conn = psycopg2.connect(self.dsn)
            try:
                while not self.stopped.is_set():
                    with conn, conn.cursor() as cur:
                        self.transaction(cur)
                    self.transactions += 1
                    time.sleep(0.02)
            finally:
                conn.close()
        except BaseException as error:  # the test reports it
            self.error = error

    def transaction(self, cur) -> None:
        table = self.random.choice(list(self.tables))
        ids = self.tables[table]
        new = self.random.randrange(ids.start, ids.stop)
        cur.execute(f"INSERT INTO {table} SELECT g, 'w' || g, g %% 5 FROM generate_series(%s, %s) g "
                    f"ON CONFLICT (id) DO UPDATE SET v = excluded.v || '+'", (new, min(new + 9, ids.stop - 1)))
        cur.execute(f"UPDATE {table} SET n = n + 1, v = v || '.' WHERE id BETWEEN %s AND %s",
                    (self.random.randrange(ids.start, ids.stop), self.random.randrange(ids.start, ids.stop)))
        cur.execute(f"DELETE FROM {table} WHERE id = ANY(%s)",
                    ([self.random.randrange(ids.start, ids.stop) for _ in range(3)],))

    def finish(self) -> None:
        self.stopped.set()
        self.join(60)
        assert self.error is None, f"the workload failed: {self.error!r}"


def compact(capsys, warehouse: str, table: str) -> bool:
    """``paimon-cdc compact`` beside the jobs: it committed (after retrying conflicts, maybe), or
    it said in one line why not (it gave up after conflicting attempts); returns whether it committed."""
    run = console(capsys, "compact", "--warehouse", warehouse, f"lake.{table}")
    if run.code == 0:
        return True
    lines = run.stderr.strip().splitlines()
    assert run.code == 2 and len(lines) == 1 and "gave up after" in lines[0], run.stderr[-3000:]
    assert lines[0].startswith("error: ") and " — " in lines[0] and "Traceback" not in run.stderr
    return False


def read_all(warehouse: str, names) -> dict[str, dict[str, list[dict]]]:
    """Each ``lake.<name>`` read by paimon_py, pypaimon and Paimon Java (one JVM), in one rendering."""
    catalog = paimon_py.CatalogFactory.create({"warehouse": warehouse})
    batch = java_tool.Batch()
    java = {name: batch.read(warehouse, f"lake.{name}") for name in names}
    java_rows = batch.run()
    out = {}
    for name in names:
        read = catalog.get_table(f"lake.{name}").new_read_builder()
        ours = java_tool.render_table(read.new_read().to_arrow(read.new_scan().plan().splits()))
        theirs = java_tool.render_rows(lake_rows(warehouse, f"lake.{name}", ["id"]), LAKE_SCHEMA)
        out[name] = {"paimon_py": java_tool.canonical(ours), "pypaimon": java_tool.canonical(theirs),
                     "java": java_tool.canonical(java_tool.as_rows(java_rows[java[name]]))}
    return out


def discarded_compactions(job: Job) -> int:
    """The compactions of the job its committer discarded (each followed by one restart)."""
    return sum("WARN" in line and "was discarded: " in line for line in job.operator_log().splitlines())


class Sources:
    """The source rows of each lake table: ``t_fixed`` is written from two databases."""

    def __init__(self, pg, databases: dict[str, list[str]]):
        self.pg, self.databases = pg, databases

    def rows(self, name: str) -> list[dict]:
        rows = [r for database in self.databases[name] for r in source_rows(self.pg, database, name, ["id"])]
        return sorted(rows, key=lambda r: r["id"])

    def rendered(self, name: str) -> list[dict]:
        return java_tool.canonical(java_tool.render_rows(self.rows(name), LAKE_SCHEMA))

    def wait_synced(self, warehouse: str, jobs: list[Job]) -> None:
        for name in self.databases:
            for job in jobs:  # either job ending fails the wait
                wait_rows_equal(lambda: self.rows(name), lambda: lake_rows(warehouse, f"lake.{name}", ["id"]),
                                f"lake.{name}", job, 240)


SECOND_IDS = range(100_000, 101_500)
"""The keys of ``t_fixed`` in the second database: disjoint from the first's."""


def test_compact_again_and_again_beside_two_live_sync_jobs(postgres_server, database, tmp_path, capsys):
    """postgres_sync_database writes the three tables; postgres_sync_table writes ``t_fixed`` too,
    from a second database with disjoint keys; `paimon-cdc compact` runs beside both."""
    warehouse = str(tmp_path / "lake")
    create_source(postgres_server, database, TABLES, {})
    create_lake_tables(warehouse, TABLES)
    with fresh_database(postgres_server, database + "_2") as second:
        create_source(postgres_server, second, ["t_fixed"], {"t_fixed": SECOND_IDS.start})
        sources = Sources(postgres_server, {"t_dyn": [database], "t_dv": [database], "t_fixed": [database, second]})
        jobs = [Job("postgres_sync_database", ["--warehouse", warehouse, "--database", "lake",
                                               *conf_args(postgres_server, database, slot="lake1")],
                    str(tmp_path / "job1.log")),
                Job("postgres_sync_table", ["--warehouse", warehouse, "--database", "lake", "--table", "t_fixed",
                                            *conf_args(postgres_server, second, slot="lake2",
                                                       **{"table-name": "t_fixed"})],
                    str(tmp_path / "job2.log"))]
        workloads = [Workload(postgres_server.dsn_for(database), {t: range(0, 1500) for t in TABLES}, seed=13),
                     Workload(postgres_server.dsn_for(second), {"t_fixed": SECOND_IDS}, seed=14)]
        outcomes: dict[str, list[bool]] = {t: [] for t in TABLES}
        started = time.monotonic()
        try:
            sources.wait_synced(warehouse, jobs)
            synced = time.monotonic()
            for workload in workloads:
                workload.start()
            for round_ in range(4):
                for name in TABLES:
                    if name in COMPACT_EVERY_ROUND or round_ in (1, 3):
                        outcomes[name].append(compact(capsys, warehouse, name))
                time.sleep(1)
            for workload in workloads:
                workload.finish()
            sources.wait_synced(warehouse, jobs)
            caught_up = time.monotonic()
            for name in TABLES:  # a final compaction, then every reader agrees with the sources
                assert compact(capsys, warehouse, name)
            sources.wait_synced(warehouse, jobs)
            discarded = [discarded_compactions(job) for job in jobs]
            done = time.monotonic()
        finally:
            for workload in workloads:
                workload.stopped.set()
            for job in jobs:
                job.stop()
        expected = {name: sources.rendered(name) for name in TABLES}
    for name, reads in read_all(warehouse, list(TABLES)).items():
        assert reads == {"paimon_py": expected[name], "pypaimon": expected[name], "java": expected[name]}, name
        helpers.read_every_retained_snapshot(paimon_py.CatalogFactory.create({"warehouse": warehouse})
                                             .get_table(f"lake.{name}"))
    assert all(outcomes["t_fixed"]), outcomes  # no job compacts it: nothing to conflict with
    assert discarded[1] == 0 and discarded[0] <= 2 * 2, discarded  # at most one per external compaction it lost to
    print(f"{[w.transactions for w in workloads]} transactions; compactions committed: "
          f"{ {t: sum(o) for t, o in outcomes.items()} } of { {t: len(o) for t, o in outcomes.items()} }; "
          f"the jobs' compactions discarded (one restart each): {discarded}; start {synced - started:.0f} s, "
          f"workload {caught_up - synced:.0f} s, final compaction {done - caught_up:.0f} s")
