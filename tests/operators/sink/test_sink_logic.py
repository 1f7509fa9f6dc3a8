"""The writer and committer logic of the Flink sink, exercised without Flink: exactly-once
commits by checkpoint id, restore-and-fail, a compaction another writer made obsolete, and schema
changes between batches."""

import threading
import time
from collections import Counter

import pyarrow as pa
import pytest

import paimon_py
from paimon_py.data.row_kind import RowKind, all_inserts
from paimon_py.operation.full_compaction import compaction_output_paths
from tests.support import helpers
from operators.cdc.change_batch import ROW_KIND_FIELD, ChangeBatch
from operators.sink.table_committer import CompactionConflictNeedsRestart, RestoredCommitsNeedRestart, TableCommitterLogic
from operators.sink.table_writer import TableWriterLogic

SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("v", pa.string())])


@pytest.fixture
def catalog(tmp_path):
    catalog = paimon_py.CatalogFactory.create({"warehouse": str(tmp_path)})
    catalog.create_database("db")
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(
        SCHEMA, primary_keys=["id"], options={"bucket": "2"}))
    return catalog


def batch(ids, values, kinds=None, schema=SCHEMA):
    rows = pa.table({"id": ids, "v": values}, schema=schema).append_column(
        ROW_KIND_FIELD, pa.array(kinds or [RowKind.INSERT] * len(ids), pa.int8()))
    return ChangeBatch.of("db.t", rows)


def read(catalog):
    table = catalog.get_table("db.t")
    rb = table.new_read_builder()
    result = rb.new_read().to_arrow(rb.new_scan().plan().splits())
    return {r["id"]: r for r in result.to_pylist()}


def test_commit_on_completion_only_and_idempotent(catalog):
    writer, committer = TableWriterLogic(catalog), TableCommitterLogic(catalog, "job")
    writer.write(batch([1, 2], ["a", "b"]))
    pending = writer.prepare_commit(1)
    writer.write(batch([2, 3], [None, "c"], [RowKind.DELETE, RowKind.INSERT]))
    pending += writer.prepare_commit(2)
    assert read(catalog) == {}  # nothing visible before a checkpoint completes
    snapshots, pending = committer.commit(pending, up_to=1)
    assert [s.commit_identifier for s in snapshots] == [1] and len(pending) == 1
    assert set(read(catalog)) == {1, 2}
    again, _ = committer.commit(writer.prepare_commit(1) + [c for c in pending], up_to=2)
    assert [s.commit_identifier for s in again] == [2]
    assert committer.latest_snapshots == {"db.t": again[-1].id} and committer.latency_ms >= 0
    # the same committables once more (a replay after restore): nothing new
    replay, _ = TableCommitterLogic(catalog, "job").commit(pending, up_to=2)
    assert replay == []
    assert set(read(catalog)) == {1, 3}
    writer.close()


def test_restore_commits_then_fails_once(catalog):
    writer = TableWriterLogic(catalog)
    writer.write(batch([1], ["a"]))
    state = writer.prepare_commit(5)
    writer.close()
    committer = TableCommitterLogic(catalog, "job")
    with pytest.raises(RestoredCommitsNeedRestart):
        committer.restore(state, restored_id=5)
    assert set(read(catalog)) == {1}
    assert TableCommitterLogic(catalog, "job").restore(state, restored_id=5) == []  # second restart


def compacting_job_checkpoint(writer: TableWriterLogic, checkpoint: int):
    """The committables of ``checkpoint`` when the job's writer also compacted both buckets fully."""
    for bucket in (0, 1):
        writer.writes["db.t"].compact((), bucket, full_compaction=True)
    return writer.prepare_commit(checkpoint)


