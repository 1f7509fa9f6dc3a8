"""Exactly-once on the local mini-cluster: the synthetic change stream through reader, writer
and committer with exceptions injected in each of them (several per run); the lake read at the
end by paimon_py and by pypaimon equals the stream applied to a model, and no snapshot seen while
the job ran was ever replaced.

The job runs as a child process in its own session; the test kills that whole process group if
anything is left or the job hangs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pypaimon
import pytest

import paimon_py
from operators.synthetic.synthetic_source import LOG_TABLE, PK_TABLE, ChangeModel, SyntheticChangeStream
from tests.support.dynamic_bucket import assert_dynamic_bucket_layout
from tests.support.paths import ROOT

POSITIONS = 120
TIMEOUT_S = 240

pytestmark = pytest.mark.slow


def run_job(warehouse: str, failure_dir: str, fails: list[str], extra: list[str] = ()) -> subprocess.CompletedProcess:
    command = [sys.executable, os.path.join(ROOT, "jobs", "sync_synthetic.py"), "--warehouse", warehouse,
               "--positions", str(POSITIONS), "--ticks_per_second", "25", "--failure_dir", failure_dir,
               "--flink_conf", "execution.checkpointing.interval=700ms",
               "--flink_conf", "restart-strategy.fixed-delay.delay=200ms", *extra]
    for point in fails:
        command += ["--fail", point]
    env = {**os.environ, "FLINK_LOG_DIR": os.path.join(failure_dir + "-flink-log")}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True, cwd=ROOT, text=True, env=env)
    try:
        output, _ = process.communicate(timeout=TIMEOUT_S)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(command, process.returncode, output)


def lake(reader_catalog, name: str):
    table = reader_catalog.get_table(name)
    rb = table.new_read_builder()
    return rb.new_read().to_arrow(rb.new_scan().plan().splits()).to_pylist()


class SnapshotWatcher(threading.Thread):
    """Polls the table's snapshots while the job runs: (id -> file content) as first seen."""

    def __init__(self, snapshot_dir: str):
        super().__init__(daemon=True)
        self.snapshot_dir = snapshot_dir
        self.seen: dict[str, str] = {}
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            for name in os.listdir(self.snapshot_dir) if os.path.isdir(self.snapshot_dir) else []:
                if name.startswith("snapshot-") and name not in self.seen:
                    with open(os.path.join(self.snapshot_dir, name)) as f:
                        self.seen[name] = f.read()
            time.sleep(0.05)


def test_exactly_once_with_failures_in_reader_writer_committer_and_schema_evolution(tmp_path):
    warehouse = str(tmp_path / "lake")
    watcher = SnapshotWatcher(os.path.join(warehouse, "cdc.db", "orders", "snapshot"))
    watcher.start()
    fails = ["reader:after-emit:20", "writer:before-flush:2", "writer:after-flush:4",
             "committer:after-commit:6", "reader:after-emit:75",
             "schema:before-apply:4"]  # the schema change that adds orders.price (a 4th column)
    result = run_job(warehouse, str(tmp_path / "failures"), fails)
    watcher.stop.set()
    watcher.join()
    assert result.returncode == 0, result.stdout[-4000:]
    fired = sorted(os.listdir(tmp_path / "failures"))
    assert len(fired) == len(fails), f"only {fired} fired"
    assert result.stdout.count("InjectedFailure") >= len(fired)

    model = ChangeModel.upto(SyntheticChangeStream(), POSITIONS)
    for catalog in (paimon_py.CatalogFactory.create({"warehouse": warehouse}),
                    pypaimon.CatalogFactory.create({"warehouse": warehouse})):
        orders = {r["id"]: r for r in lake(catalog, PK_TABLE)}
        assert len(orders) == len(model.orders)
        assert orders == {k: {c: v.get(c) for c in orders[k]} for k, v in model.orders.items()}
        events = Counter((r["seq"], r["payload"]) for r in lake(catalog, LOG_TABLE))
        assert events == model.events  # no duplicates, no gaps

    table = paimon_py.CatalogFactory.create({"warehouse": warehouse}).get_table(PK_TABLE)
    assert table.schema.field_names == ["id", "qty", "note", "price"]
    assert str(table.schema.field("qty").type) == "BIGINT"
    # data became visible only through snapshots that stayed: none was replaced or taken back
    final = {name: open(os.path.join(table.snapshot_manager.snapshot_dir, name)).read()
             for name in os.listdir(table.snapshot_manager.snapshot_dir) if name.startswith("snapshot-")}
    assert watcher.seen and all(final.get(name) == text for name, text in watcher.seen.items())
    # a checkpoint's commit makes an APPEND and maybe a COMPACT snapshot (same identifier), never more
    commits = [(s.commit_identifier, s.commit_kind.value) for s in map(table.snapshot_manager.snapshot,
                                                                       table.snapshot_manager.list_ids())]
    identifiers = [identifier for identifier, _ in commits]
    assert identifiers == sorted(identifiers) and len(set(commits)) == len(commits), commits


