"""The jobs' Flink metrics, web UI and progress output, on a local mini-cluster with the session's
PostgreSQL and MariaDB servers:

* the job prints its web UI address, which serves the web UI's page; through its REST API, while
  the job runs, the reader's ``records_read`` grows with the snapshot and the stream, its lag
  reaches 0 once it has caught up, the writer has written rows, the committer has committed and
  its ``last_snapshot_id`` is the lake table's latest snapshot;
* a job whose snapshot takes a few seconds prints a start summary and progress lines (also in
  its operators' log), and its password appears in no output, log or lake file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from types import ModuleType
from typing import Callable

import pytest

from paimon_py import CatalogFactory
from tests.support import mariadb, postgres
from tests.support.flink_rest import FlinkRest
from tests.support.jobs import Job
from tests.support.postgres import conf_args, shop, wait_equal
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

READER = ["paimon_cdc.records_read", "paimon_cdc.records_read_per_second", "paimon_cdc.phase",
          "paimon_cdc.lag_bytes", "paimon_cdc.lag_ms"]
WRITER = ["paimon_cdc.rows_written", "paimon_cdc.flushes", "paimon_cdc.buffer_bytes", "paimon_cdc.max_sorted_runs"]
COMMITTER = ["paimon_cdc.commits", "paimon_cdc.last_snapshot_id", "paimon_cdc.last_commit_latency_ms"]
SECRET = "Zq8-metrics-secret-31337"


def latest_snapshot(warehouse: str, table: str) -> int:
    return CatalogFactory.create({"warehouse": warehouse}).get_table(table).snapshot_manager.latest_snapshot().id


@dataclass(frozen=True)
class Source:
    """A source's sync_table job and the helpers of its tests (``shop``, ``workload``, ``wait_equal``)."""

    job: str
    server: str
    database: str
    """The fixtures of its server and of a fresh database."""
    helpers: ModuleType
    conf_args: Callable[..., list[str]]
    conf: dict[str, str]


SOURCES = {
    "postgres": Source("postgres_sync_table", "postgres_server", "database", postgres, postgres.conf_args,
                       {"table-name": "orders", "scan.snapshot.chunk.size": "1000"}),
    "mysql": Source("mysql_sync_table", "mariadb_server", "mysql_database", mariadb, mariadb.mysql_conf_args,
                    {"table-name": "orders", "scan.incremental.snapshot.chunk.size": "1000"}),
}


@pytest.mark.parametrize("name", list(SOURCES))
def test_metrics_through_the_rest_api(name, request, tmp_path):
    source = SOURCES[name]
    server, database = request.getfixturevalue(source.server), request.getfixturevalue(source.database)
    warehouse = str(tmp_path / "lake")
    source.helpers.shop(server, database, 3000)
    args = ["--warehouse", warehouse, "--database", "lake", "--table", "orders",
            "--flink_conf", "metrics.fetcher.update-interval=500", *source.conf_args(server, database, **source.conf)]
    job = Job(source.job, args, str(tmp_path / "job.log"))

    def synced():
        source.helpers.wait_equal(server, database, warehouse, "orders", "lake.orders", ["id"], job)
    try:
        address = wait_until(job.web_ui, 60, "the web UI address", job.output)
        rest = FlinkRest(address)
        job_id = wait_until(rest.running_job, 60, "the running job", job.output)
        assert b"<html" in rest.get_bytes("/").lower(), "the web UI's page (the pip package ships its files)"
        names = READER + WRITER + COMMITTER

        def metrics_where(check, what):
            return wait_until(lambda: (lambda m: m if len(m) == len(names) and check(m) else None)(
                rest.metrics(job_id, names)), 120, what, job.output)

        synced()
        first = metrics_where(lambda m: m["paimon_cdc.records_read"] >= 3000 and m["paimon_cdc.phase"] == 1
                              and m["paimon_cdc.lag_bytes"] == 0 and m["paimon_cdc.lag_ms"] == 0,
                              "the snapshot read, streaming, caught up")
        assert first["paimon_cdc.rows_written"] >= 3000 and first["paimon_cdc.flushes"] > 0
        assert first["paimon_cdc.commits"] > 0

        source.helpers.workload(server, database, 5000)
        wait_until(lambda: rest.metrics(job_id, READER)["paimon_cdc.records_read_per_second"] > 0, 30,
                   "a rate of records read", job.output)
        synced()
        later = metrics_where(lambda m: m["paimon_cdc.records_read"] > first["paimon_cdc.records_read"]
                              and m["paimon_cdc.lag_bytes"] == 0
                              and m["paimon_cdc.last_snapshot_id"] == latest_snapshot(warehouse, "lake.orders"),
                              "streamed changes read and committed, the lake's latest snapshot in the metrics")
        assert later["paimon_cdc.rows_written"] > first["paimon_cdc.rows_written"]
        assert later["paimon_cdc.commits"] > first["paimon_cdc.commits"]
        assert later["paimon_cdc.last_commit_latency_ms"] >= 0 and later["paimon_cdc.buffer_bytes"] >= 0
    finally:
        job.stop()


def test_start_summary_progress_lines_and_no_password_anywhere(postgres_server, database, tmp_path):
    role = f"pw_{database}"[:60]
    postgres_server.execute(f"CREATE ROLE {role} LOGIN SUPERUSER REPLICATION PASSWORD '{SECRET}'")
    try:
        shop(postgres_server, database, 6000)
        warehouse = str(tmp_path / "lake")
        conf = conf_args(postgres_server, database, **{"table-name": "orders", "scan.snapshot.chunk.size": "300",
                                                       "username": role, "password": SECRET})
        args = ["--warehouse", warehouse, "--database", "lake", "--table", "orders", "--ticks_per_second", "4",
                "--table_conf", "bucket=2", *conf]
        env = {**os.environ, "PAIMON_CDC_LOG_DIR": str(tmp_path / "client-log")}
        job = Job("postgres_sync_table", args, str(tmp_path / "job.log"), env=env)
        try:
            wait_equal(postgres_server, database, warehouse, "orders", "lake.orders", ["id"], job)
            wait_until(lambda: "snapshot public.orders: done" in job.output(tail=10 ** 9), 30, "the done line",
                       job.output)
        finally:
            job.stop()
        output = job.output(tail=10 ** 9)
        assert "Syncing into 1 table(s): lake.orders" in output
        assert "  lake.orders: primary key (id), 2 fixed buckets, merge-engine deduplicate" in output
        assert re.search(r"^--postgres_conf: .*password=\*{6}", output, re.MULTILINE), output[:3000]
        progress = r"snapshot public\.orders: [\d,]+ of ~[\d,]+ rows \(\d+%\), [\d,]+ rows/s"
        assert re.search(progress, output), output[-3000:]
        assert re.search(progress, job.operator_log()), "progress lines belong in the operators' log too"
        leaks = [str(p) for p in tmp_path.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
        assert leaks == [], f"the password is written in {leaks}"
    finally:
        postgres_server.execute(f"DROP OWNED BY {role}", database=database)
        postgres_server.execute(f"DROP ROLE {role}")
