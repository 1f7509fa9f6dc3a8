"""A PostgreSQL sync job broken while it runs or while it is stopped, as the bad-input catalogue
(docs/bad-inputs.md) lists: a slot dropped, a slot invalidated, a source table dropped, a
warehouse that takes no files, a full disk during flush and during commit. A job that fails
ends with exit code 1 and one line ``error: <what> — <how to fix>``; a start that cannot go on
exits with code 2 and creates nothing; after the fix the same command (or the one the message
names) brings the lake back to the source, nothing lost, nothing twice. One private PostgreSQL
server for the module (a test changes its ``max_slot_wal_keep_size``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from typing import Iterator

import psycopg2
import pytest

from operators.cdc.source_position import POSITIONS_DIRECTORY
from operators.postgres.local_server import LocalPostgres
from tests.support.jobs import Job, assert_failed, assert_refused, lake_rows
from tests.support.paths import ROOT
from tests.support.postgres import conf_args, fill, fresh_database, normalise, shop, source_rows, wait_equal
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

FAIL_FAST = ["--flink_conf", "restart-strategy.fixed-delay.attempts=1"]
"""A failure that outlives a restart ends the job (the default allows ten)."""

EVENT_KEYS = ["at", "message"]


@pytest.fixture(scope="module")
def pg():
    server = LocalPostgres().start()
    yield server
    server.stop()


def job_args(pg: LocalPostgres, database: str, warehouse: str, slot: str = "lake", *extra: str) -> list[str]:
    return ["--warehouse", warehouse, "--database", "lake", *extra, *conf_args(pg, database, slot)]


def start(tmp_path, args: list[str], name: str) -> Job:
    return Job("postgres_sync_database", [*args, *FAIL_FAST], str(tmp_path / f"{name}.log"),
               env={**os.environ, "PAIMON_CDC_LOG_DIR": str(tmp_path)}, stderr_path=str(tmp_path / f"{name}.err"))


def run_once(tmp_path, args: list[str]) -> subprocess.CompletedProcess:
    """The job's command, run to its end (a refused start ends at once)."""
    return subprocess.run([sys.executable, os.path.join(ROOT, "jobs", "postgres_sync_database.py"), *args],
                          capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, "PAIMON_CDC_LOG_DIR": str(tmp_path)})


def wait_synced(pg, database: str, warehouse: str, job: Job, events: bool = True) -> None:
    wait_equal(pg, database, warehouse, "orders", "lake.orders", ["id"], job, timeout=600)
    if events:
        wait_equal(pg, database, warehouse, "events", "lake.events", EVENT_KEYS, job, timeout=600)


def assert_lake_equals_source(pg, database: str, warehouse: str) -> None:
    """Every table, read by paimon_py and by pypaimon, holds the source's rows: none lost, none twice."""
    import paimon_py
    for table, keys in (("orders", ["id"]), ("events", EVENT_KEYS)):
        want = normalise(source_rows(pg, database, table, keys))
        assert normalise(lake_rows(warehouse, f"lake.{table}", keys)) == want, table
        read = paimon_py.CatalogFactory.create({"warehouse": warehouse}).get_table(f"lake.{table}")
        builder = read.new_read_builder()
        rows = builder.new_read().to_arrow(builder.new_scan().plan().splits()).to_pylist()
        assert normalise(sorted(rows, key=lambda r: tuple(r[k] for k in keys))) == want, table


def slots(pg, database: str) -> list[str]:
    return [r[0] for r in pg.execute("SELECT slot_name FROM pg_replication_slots WHERE database = %s", (database,))]


def drop_running_slot(pg, slot: str) -> None:
    """Ends the job's walsender and drops its slot (the job may re-attach in between: again)."""
    def dropped() -> bool:
        pg.execute("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = %s"
                   " AND active_pid IS NOT NULL", (slot,))
        try:
            pg.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
            return True
        except psycopg2.errors.ObjectInUse:
            return False
    wait_until(dropped, 60, f"slot {slot} to be dropped", interval=0.1)


