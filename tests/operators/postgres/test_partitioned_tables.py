"""Partitioned tables, without Flink (``PostgresChangeSource``): the snapshot reads every row of a
keyed and of a keyless partitioned table (pages are counted per partition: a range of pages
selects those pages of every partition), the stream carries the partitions' changes as the
partitioned table's (``publish_via_partition_root``), a restart finds its publication as it left
it, and a publication that sends partitions as tables of their own is refused with the fix.
"""

from __future__ import annotations

import pytest

from operators.cdc.change_batch import ChangeBatch
from operators.cdc.errors import SourceNotReady
from operators.cdc.targets import database_targets
from operators.postgres import snapshot_reader
from operators.postgres.change_source import PostgresChangeSource, PostgresSourceFactory
from operators.postgres.job_args import PostgresPreparation
from operators.postgres.source_config import PostgresSourceConfig

pytestmark = pytest.mark.slow

TABLES = """
CREATE TABLE m (id int, y int, v text, PRIMARY KEY (id, y)) PARTITION BY RANGE (y);
CREATE TABLE m_a PARTITION OF m FOR VALUES FROM (0) TO (100);
CREATE TABLE m_b PARTITION OF m FOR VALUES FROM (100) TO (200);
INSERT INTO m SELECT g, g % 200, 'm' || g FROM generate_series(1, 3000) g;
CREATE TABLE n (y int, v text) PARTITION BY RANGE (y);
CREATE TABLE n_a PARTITION OF n FOR VALUES FROM (0) TO (100);
CREATE TABLE n_b PARTITION OF n FOR VALUES FROM (100) TO (200);
INSERT INTO n SELECT g % 200, repeat('x', 100) || g FROM generate_series(1, 10000) g;
"""


def factory(server, database: str) -> PostgresSourceFactory:
    options = {**server.conf(database), "slot.name": "parts", "table-name": "m|n"}
    return PostgresSourceFactory(PostgresSourceConfig.parse(options, table_required=True),
                                 database_targets("lake", "", "", {}))


def prepared(server, database: str) -> PostgresSourceFactory:
    made = factory(server, database)
    preparation = PostgresPreparation(made)
    preparation.check()
    preparation.create()
    return made


def rows_of(batches: list[ChangeBatch], table: str) -> int:
    return sum(b.num_rows for b in batches if b.table == f"lake.{table}")


def drain(source: PostgresChangeSource, rows: int) -> list[ChangeBatch]:
    """Stream steps until ``rows`` changes have arrived (or 10 s have passed)."""
    out: list[ChangeBatch] = []
    for _ in range(50):
        out += [e for e in source.step(0.2) if isinstance(e, ChangeBatch)]
        if sum(b.num_rows for b in out) >= rows:
            break
    return out


def test_snapshot_and_stream_of_partitioned_tables(postgres_server, database, monkeypatch):
    monkeypatch.setattr(snapshot_reader, "PAGES_PER_CHUNK", 8)  # partitions of ~90 pages: many ranges
    postgres_server.execute(TABLES, database=database)
    made = prepared(postgres_server, database)
    source = made.open(None, "parts")
    try:
        source.start()
        snapshot: list[ChangeBatch] = []
        while not source.snapshot_done:
            snapshot += [e for e in source.step() if isinstance(e, ChangeBatch)]
        assert (rows_of(snapshot, "m"), rows_of(snapshot, "n")) == (3000, 10000)
        postgres_server.execute("INSERT INTO m VALUES (5001, 5, 'a'), (5002, 150, 'b');"
                                "UPDATE m SET v = 'z' WHERE id <= 10; INSERT INTO n VALUES (7, 'late')",
                                database=database)
        streamed = drain(source, 13)
        assert (rows_of(streamed, "m"), rows_of(streamed, "n")) == (12, 1)
        state = source.state
    finally:
        source.close()
    restarted = made.open(state, "parts")  # a restart: the publication is there, with its partitions
    try:
        restarted.start()
        postgres_server.execute("DELETE FROM m WHERE id = 5002", database=database)
        assert rows_of(drain(restarted, 1), "m") == 1
    finally:
        restarted.close()


def test_a_publication_sending_partitions_as_tables_is_refused(postgres_server, database):
    postgres_server.execute(TABLES + "CREATE PUBLICATION parts_pub FOR TABLE m, n;", database=database)
    preparation = PostgresPreparation(factory(postgres_server, database))
    preparation.check()
    with pytest.raises(SourceNotReady, match=r'publication parts_pub sends the changes of "public"."m", "public"."n" '
                                             r'as changes of its partitions — run ALTER PUBLICATION "parts_pub" SET '
                                             r'\(publish_via_partition_root = true\);'):
        preparation.create()
    assert postgres_server.execute("SELECT slot_name FROM pg_replication_slots WHERE slot_name = 'parts'") == []
