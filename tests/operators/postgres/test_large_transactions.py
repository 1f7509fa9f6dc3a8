"""Transactions larger than the reader holds in memory (``change_decoder.PART_ROWS``) go to the
lake in parts, end to end on a local mini-cluster: every Paimon snapshot still holds whole
transactions only (no checkpoint falls between the parts of one), and the lake ends equal to the
source. Without Flink, the source's parts and its position (``mid_transaction``, the LSN only
after the commit)."""

from __future__ import annotations

import pytest

from operators.cdc.change_batch import ChangeBatch
from operators.cdc.targets import database_targets
from operators.postgres import change_decoder
from operators.postgres.change_source import PostgresSourceFactory
from operators.postgres.job_args import PostgresPreparation
from operators.postgres.source_config import PostgresSourceConfig
from tests.support.generations import JOB_ARGS, ROWS, check_whole_transactions
from tests.support.postgres import Job, conf_args

pytestmark = pytest.mark.slow


def test_every_snapshot_holds_whole_transactions(postgres_server, database, tmp_path):
    postgres_server.execute("CREATE TABLE t (id bigint PRIMARY KEY, k int NOT NULL, v text);"
                            f"INSERT INTO t SELECT g, 0, md5(g::text) FROM generate_series(1, {ROWS}) g",
                            database=database)
    warehouse = str(tmp_path / "lake")
    args = ["--warehouse", warehouse, *JOB_ARGS, *conf_args(postgres_server, database, **{"table-name": "t"})]
    job = Job("postgres_sync_table", args, str(tmp_path / "job.log"))
    check_whole_transactions(job, warehouse,
                             lambda: postgres_server.execute("UPDATE t SET k = k + 1", database=database))


def test_the_source_hands_a_large_transaction_over_in_parts(postgres_server, database, monkeypatch):
    monkeypatch.setattr(change_decoder, "PART_ROWS", 1000)
    postgres_server.execute("CREATE TABLE t (id bigint PRIMARY KEY, k int NOT NULL);"
                            "INSERT INTO t SELECT g, 0 FROM generate_series(1, 3500) g", database=database)
    options = {**postgres_server.conf(database), "slot.name": "parts", "table-name": "t",
               "scan.startup.mode": "latest-offset", "poll.max.rows": "500"}
    config = PostgresSourceConfig.parse(options, table_required=True)
    made = PostgresSourceFactory(config, database_targets("lake", "", "", {}))
    preparation = PostgresPreparation(made)
    preparation.check()
    preparation.create()
    source = made.open(None, "parts")
    try:
        source.start()
        before = source.state["lsn"]
        postgres_server.execute("UPDATE t SET k = 1", database=database)
        sizes, inside = [], []
        while sum(sizes) < 3500:
            batches = [e for e in source.step(0.2) if isinstance(e, ChangeBatch)]
            sizes += [b.num_rows for b in batches]
            inside.append((source.mid_transaction, source.state["lsn"]))
        assert max(sizes) <= 1000 and sum(sizes) == 3500 and len(sizes) >= 4
        held = {lsn for mid, lsn in inside if mid}  # between parts
        assert len(held) == 1, "the position moved between the parts of a transaction"
        assert not source.mid_transaction and source.state["lsn"] > held.pop() >= before
    finally:
        source.close()