def test_a_slot_dropped_while_the_job_runs_stops_it_and_nothing_is_skipped(pg, tmp_path):
    """A source table dropped while the job runs: it goes on and the lake keeps the table. The
    slot dropped: the job stops (a new slot would start after the changes it missed), the same
    command is refused, and a new slot.name rebuilds the lake from a snapshot, nothing lost."""
    with fresh_database(pg, "db_slot_dropped") as database:
        shop(pg, database, 100)
        warehouse = str(tmp_path / "lake")
        args = job_args(pg, database, warehouse)
        job = start(tmp_path, args, "job")
        try:
            wait_synced(pg, database, warehouse, job)
            kept = lake_rows(warehouse, "lake.events", EVENT_KEYS)
            pg.execute("DROP TABLE events", database=database)
            pg.execute("INSERT INTO orders (id, customer) VALUES (1001, 'after the drop')", database=database)
            wait_equal(pg, database, warehouse, "orders", "lake.orders", ["id"], job, timeout=600)
            assert lake_rows(warehouse, "lake.events", EVENT_KEYS) == kept
            drop_running_slot(pg, "lake")
            pg.execute("INSERT INTO orders (id, customer) VALUES (1002, 'missed by the slot')", database=database)
            assert_failed(job, 600, "slot lake no longer exists (it was dropped)")
        finally:
            job.stop()
        assert_refused(run_once(tmp_path, args), "start again with a new slot.name")
        assert slots(pg, database) == [], "the refused start created no slot"
        rebuilt = start(tmp_path, job_args(pg, database, warehouse, "lake_again"), "rebuilt")
        try:
            wait_equal(pg, database, warehouse, "orders", "lake.orders", ["id"], rebuilt, timeout=600)
        finally:
            rebuilt.stop()


RESTART_REFUSALS = {
    "layout option changed": (["--table_conf", "merge-engine=first-row"], None,
                              "--table_conf merge-engine=first-row differs from the existing table's "
                              "merge-engine=deduplicate, which cannot change"),
    "truncated snapshot": ([], "snapshot", "is corrupt or truncated"),
    "truncated manifest": ([], "manifest", "is corrupt or truncated"),
    "overwritten schema": ([], "schema", "is corrupt or truncated"),
}
"""A restart on a lake that changed while the job was stopped: extra flags, the ``lake.orders``
file damaged in a copy of the warehouse, the fixed part of the message."""


def damage(table: str, kind: str) -> str:
    """Truncates the latest snapshot or manifest of ``table`` (a directory), or overwrites its
    schema; returns the file's path."""
    if kind == "schema":
        path = os.path.join(table, "schema", "schema-0")
        with open(path, "w") as f:
            f.write("{ not a schema")
        return path
    directory = os.path.join(table, kind)
    names = [n for n in os.listdir(directory) if n.startswith(f"{kind}-") and "list" not in n]
    path = max((os.path.join(directory, n) for n in names), key=os.path.getmtime)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)
    return path


def test_a_restart_on_a_changed_lake_or_an_invalidated_slot_is_refused(pg, tmp_path):
    """The job stopped, then: ``--table_conf`` asks to change a table's layout, or a table's
    snapshot, manifest or schema file is damaged, or the server removed WAL the slot still needed
    (max_slot_wal_keep_size): the same command is refused with the fix, creating nothing, instead
    of ignoring the option, failing with a parser's traceback, or resuming after a gap."""
    with fresh_database(pg, "db_restart") as database:
        shop(pg, database, 50)
        warehouse = str(tmp_path / "lake")
        args = job_args(pg, database, warehouse)
        job = start(tmp_path, args, "job")
        try:
            wait_synced(pg, database, warehouse, job, events=False)
            positions = os.path.join(warehouse, POSITIONS_DIRECTORY)
            wait_until(lambda: os.path.isdir(positions) and os.listdir(positions), 60, "a published position")
        finally:
            job.stop()
        for name, (flags, kind, expected) in RESTART_REFUSALS.items():
            copy = str(tmp_path / name.replace(" ", "_"))
            shutil.copytree(warehouse, copy)
            if kind:
                expected = f"{damage(os.path.join(copy, 'lake.db', 'orders'), kind)} {expected}"
            before = sorted(os.listdir(os.path.join(copy, "lake.db")))
            assert_refused(run_once(tmp_path, [*job_args(pg, database, copy), *flags]), expected)
            assert sorted(os.listdir(os.path.join(copy, "lake.db"))) == before, name
        assert slots(pg, database) == ["lake"]
        pg.execute("CREATE TABLE ballast (v text)", database=database)
        pg.execute("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'")
        pg.execute("SELECT pg_reload_conf()")
        try:
            def lost() -> bool:
                pg.execute("INSERT INTO ballast SELECT repeat('x', 1000) FROM generate_series(1, 3000)",
                           database=database)
                pg.execute("SELECT pg_switch_wal()")
                pg.execute("CHECKPOINT")
                return pg.execute("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'lake'") == [("lost",)]
            wait_until(lost, 120, "the slot to be invalidated")
        finally:
            pg.execute("ALTER SYSTEM RESET max_slot_wal_keep_size")
            pg.execute("SELECT pg_reload_conf()")
        assert_refused(run_once(tmp_path, args), "slot lake was invalidated")