@pytest.mark.parametrize("options", [{}, {"deletion-vectors.enabled": "true"}], ids=["merge-on-read", "dv"])
def test_a_compaction_another_writer_made_obsolete_is_discarded_and_no_row_is_lost(tmp_path, options):
    catalog = paimon_py.CatalogFactory.create({"warehouse": str(tmp_path)})
    catalog.create_database("db")
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(
        SCHEMA, primary_keys=["id"], options={"bucket": "2", **options}))
    earlier = catalog.get_table("db.t").copy({"write-only": "true"})  # level-0 files to compact
    helpers.write_batches(earlier, pa.table({"id": list(range(20)), "v": ["a"] * 20}, schema=SCHEMA))
    writer, committer = TableWriterLogic(catalog), TableCommitterLogic(catalog, "job")
    writer.write(batch(list(range(10, 30)), ["b"] * 20))
    pending = compacting_job_checkpoint(writer, 2)
    external = catalog.get_table("db.t").new_full_compaction().run()  # `paimon-cdc compact` commits first
    assert external.snapshot is not None
    with pytest.raises(CompactionConflictNeedsRestart, match="compaction of db.t for checkpoint 2 was discarded"):
        committer.commit(pending, up_to=2)
    table = catalog.get_table("db.t")
    assert [s.commit_kind.value for s in table.snapshot_manager.snapshots_backwards()][:2] == ["APPEND", "COMPACT"]
    compactions = [m.compaction() for c in pending for m in c.messages]
    assert compactions and not [p for p in compaction_output_paths(table, compactions) if table.file_io.exists(p)]
    writer.close()
    # the restart: the restored state holds checkpoint 2, already committed; writers start from the table
    assert TableCommitterLogic(catalog, "job").restore(pending, restored_id=2) == []  # no second failure
    restarted = TableWriterLogic(catalog)
    restarted.write(batch([0], ["c"]))
    TableCommitterLogic(catalog, "job").commit(compacting_job_checkpoint(restarted, 3), up_to=3)
    restarted.close()
    expected = {i: {"id": i, "v": "c" if i == 0 else "a" if i < 10 else "b"} for i in range(30)}
    assert read(catalog) == expected
    assert {r["id"]: r for r in helpers.read_arrow(helpers.pypaimon_catalog(str(tmp_path)).get_table("db.t"))
            .to_pylist()} == expected


def test_writer_picks_up_a_newer_schema(catalog):
    writer, committer = TableWriterLogic(catalog, schema_retry_interval_s=0.01), TableCommitterLogic(catalog, "job")
    writer.write(batch([1], ["a"]))
    catalog.alter_table("db.t", [paimon_py.SchemaChange.add_column("n", pa.int64())])
    wider = SCHEMA.append(pa.field("n", pa.int64()))
    rows = pa.table({"id": [2], "v": ["b"], "n": [7]}, schema=wider).append_column(ROW_KIND_FIELD, all_inserts(1))
    writer.write(ChangeBatch.of("db.t", rows))
    committer.commit(writer.prepare_commit(1), up_to=1)
    assert read(catalog) == {1: {"id": 1, "v": "a", "n": None}, 2: {"id": 2, "v": "b", "n": 7}}
    assert writer.stats().rows_written == 2, "rows written under the old schema still count"
    unknown = rows.append_column("later", pa.array([1]))
    with pytest.raises(TimeoutError, match="cdc.schema-change-retry-max-num"):
        TableWriterLogic(catalog, schema_retry_interval_s=0.01, schema_retry_max=2).write(
            ChangeBatch.of("db.t", unknown))
    writer.close()


