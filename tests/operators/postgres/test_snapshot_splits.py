"""A parallel snapshot's splits, without Flink (``PostgresChangeSource.next_splits`` and
``PostgresSplitReader``): the splits, and the chunks the reader reads itself between them, cover
every table exactly once, as of the reader's snapshot even while the tables change, and the reader
streams from that snapshot once they are read.
"""

from __future__ import annotations

import pytest

from operators.cdc.change_batch import ChangeBatch
from operators.cdc.targets import database_targets
from operators.postgres.change_source import PostgresChangeSource, PostgresSourceFactory
from operators.postgres.job_args import PostgresPreparation
from operators.postgres.source_config import PostgresSourceConfig

pytestmark = pytest.mark.slow

TABLES = """
CREATE TABLE items (id bigint PRIMARY KEY, name text);
CREATE TABLE pairs (a int, b text, v int, PRIMARY KEY (a, b));
CREATE TABLE notes (message text);
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2500) g;
INSERT INTO pairs SELECT g % 7, 'b' || g, g FROM generate_series(1, 700) g;
INSERT INTO notes SELECT 'note ' || g FROM generate_series(1, 300) g;
"""

CHANGES = """
UPDATE items SET name = 'changed' WHERE id % 10 = 0;
DELETE FROM items WHERE id BETWEEN 1000 AND 1100;
INSERT INTO items SELECT g, 'new' FROM generate_series(3001, 3100) g;
DELETE FROM pairs WHERE a = 3;
INSERT INTO notes VALUES ('late note');
"""


def factory(server, database: str, parallelism: int = 3) -> PostgresSourceFactory:
    options = {**server.conf(database), "slot.name": "splits", "table-name": "items|pairs|notes",
               "scan.snapshot.chunk.size": "200", "scan.snapshot.parallelism": str(parallelism)}
    config = PostgresSourceConfig.parse(options, table_required=True)
    made = PostgresSourceFactory(config, database_targets("lake", "", "", {}))
    preparation = PostgresPreparation(made)
    preparation.check()
    preparation.create()
    return made


def source_rows(server, database: str, table: str) -> list[tuple]:
    return sorted(server.execute(f"SELECT * FROM {table}", database=database))


def lake_form(batches: list[ChangeBatch], table: str, columns: list[str]) -> list[tuple]:
    rows = [r for b in batches if b.table == f"lake.{table}" for r in b.rows().select(columns).to_pylist()]
    return sorted(tuple(r[c] for c in columns) for r in rows)


def read_all(made: PostgresSourceFactory, source: PostgresChangeSource, limit: int,
             own_chunks: bool = False) -> list[list[ChangeBatch]]:
    """Every split, ``limit`` at a time, read in turn by two split readers; with ``own_chunks``,
    a chunk read by the source itself after each hand-over (as while the split readers are busy)."""
    readers = [made.split_reader("test splits"), made.split_reader("test splits")]
    read: list[list[ChangeBatch]] = []
    try:
        while splits := source.next_splits(limit):
            assert len(splits) <= limit or not splits[0].table.primary_keys
            read += [readers[len(read) % 2].read(split) for split in splits]
            if own_chunks and (chunk := source.read_chunk()) is not None:
                read.append(chunk)
    finally:
        for reader in readers:
            reader.close()
    return read


def started_then_changed(server, database: str) -> tuple[PostgresSourceFactory, PostgresChangeSource, dict]:
    """The tables, a started source (its snapshot taken), then ``CHANGES``; the rows as of the snapshot."""
    server.execute(TABLES, database=database)
    expected = {t: source_rows(server, database, t) for t in ("items", "pairs", "notes")}
    made = factory(server, database)
    source = made.open(None, "test splits")
    source.start()
    server.execute(CHANGES, database=database)  # after the snapshot: in no split
    return made, source, expected


def assert_snapshot(batches: list[ChangeBatch], expected: dict) -> None:
    assert lake_form(batches, "items", ["id", "name"]) == expected["items"]
    assert lake_form(batches, "pairs", ["a", "b", "v"]) == expected["pairs"]
    assert lake_form(batches, "notes", ["message"]) == expected["notes"]


def test_splits_cover_every_table_once_as_of_the_snapshot(postgres_server, database):
    made, source, expected = started_then_changed(postgres_server, database)
    try:
        read = read_all(made, source, limit=4)
        batches = [b for split in read for b in split]
        assert_snapshot(batches, expected)
        assert all(b.rows().column("_row_kind").to_pylist() == [0] * b.num_rows for b in batches)
        # items: 2,500 rows in splits of 200 (the last one open-ended and empty); pairs: 700 rows
        assert len(read) == 13 + 4 + 1
        assert all(source.state["tables"][t]["done"] for t in source.state["tables"])
        assert source.progress().tables[0].rows_read == 2400  # the splits with an end, as handed over
        skip_until = source.state["tables"]["public.items"]["skip_until"]
        assert skip_until > 0 and not source.snapshot_done
        source.splits_read()
        assert source.snapshot_done
        streamed = []
        for _ in range(50):
            streamed += [e for e in source.step(0.2) if isinstance(e, ChangeBatch)]
            if sum(b.num_rows for b in streamed) >= 350:
                break
        # what changed after the snapshot comes from the stream (items: 250 updates, 101 deletes,
        # 100 inserts; pairs: 100 deletes; notes: 1 insert)
        assert sum(b.num_rows for b in streamed if b.table == "lake.items") == 250 + 101 + 100
    finally:
        source.close()


def test_chunks_the_reader_reads_itself_between_splits_cover_the_rest(postgres_server, database):
    made, source, expected = started_then_changed(postgres_server, database)
    try:
        batches = [b for split in read_all(made, source, limit=2, own_chunks=True) for b in split]
        assert source.read_chunk() is None and not source.snapshot_done  # ends with splits_read only
    finally:
        source.close()
    assert_snapshot(batches, expected)


def test_a_restarted_reader_continues_after_the_last_split(postgres_server, database):
    """The state after some splits continues in a new snapshot (a restart's), after the last key
    handed over, with the first snapshot's skip position (the stream replays from there)."""
    postgres_server.execute(TABLES, database=database)
    made = factory(postgres_server, database, parallelism=2)
    first = made.open(None, "test splits")
    try:
        first.start()
        handed = first.next_splits(3)
        state = first.state
    finally:
        first.close()
    assert [s.last for s in handed] == [("200",), ("400",), ("600",)]
    postgres_server.execute("DELETE FROM items WHERE id <= 800", database=database)
    second = made.open(state, "test splits")
    try:
        second.start()
        rest = read_all(made, second, limit=2)
        assert second.state["tables"]["public.items"]["skip_until"] == state["tables"]["public.items"]["skip_until"]
    finally:
        second.close()
    ids = [r["id"] for split in rest for b in split if b.table == "lake.items" for r in b.rows().to_pylist()]
    assert sorted(ids) == list(range(801, 2501))