@contextlib.contextmanager
def tmpfs(path: str, size_mb: int) -> Iterator[str]:
    """A size-limited tmpfs mounted at ``path`` (created), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", path], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", path], check=True)


def remount(path: str, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", path], check=True)


def fill_up(directory: str) -> str:
    """Writes a file into ``directory`` until its filesystem is full; returns the file's path."""
    path = os.path.join(directory, "filler")
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    for size in (4096, 1):  # the last blocks, byte by byte at the end
        try:
            with open(path, "ab", buffering=0) as f:
                while True:
                    f.write(b"\0" * size)
        except OSError:
            pass
    return path


def test_a_warehouse_that_takes_no_files_is_refused_before_anything_is_created(pg, tmp_path):
    with fresh_database(pg, "db_read_only") as database, tmpfs(str(tmp_path / "lake"), 4) as warehouse:
        shop(pg, database, 10)
        remount(warehouse, "ro")
        assert_refused(run_once(tmp_path, job_args(pg, database, warehouse)), "cannot write to the warehouse")
        assert slots(pg, database) == []
        assert pg.execute("SELECT pubname FROM pg_publication", database=database) == []
        assert os.listdir(warehouse) == []


def test_a_full_disk_stops_the_job_and_the_same_command_resumes(pg, tmp_path):
    """Small tmpfs mounts under ``lake.orders``: where the committer writes manifests, then where
    the writers flush data files (``bucket-0``). Each filled while the job runs: the job stops and
    says why; once space is free the same command resumes, and at the end the lake equals the
    source (nothing lost, nothing twice)."""
    table = tmp_path / "lake" / "lake.db" / "orders"
    with fresh_database(pg, "db_full_disk") as database, tmpfs(str(table / "manifest"), 8) as manifests, \
            tmpfs(str(table / "bucket-0"), 8) as data_files:
        shop(pg, database, 100)
        warehouse = str(tmp_path / "lake")
        args = job_args(pg, database, warehouse, "lake", "--table_conf", "bucket=1")
        for phase, small, first_id in (("commit", manifests, 1000), ("flush", data_files, 2000)):
            job = start(tmp_path, args, f"before_{phase}")
            try:
                wait_synced(pg, database, warehouse, job)
                filler = fill_up(small)
                fill(pg, database, first_id, 50)
                assert_failed(job, 600, "no space left on device")
            finally:
                job.stop()
            assert phase_of_failure(tmp_path / "client.log") == phase
            os.remove(filler)
            (tmp_path / "client.log").unlink()
        resumed = start(tmp_path, args, "resumed")
        try:
            wait_synced(pg, database, warehouse, resumed)
        finally:
            resumed.stop()
        assert_lake_equals_source(pg, database, warehouse)


def phase_of_failure(client_log) -> str:
    """Where the first "No space left on device" of the client log was raised: a writer's flush
    (a data file) or the committer's commit (a manifest)."""
    text = client_log.read_text()
    frames = text[:text.index("No space left on device")]
    writer, committer = frames.rfind("table_writer.py"), frames.rfind("table_committer.py")
    return "flush" if writer > committer else "commit"