def test_schema_evolution_adds_widens_ignores_and_refuses(catalog):
    from operators.sink.schema_evolution import IncompatibleSchemaChange, SchemaEvolutionLogic

    catalog.create_table("db.s", paimon_py.Schema.from_pyarrow_schema(pa.schema([
        pa.field("id", pa.int64(), nullable=False), pa.field("n", pa.int32()),
        pa.field("s", pa.string())]), primary_keys=["id"], options={"bucket": "1"}))
    evolution = SchemaEvolutionLogic(catalog)
    source = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("n", pa.int64()),
                        pa.field("s", pa.string()), pa.field("new", pa.float64())])
    assert [c.action for c in evolution.apply("db.s", source)] == ["update_column_type", "add_column"]
    narrowed = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("n", pa.int16())])
    assert evolution.apply("db.s", narrowed) == []
    table = catalog.get_table("db.s")
    assert str(table.schema.field("n").type) == "BIGINT" and table.schema.field_names[-1] == "new"
    incompatible = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("s", pa.int32())])
    with pytest.raises(IncompatibleSchemaChange, match="db.s: column 's'.*--ignore_incompatible"):
        evolution.apply("db.s", incompatible)
    assert SchemaEvolutionLogic(catalog, ignore_incompatible=True).apply("db.s", incompatible) == []


def test_newer_updates_win_across_a_schema_change_inside_one_checkpoint(catalog):
    """The writer of the new schema continues the old writer's sequence numbers, even though the
    old writer's files are not committed yet: the later update must win."""
    writer, committer = TableWriterLogic(catalog, schema_retry_interval_s=0.01), TableCommitterLogic(catalog, "job")
    for i in range(3):
        writer.write(batch([1, 2], [f"old{i}", f"old{i}"]))
    catalog.alter_table("db.t", [paimon_py.SchemaChange.add_column("n", pa.int64())])
    wider = SCHEMA.append(pa.field("n", pa.int64()))
    rows = pa.table({"id": [1], "v": ["new"], "n": [1]}, schema=wider).append_column(ROW_KIND_FIELD, pa.array([RowKind.UPDATE_AFTER], pa.int8()))
    writer.write(ChangeBatch.of("db.t", rows))
    committer.commit(writer.prepare_commit(1), up_to=1)
    assert read(catalog) == {1: {"id": 1, "v": "new", "n": 1}, 2: {"id": 2, "v": "old2", "n": None}}
    writer.close()


def test_bucket_router_splits_by_partition_and_bucket_like_the_writer(tmp_path):
    from operators.sink.bucket_router import BucketRouter

    catalog = paimon_py.CatalogFactory.create({"warehouse": str(tmp_path)})
    catalog.create_database("db")
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("day", pa.string(), nullable=False),
                        pa.field("v", pa.string())])
    catalog.create_table("db.p", paimon_py.Schema.from_pyarrow_schema(
        schema, primary_keys=["id", "day"], partition_keys=["day"], options={"bucket": "3"}))
    rows = pa.table({"id": list(range(40)), "day": ["a", "b"] * 20, "v": ["x"] * 40}, schema=schema)
    routed = BucketRouter(catalog).route(ChangeBatch.of("db.p", rows.append_column(ROW_KIND_FIELD, all_inserts(40))))
    assert sum(b.rows().num_rows for _, b in routed) == 40
    # write directly and compare where each key landed
    table = catalog.get_table("db.p")
    write = table.new_file_store_write()
    write.write(rows)
    messages = write.prepare_commit()
    write.close()
    table.new_file_store_commit().commit(messages)
    placed = {}
    for m in messages:
        for f in m.new_files:
            placed[(m.partition[0], m.bucket)] = f.row_count
    assert {(key.split("/")[1].split("=")[1], int(key.rsplit("-", 1)[1])): b.rows().num_rows for key, b in routed} == placed


def test_a_batch_waits_for_its_schema_and_is_never_written_under_an_older_one(catalog):
    """Schema events travel beside the data: a writer holding a batch with a new column waits
    until the schema evolution operator (here: another thread, later) has added it."""
    wider = SCHEMA.append(pa.field("n", pa.int64()))
    rows = pa.table({"id": [1], "v": ["a"], "n": [5]}, schema=wider).append_column("_row_kind", pa.array([0], pa.int8()))
    evolve = threading.Timer(0.3, lambda: catalog.alter_table(
        "db.t", [paimon_py.SchemaChange.add_column("n", pa.int64())]))
    evolve.start()
    writer, committer = TableWriterLogic(catalog, schema_retry_interval_s=0.05), TableCommitterLogic(catalog, "job")
    started = time.monotonic()
    writer.write(ChangeBatch.of("db.t", rows))
    assert time.monotonic() - started >= 0.25
    committer.commit(writer.prepare_commit(1), up_to=1)
    assert read(catalog) == {1: {"id": 1, "v": "a", "n": 5}}
    writer.close()


