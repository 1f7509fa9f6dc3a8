"""MariaDB transactions larger than the reader holds (``binlog/stream.PART_ROWS``) go to the lake
in parts, end to end on a local mini-cluster: every Paimon snapshot still holds whole transactions
only (no checkpoint falls between the parts of one), and the lake ends equal to the source. Without
Flink, the source's parts and its position (``mid_transaction``; the binlog position moves only
after the transaction's end). The stream's own parts and reconnects: ``test_binlog_stream.py``."""

from __future__ import annotations

import pytest

from operators.cdc.change_batch import ChangeBatch
from operators.cdc.targets import database_targets
from operators.mysql.binlog import stream as binlog_stream
from operators.mysql.change_source import MySqlSourceFactory
from operators.mysql.source_config import MySqlSourceConfig, TypeMapping
from tests.support.generations import JOB_ARGS, ROWS, check_whole_transactions
from tests.support.jobs import Job
from tests.support.mariadb import mysql_conf_args

pytestmark = pytest.mark.slow


def test_every_snapshot_holds_whole_transactions(mariadb_server, mysql_database, tmp_path):
    mariadb_server.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, k INT NOT NULL, v VARCHAR(32))",
                           database=mysql_database)
    mariadb_server.execute(f"INSERT INTO t SELECT seq, 0, MD5(seq) FROM seq_1_to_{ROWS}", database=mysql_database)
    warehouse = str(tmp_path / "lake")
    args = ["--warehouse", warehouse, *JOB_ARGS,
            *mysql_conf_args(mariadb_server, mysql_database, **{"table-name": "t"})]
    job = Job("mysql_sync_table", args, str(tmp_path / "job.log"))
    check_whole_transactions(job, warehouse,
                             lambda: mariadb_server.execute("UPDATE t SET k = k + 1", database=mysql_database))


def test_the_source_hands_a_large_transaction_over_in_parts(mariadb_server, mysql_database, monkeypatch):
    monkeypatch.setattr(binlog_stream, "PART_ROWS", 1000)
    mariadb_server.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, k INT NOT NULL)", database=mysql_database)
    mariadb_server.execute("INSERT INTO t SELECT seq, 0 FROM seq_1_to_3500", database=mysql_database)
    options = {**mariadb_server.conf(mysql_database), "table-name": "t", "scan.startup.mode": "latest-offset",
               "poll.max.rows": "500"}
    config = MySqlSourceConfig.parse(options, True)
    source = MySqlSourceFactory(config, database_targets("lake", "", "", {}), TypeMapping()).open(None, "parts")
    try:
        source.start()
        before = source.binlog
        mariadb_server.execute("UPDATE t SET k = 1", database=mysql_database)
        updated, inside = [], []
        while sum(updated) < 3500:
            batches = [e for e in source.step(0.2) if isinstance(e, ChangeBatch)]
            updated += [b.num_rows // 2 for b in batches]  # -U old, +U new
            inside.append((source.mid_transaction, source.binlog))
        assert sum(updated) == 3500 and len(updated) >= 3
        held = {position for mid, position in inside if mid}  # between parts
        assert held == {before}, "the position moved between the parts of a transaction"
        assert not source.mid_transaction and source.binlog.file_pos() > before.file_pos()
    finally:
        source.close()
