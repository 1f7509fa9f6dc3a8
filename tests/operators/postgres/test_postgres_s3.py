"""postgres_sync_database into an ``s3://`` warehouse, end to end: a private S3-compatible server
(moto in server mode, a child process), the session's PostgreSQL server, the job as a child process
with the S3 endpoint and credentials in ``--catalog_conf`` and snapshot expiration set tight
(``snapshot.num-retained.max=3``). The lake is read back through paimon_py with the same options
and compared row by row with the source; the published source position must be an object in the
bucket (nothing on local disk), the replication slot must confirm past the last change. Then, while
a workload runs, ``paimon-cdc remove-orphans`` cleans the S3 tables again and again with its safety
margin, and the job's whole process group is killed (SIGKILL) mid-stream; the same command again
must resume from the position on S3 with nothing lost or doubled, every retained snapshot must
still read back (no file a snapshot needs was removed), the expired ones must be gone, pypaimon
must read the same rows from S3 and Paimon Java from a copy of the bucket (its S3 file system is
not in the test's Paimon jar), and neither the database password nor the S3 secret key may appear
in any log.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

import pyarrow.fs as pafs
import pytest

import pypaimon

from operators.cdc.catalog import open_catalog
from operators.cdc.source_position import POSITIONS_DIRECTORY, PositionStore
from tests.support import helpers, java_tool
from tests.support.console_lake import console
from tests.support.paths import ROOT
from tests.support.s3_server import moto_server
from tests.support.postgres import (EVENTS, ORDERS, Job, conf_args, confirmed_lsn, fill, normalise, source_rows,
                                    wait_equal, workload)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

BUCKET = "lake-bucket"
WAREHOUSE = f"s3://{BUCKET}/warehouse"
SECRET_KEY = f"s3-secret-{uuid.uuid4().hex}"
DB_PASSWORD = f"pg-secret-{uuid.uuid4().hex}"


@pytest.fixture
def s3_endpoint(tmp_path):
    """``http://127.0.0.1:<port>`` of a moto S3 server (log: ``tmp_path/moto.log``)."""
    with moto_server(str(tmp_path / "moto.log")) as endpoint:
        yield endpoint


def s3_options(endpoint: str) -> dict[str, str]:
    return {"warehouse": WAREHOUSE, "s3.endpoint": endpoint, "s3.access-key": "lake-user",
            "s3.secret-key": SECRET_KEY, "s3.region": "us-east-1"}


def lake_rows_s3(options: dict, target: str, keys: list[str]) -> list[dict]:
    """The table read through paimon_py with the job's catalog options."""
    catalog = open_catalog(options)
    if not catalog.table_exists(target):
        return []
    read = catalog.get_table(target).new_read_builder()
    rows = read.new_read().to_arrow(read.new_scan().plan().splits()).to_pylist()
    return sorted(rows, key=lambda r: tuple(r[k] for k in keys))


def pypaimon_rows_s3(options: dict, target: str, keys: list[str]) -> list[dict]:
    """The table read by pypaimon from the bucket (its keys for the same S3 options)."""
    catalog = pypaimon.CatalogFactory.create({**options, "s3.path.style.access": "true"})
    read = catalog.get_table(target).new_read_builder()
    rows = read.new_read().to_arrow(read.new_scan().plan().splits()).to_pylist()
    return sorted(rows, key=lambda r: tuple(r[k] for k in keys))


class Changes(threading.Thread):
    """Inserts (``fill``, new keys each round), updates and deletes in rounds until stopped."""

    def __init__(self, pg, database: str, first: int):
        super().__init__(daemon=True)
        self.pg, self.database, self.first = pg, database, first
        self.stopped = threading.Event()
        self.rounds = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                first, k = self.first + 100 * self.rounds, self.rounds
                fill(self.pg, self.database, first, 50)
                self.pg.execute(f"UPDATE orders SET qty = qty + 1 WHERE id % 97 = {k % 97}", database=self.database)
                self.pg.execute(f"DELETE FROM orders WHERE id % 89 = {k % 89} AND id < {first}", database=self.database)
                self.rounds += 1
                time.sleep(0.2)
        except BaseException as error:  # the test reports it
            self.error = error

    def finish(self) -> None:
        self.stopped.set()
        self.join(120)
        assert self.error is None, f"the changes failed: {self.error!r}"