def test_dynamic_bucket_table_exactly_once_with_two_assigners_and_writers(tmp_path):
    """``cdc.orders`` in dynamic bucket mode (3000 keys, 400 per bucket): two assigners create
    disjoint buckets, two writers keep their HASH indexes; after failures in reader, writer and
    committer the lake equals the stream and no key is in two buckets."""
    warehouse = str(tmp_path / "lake")
    fails = ["reader:after-emit:20", "writer:before-flush:2", "writer:after-flush:4", "committer:after-commit:6"]
    result = run_job(warehouse, str(tmp_path / "failures"), fails,
                     ["--orders_option", "bucket=-1", "--orders_option", "dynamic-bucket.target-row-num=400"])
    assert result.returncode == 0, result.stdout[-4000:]
    assert len(os.listdir(tmp_path / "failures")) == len(fails)
    model = ChangeModel.upto(SyntheticChangeStream(), POSITIONS)
    table = paimon_py.CatalogFactory.create({"warehouse": warehouse}).get_table(PK_TABLE)
    orders = {r["id"]: r for r in lake(paimon_py.CatalogFactory.create({"warehouse": warehouse}), PK_TABLE)}
    assert orders == {k: {c: v.get(c) for c in orders[k]} for k, v in model.orders.items()}
    buckets = {bucket for _, bucket in assert_dynamic_bucket_layout(table)}
    assert len(buckets) >= 6 and {b % 2 for b in buckets} == {0, 1}   # both assigners created buckets


def test_incompatible_schema_change_fails_the_job_with_a_clear_message(tmp_path):
    warehouse = str(tmp_path / "lake")
    from jobs.sync_synthetic import create_tables
    create_tables(warehouse)
    catalog = paimon_py.CatalogFactory.create({"warehouse": warehouse})
    # make 'note' an INT column in the lake: the source's STRING cannot be written into it
    catalog.drop_table(PK_TABLE)
    import pyarrow as pa
    catalog.create_table(PK_TABLE, paimon_py.Schema.from_pyarrow_schema(pa.schema([
        pa.field("id", pa.int64(), nullable=False), pa.field("qty", pa.int32()),
        pa.field("note", pa.int32())]), primary_keys=["id"], options={"bucket": "2"}))
    result = run_job(warehouse, str(tmp_path / "failures"), [],
                     ["--flink_conf", "restart-strategy.fixed-delay.attempts=0"])
    assert result.returncode != 0
    # the job's error, or (when cancelling the other tasks was reported first) its operators' log
    logs = result.stdout + "".join(open(os.path.join(str(tmp_path / "failures") + "-flink-log", name)).read()
                                   for name in os.listdir(str(tmp_path / "failures") + "-flink-log"))
    assert "cdc.orders: column 'note' changed from INT to STRING" in logs
    assert "--ignore_incompatible" in logs
