"""Table DDL while the source streams, without Flink (``PostgresChangeSource``). RENAME TABLE is not
replicated, as in Paimon CDC, and said in the log: the lake table keeps its rows; in a database
sync the renamed table's changes go to a lake table of the new name, in a table sync whose pattern
no longer matches they are no longer captured. A replica identity changed to one without the lake
key stops the source with the fix, as the start-up check refuses it."""

from __future__ import annotations

import logging

import pytest

from operators.cdc.change_batch import ChangeBatch
from operators.cdc.errors import SourceNotReady
from operators.postgres.job_args import from_args

pytestmark = pytest.mark.slow

RENAME = "ALTER TABLE t RENAME TO t2; INSERT INTO t2 VALUES (2, 'b'); UPDATE t2 SET v = 'z' WHERE id = 1"


def changes_after(server, database: str, tmp_path, database_sync: bool, ddl_and_dml: str) -> list[tuple[str, list]]:
    """The changes a source hands over after ``ddl_and_dml``, from table ``t`` (id, v) with row 1."""
    server.execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')", database=database)
    conf = {**server.conf(database), "table-name": ".*" if database_sync else "t", "slot.name": "renamed"}
    flags = [] if database_sync else ["--table", "t"]
    sync = from_args(["--warehouse", str(tmp_path / "lake"), "--database", "lake", *flags,
                      *[a for k, v in conf.items() for a in ("--postgres_conf", f"{k}={v}")]], database_sync)
    sync.preparation.check()
    sync.preparation.create()
    source = sync.preparation.factory.open(None, "renamed")
    out = []
    try:
        source.start()
        while not source.snapshot_done:
            source.step()
        server.execute(ddl_and_dml, database=database)
        for _ in range(15):
            out += [(e.table, e.rows().select(["id", "v"]).to_pylist()) for e in source.step(0.2)
                    if isinstance(e, ChangeBatch)]
    finally:
        source.close()
    return out


def test_a_renamed_table_in_a_database_sync(postgres_server, database, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        changes = changes_after(postgres_server, database, tmp_path, True, RENAME)
    assert changes == [("lake.t2", [{"id": 2, "v": "b"}, {"id": 1, "v": "z"}])]
    assert '"public"."t" was renamed to public.t2: lake.t keeps the rows it has; its changes go to the lake ' \
           'table of the new name from now on' in caplog.text


def test_a_renamed_table_no_longer_matched(postgres_server, database, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        changes = changes_after(postgres_server, database, tmp_path, False, RENAME)
    assert changes == []
    assert '"public"."t" was renamed to public.t2: lake.t keeps the rows it has; the new name is not matched, ' \
           'so its changes are no longer captured' in caplog.text


def test_a_replica_identity_without_the_lake_key_stops_the_source(postgres_server, database, tmp_path):
    """Without the check a delete of id 1 would reach the lake as a delete of id 0 (bad-input case 35)."""
    with pytest.raises(SourceNotReady, match=r'"public"."t": its replica identity index lacks the lake\'s primary '
                                             r'key column\(s\) id, so PostgreSQL would send deletes and key changes '
                                             r'without them — run ALTER TABLE "public"."t" REPLICA IDENTITY FULL;'):
        changes_after(postgres_server, database, tmp_path, False,
                      "UPDATE t SET v = 'c'; ALTER TABLE t ALTER COLUMN v SET NOT NULL; CREATE UNIQUE INDEX t_v ON t (v);"
                      " ALTER TABLE t REPLICA IDENTITY USING INDEX t_v; DELETE FROM t WHERE id = 1")