ORPHAN_MARGIN = "20s"
"""remove-orphans' --older-than beside a running job: longer than any file waits for its commit here
(Paimon's default is 1d)."""


def remove_orphans(capsys, catalog_conf: list[str], table: str) -> int:
    run = console(capsys, "remove-orphans", "--warehouse", WAREHOUSE, *catalog_conf, table,
                  "--older-than", ORPHAN_MARGIN)
    assert run.code == 0, run.stderr
    return len(run.output["files"])


def expire(capsys, catalog_conf: list[str], table: str) -> None:
    """Finishes an expiration that a kill -9 of the job interrupted (its doomed snapshots may have
    lost files already), as the job's next commit would."""
    run = console(capsys, "expire", "--warehouse", WAREHOUSE, *catalog_conf, table)
    assert run.code == 0, run.stderr


def local_files_named(name: str, *roots: str) -> list[str]:
    return [os.path.join(d, name) for root in roots for d, dirs, files in os.walk(root)
            if name in files or name in dirs]


@pytest.fixture
def cdc_role(postgres_server, database):
    """Role ``cdc`` (the job's login, with a secret password); roles are server-wide: it and what
    it owns in ``database`` (the publication the job creates) are dropped afterwards."""
    postgres_server.execute(f"CREATE ROLE cdc LOGIN SUPERUSER PASSWORD '{DB_PASSWORD}'")
    try:
        yield "cdc"
    finally:
        postgres_server.execute("DROP OWNED BY cdc", database=database)
        postgres_server.execute("DROP ROLE cdc")