def test_a_schema_that_never_comes_names_the_table_and_column(catalog):
    wider = SCHEMA.append(pa.field("n", pa.int64()))
    rows = pa.table({"id": [1], "v": ["a"], "n": [5]}, schema=wider).append_column("_row_kind", pa.array([0], pa.int8()))
    writer = TableWriterLogic(catalog, schema_retry_interval_s=0.01, schema_retry_max=3)
    with pytest.raises(TimeoutError, match="table db.t still lacks column n BIGINT .* after 3 retries"):
        writer.write(ChangeBatch.of("db.t", rows))


def test_the_router_routes_an_announced_table_before_it_exists(catalog):
    """The schema event that creates a table travels beside its first batches: the router routes
    them by the schema the table will have, without waiting; a table nobody announced is waited
    for, bounded, with an error naming it."""
    from operators.cdc.schema_event import SchemaEvent
    from operators.cdc.table_spec import TableSpec
    from operators.sink.bucket_router import BucketRouter
    from operators.sink.schema_wait import SchemaWait

    rows = pa.table({"id": [1, 2, 3], "v": ["a", "b", "c"]}, schema=SCHEMA).append_column(
        "_row_kind", pa.array([0] * 3, pa.int8()))
    router = BucketRouter(catalog, SchemaWait(catalog, 0.01, 2))
    router.expect(SchemaEvent("db.late", SCHEMA, TableSpec(("id",), (), {"bucket": "2"})))
    routed = router.route(ChangeBatch.of("db.late", rows))
    assert not catalog.table_exists("db.late")
    catalog.create_table("db.late", paimon_py.Schema.from_pyarrow_schema(SCHEMA, primary_keys=["id"],
                                                                         options={"bucket": "2"}))
    assert routed == BucketRouter(catalog).route(ChangeBatch.of("db.late", rows))
    with pytest.raises(TimeoutError, match="table db.never still lacks \\(the table itself\\)"):
        router.route(ChangeBatch.of("db.never", rows))

def test_flink_router_and_file_store_write_agree_row_by_row(tmp_path):
    """Same rows -> same (partition, bucket): the Flink router's groups and the files a direct
    write puts each row in, on a table with two partition keys (one value the default partition), a multi-column
    bucket key, and key columns sent in narrower types than the table's."""
    from operators.sink.bucket_router import BucketRouter
    from paimon_py.operation.row_router import RowRouter

    catalog = paimon_py.CatalogFactory.create({"warehouse": str(tmp_path)})
    catalog.create_database("db")
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("day", pa.string(), nullable=False),
                        pa.field("region", pa.int32(), nullable=False), pa.field("k", pa.string(), nullable=False),
                        pa.field("v", pa.string())])
    catalog.create_table("db.p", paimon_py.Schema.from_pyarrow_schema(
        schema, primary_keys=["id", "k", "day", "region"], partition_keys=["day", "region"],
        options={"bucket": "5", "bucket-key": "id,k"}))
    n = 600
    rows = pa.table({"id": [i * 7919 % 1000 for i in range(n)], "day": ["d1", "d2", " "] * (n // 3),
                     "region": [i % 4 for i in range(n)],
                     "k": [f"key-{i}" * (i % 3 + 1) for i in range(n)], "v": [f"v{i}" for i in range(n)]},
                    schema=schema)
    narrow = rows.set_column(0, "id", rows.column("id").cast(pa.int32()))  # as a source may send it
    routed = BucketRouter(catalog).route(ChangeBatch.of("db.p", narrow.append_column(ROW_KIND_FIELD, all_inserts(n))))
    by_router = {}
    for key, batch_ in routed:
        for row in batch_.rows().to_pylist():
            by_router[(row["id"], row["k"], row["day"], row["region"])] = key
    assert len(by_router) == n == sum(b.rows().num_rows for _, b in routed)

    table = catalog.get_table("db.p")
    write = table.new_file_store_write()
    groups = write.router.route(rows)
    by_writer = {}
    for partition, bucket, part in groups:
        key = f"db.p/{table.partition_computer.path(partition)}/bucket-{bucket}"
        for row in part.to_pylist():
            by_writer[(row["id"], row["k"], row["day"], row["region"])] = key
    assert by_writer == by_router
    assert len({key for key, _ in routed}) == len(groups) > 5 * 3  # many (partition, bucket) pairs

    # and the files the write produces sit in exactly those (partition, bucket)s
    write.write(rows)
    messages = write.prepare_commit()
    write.close()
    written = {(table.partition_computer.path(m.partition), m.bucket): sum(f.row_count for f in m.new_files)
               for m in messages}
    expected = Counter()
    for key in by_router.values():
        path, bucket = key.removeprefix("db.p/").rsplit("/bucket-", 1)
        expected[(path, int(bucket))] += 1
    assert written == dict(expected)

    # per row: RowRouter.assign gives the bucket of Java's hash (bucket.bucket_of over hash_code)
    from paimon_py.bucket import bucket_of, hash_code
    routing = RowRouter(table.schema).assign(narrow)
    key_types = table.schema.types_of(["id", "k"])
    for i, row in enumerate(rows.to_pylist()):
        assert routing.bucket_of_row[i] == bucket_of(hash_code([row["id"], row["k"]], key_types), 5)
        assert routing.partitions[routing.partition_of_row[i]] == (row["day"], row["region"])


def test_the_committer_assigns_row_ids_of_a_row_tracking_append_table(tmp_path):
    """``--table_conf row-tracking.enabled=true`` on an append table: each checkpoint's rows get
    the next ids; a long-lived writer never compacts files whose ids it does not know yet."""
    catalog = paimon_py.CatalogFactory.create({"warehouse": str(tmp_path)})
    catalog.create_database("db")
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(
        SCHEMA, options={"row-tracking.enabled": "true", "compaction.min.file-num": "2"}))
    writer, committer = TableWriterLogic(catalog), TableCommitterLogic(catalog, "job")
    for checkpoint in range(1, 5):
        writer.write(batch([checkpoint * 10, checkpoint * 10 + 1], ["a", "b"]))
        committer.commit(writer.prepare_commit(checkpoint), up_to=checkpoint)
    writer.close()
    later = TableWriterLogic(catalog)  # a restarted job compacts what the first one committed
    later.write(batch([50], ["c"]))
    committer.commit(later.prepare_commit(5), up_to=5)
    later.close()
    rb = catalog.get_table("db.t").new_read_builder().with_projection(["id", "_ROW_ID", "_SEQUENCE_NUMBER"])
    rows = sorted(rb.new_read().to_arrow(rb.new_scan().plan().splits()).to_pylist(), key=lambda r: r["_ROW_ID"])
    assert [(r["id"], r["_ROW_ID"]) for r in rows] == [((i // 2 + 1) * 10 + i % 2, i) for i in range(8)] + [(50, 8)]
    assert [r["_SEQUENCE_NUMBER"] for r in rows] == [1, 1, 2, 2, 3, 3, 4, 4, 5]
    assert "COMPACT" in [s.commit_kind.value for s in catalog.get_table("db.t").snapshot_manager.snapshots_backwards()]


def _sync_dynamic(catalog, checkpoint: int, ids: range, tag: str, writers: dict, one_writer: bool) -> None:
    """Parser -> two assigners -> writers by key -> committer, as the job's topology does; with
    ``one_writer`` as a job with one writer subtask: that writer assigns the buckets itself."""
    from operators.sink.bucket_assigner import BucketAssignerLogic
    from operators.sink.bucket_router import BucketRouter
    router = BucketRouter(catalog, assigner_parallelism=2)
    assigner = BucketAssignerLogic(catalog, 2)  # one object: assigner ids keep their own state
    for start in range(ids.start, ids.stop, 100):
        for key, part in router.route(batch(list(range(start, min(start + 100, ids.stop))), [tag] * 100)):
            assert router.is_dynamic("db.t") and key.startswith("db.t/assigner-")
            if one_writer:
                writer = writers.setdefault("the one", TableWriterLogic(catalog))
                writer.write_rows(part.table, assigner.assigned_rows(key, part.table, part.rows()))
                continue
            for writer_key, assigned in assigner.assign(key, part):
                writers.setdefault(writer_key, TableWriterLogic(catalog)).write(assigned)
    committables = [c for w in writers.values() for c in w.prepare_commit(checkpoint)]
    TableCommitterLogic(catalog, "job").commit(committables, up_to=checkpoint)


@pytest.mark.parametrize("one_writer", [False, True], ids=["assigner operators", "assigned by the one writer"])
def test_dynamic_bucket_tables_go_through_assigners_that_own_disjoint_buckets(tmp_path, one_writer):
    from tests.support.dynamic_bucket import assert_dynamic_bucket_layout
    catalog = paimon_py.CatalogFactory.create({"warehouse": str(tmp_path)})
    catalog.create_database("db")
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(
        SCHEMA, primary_keys=["id"], options={"bucket": "-1", "dynamic-bucket.target-row-num": "150"}))
    writers = {}
    _sync_dynamic(catalog, 1, range(0, 1000), "a", writers, one_writer)
    first = assert_dynamic_bucket_layout(catalog.get_table("db.t"))
    assert {b % 2 for _, b in first} == {0, 1} and max(first.values()) <= 150
    for writer in writers.values():
        writer.close()
    _sync_dynamic(catalog, 2, range(500, 1600), "b", {}, one_writer)  # restarted: assigners and writers from the index
    layout = assert_dynamic_bucket_layout(catalog.get_table("db.t"))
    assert all(layout[where] >= rows for where, rows in first.items())   # old keys stayed
    assert sum(layout.values()) == 1600 and max(layout.values()) <= 150
    assert {r["v"] for r in read(catalog).values()} == {"a", "b"}


def test_a_batch_for_one_assigner_goes_as_it_came(tmp_path):
    """With one assigner channel a dynamic-bucket table's batch is not split: the parser hands the
    same ``ChangeBatch`` on (its rows neither decoded nor encoded again on the parallelism-1 path);
    with two it is split by key hash and every row goes to exactly one assigner."""
    from operators.sink.bucket_router import BucketRouter
    catalog = paimon_py.CatalogFactory.create({"warehouse": str(tmp_path)})
    catalog.create_database("db")
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(SCHEMA, primary_keys=["id"],
                                                                     options={"bucket": "-1"}))
    rows = batch(list(range(100)), ["a"] * 100)
    [(key, routed)] = BucketRouter(catalog, assigner_parallelism=1).route(rows)
    assert key == "db.t/assigner-0" and routed is rows
    split = BucketRouter(catalog, assigner_parallelism=2).route(rows)
    assert sorted(key for key, _ in split) == ["db.t/assigner-0", "db.t/assigner-1"]
    assert sorted(i for _, part in split for i in part.rows().column("id").to_pylist()) == list(range(100))


def test_assigner_keys_are_told_from_writer_keys():
    from operators.sink.bucket_router import assigner_id, assigner_key, is_assigner_key
    assert is_assigner_key(assigner_key("db.t", 3)) and assigner_id(assigner_key("db.t", 3)) == 3
    assert not is_assigner_key("db.t/bucket-3")
    assert not is_assigner_key("db.t/assigner-id=7/bucket-0")  # a partition column named like it