def test_sync_database_into_s3_warehouse(postgres_server, database, cdc_role, s3_endpoint, tmp_path, capsys):
    options = s3_options(s3_endpoint)
    bucket_fs = pafs.S3FileSystem(endpoint_override=s3_endpoint, access_key="lake-user", secret_key=SECRET_KEY,
                                  region="us-east-1", allow_bucket_creation=True)
    bucket_fs.create_dir(BUCKET)
    postgres_server.execute(ORDERS, database=database)
    postgres_server.execute(EVENTS, database=database)
    fill(postgres_server, database, 1, 2000)
    catalog_conf = [x for k, v in options.items() if k != "warehouse" for x in ("--catalog_conf", f"{k}={v}")]
    args = ["--warehouse", WAREHOUSE, "--database", "lake", *catalog_conf,
            "--table_conf", "snapshot.num-retained.min=2", "--table_conf", "snapshot.num-retained.max=3",
            *conf_args(postgres_server, database, username=cdc_role, password=DB_PASSWORD,
                       **{"scan.snapshot.chunk.size": "700"})]
    env = {**os.environ, "FLINK_LOG_DIR": str(tmp_path / "flink-log")}

    def synced(job: Job) -> None:
        for table, keys in (("orders", ["id"]), ("events", ["at", "message"])):
            wait_equal(postgres_server, database, options, table, f"lake.{table}", keys, job, read_lake=lake_rows_s3)

    started = time.monotonic()
    changes = Changes(postgres_server, database, 20_000)
    orphan_runs = removed_while_running = 0
    job = Job("postgres_sync_database", args, str(tmp_path / "job1.log"), env)
    try:
        wait_equal(postgres_server, database, options, "orders", "lake.orders", ["id"], job, read_lake=lake_rows_s3)
        snapshot_done = time.monotonic()
        workload(postgres_server, database, 5000)  # updates (TOASTed value unchanged, a key change), deletes, inserts
        last_change = int(postgres_server.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")[0][0])
        synced(job)
        streamed = time.monotonic()
        wait_until(lambda: confirmed_lsn(postgres_server, "lake") >= last_change, 60,
                   "the slot to confirm past the last change")
        confirmed = time.monotonic()
        changes.start()  # mid-stream: orphan cleaning beside the job, then kill -9 of its process group
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline or orphan_runs < 3:
            for table in ("lake.orders", "lake.events"):
                removed_while_running += remove_orphans(capsys, catalog_conf, table)
            orphan_runs += 1
            time.sleep(1)
        assert changes.is_alive() and job.process.poll() is None, job.output()
    finally:
        job.stop()
        changes.finish()

    positions = bucket_fs.get_file_info(pafs.FileSelector(f"{BUCKET}/warehouse/{POSITIONS_DIRECTORY}"))
    assert [p.type for p in positions] == [pafs.FileType.File], positions
    name = positions[0].base_name
    store = PositionStore.of(open_catalog(options))
    source = f"postgres/127.0.0.1:{postgres_server.port}/{database}/lake"
    assert store.path(source).endswith("/" + name)
    published = store.load(source)
    assert published is not None and published.state["lsn"] >= last_change
    assert local_files_named(name, ROOT, str(tmp_path)) == []
    assert local_files_named(POSITIONS_DIRECTORY, ROOT, str(tmp_path)) == []

    # changes while the job is down; the same command again resumes from the position on S3
    workload(postgres_server, database, 9000)
    job = Job("postgres_sync_database", args, str(tmp_path / "job2.log"), env)
    try:
        synced(job)
    finally:
        job.stop()
    resumed = time.monotonic()
    removed_after_restart = sum(remove_orphans(capsys, catalog_conf, t) for t in ("lake.orders", "lake.events"))
    assert changes.rounds >= 2  # changes went on while the job was killed

    catalog = open_catalog(options)
    local_copy = tmp_path / "bucket-copy"
    pafs.copy_files(f"{BUCKET}/warehouse", str(local_copy), source_filesystem=bucket_fs)
    java = java_tool.Batch()
    java_reads = {}
    for table, keys in (("orders", ["id"]), ("events", ["at", "message"])):
        expected = normalise(source_rows(postgres_server, database, table, keys))
        assert normalise(lake_rows_s3(options, f"lake.{table}", keys)) == expected  # nothing lost or doubled
        assert normalise(pypaimon_rows_s3(options, f"lake.{table}", keys)) == expected
        expire(capsys, catalog_conf, f"lake.{table}")  # the second job was killed too, maybe mid-expiration
        lake_table = catalog.get_table(f"lake.{table}")
        retained = helpers.read_every_retained_snapshot(lake_table)  # orphan cleaning removed nothing needed
        # the others expired (after each commit: a kill right after one may leave its two snapshots over)
        assert 2 <= len(retained) <= 3 + 2 and retained[0] > 1, retained
        snapshot_dir = f"{BUCKET}/warehouse/lake.db/{table}/snapshot"
        on_s3 = {i.base_name for i in bucket_fs.get_file_info(pafs.FileSelector(snapshot_dir))}
        assert {n for n in on_s3 if n.startswith("snapshot-")} == {f"snapshot-{i}" for i in retained}
        java_reads[table] = (java.read(str(local_copy), f"lake.{table}"), lake_table)
    java_rows = java.run()
    for table, (index, lake_table) in java_reads.items():  # Paimon Java reads what paimon_py reads
        read = lake_table.new_read_builder()
        ours = java_tool.render_table(read.new_read().to_arrow(read.new_scan().plan().splits()))
        assert java_tool.canonical(java_tool.as_rows(java_rows[index])) == java_tool.canonical(ours), table

    logs = [os.path.join(d, f) for d, _, files in os.walk(tmp_path) for f in files if f.endswith((".log", ".out"))]
    assert any(".log.flink" + os.sep in path for path in logs), logs  # Job keeps Flink's logs in <log>.flink/
    for path in logs:
        with open(path, errors="replace") as f:
            text = f.read()
        assert SECRET_KEY not in text and DB_PASSWORD not in text, f"a secret is in {path}"
    print(f"snapshot {snapshot_done - started:.1f} s, stream {streamed - snapshot_done:.1f} s, "
          f"confirmed {confirmed - streamed:.1f} s, resumed {resumed - confirmed:.1f} s; {changes.rounds} workload "
          f"rounds beside the job; remove-orphans: {orphan_runs} rounds removed {removed_while_running} file(s) "
          f"while it ran, {removed_after_restart} after the restart")
