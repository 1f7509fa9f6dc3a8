"""Commit protocol: exactly-once filtering, retries, unknown outcomes, manifest merging, conflicts."""

import pyarrow as pa
import pytest

import paimon_py
from paimon_py import CommitConflictError, Schema
from paimon_py.operation.commit_message import CommitMessage
from paimon_py.snapshot.snapshot import CommitKind
from tests.support.helpers import run_in_threads

PA_SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("v", pa.string())])


@pytest.fixture
def table(tmp_path):
    catalog = paimon_py.CatalogFactory.create({"warehouse": str(tmp_path)})
    catalog.create_database("db")
    catalog.create_table("db.t", Schema.from_pyarrow_schema(
        PA_SCHEMA, primary_keys=["id"], options={"bucket": "2"}))
    return catalog.get_table("db.t")


def write_files(table, ids, value="x"):
    write = table.new_file_store_write()
    write.write(pa.table({"id": ids, "v": [value] * len(ids)}, schema=PA_SCHEMA))
    return write.prepare_commit()


def read_all(table) -> dict:
    rb = table.new_read_builder()
    result = rb.new_read().to_arrow(rb.new_scan().plan().splits())
    return dict(zip(result.column("id").to_pylist(), result.column("v").to_pylist()))


def test_filter_committed_drops_identifiers_already_in_snapshots(table):
    commit = table.new_file_store_commit("job-1")
    assert commit.filter_committed([1, 2, 3]) == [1, 2, 3]
    commit.commit(write_files(table, [1]), identifier=1)
    commit.commit(write_files(table, [2]), identifier=2)
    restored = table.new_file_store_commit("job-1")
    assert restored.filter_committed([1, 2, 3, 4]) == [3, 4]
    assert table.new_file_store_commit("job-2").filter_committed([1, 2]) == [1, 2]


def test_concurrent_writers_all_land(table):
    def writer(i):
        table.new_file_store_commit(f"w{i}").commit(write_files(table, [i * 10, i * 10 + 1]))

    assert run_in_threads(writer, 6) == []
    assert table.snapshot_manager.list_ids() == [1, 2, 3, 4, 5, 6]
    assert sorted(read_all(table)) == sorted(k for i in range(6) for k in (i * 10, i * 10 + 1))
    latest = table.snapshot_manager.latest_snapshot()
    assert latest.total_record_count == 12


def test_retry_after_unknown_outcome_does_not_commit_twice(table, monkeypatch):
    commit = table.new_file_store_commit("job")
    manager = commit.snapshot_manager
    original = manager.try_create
    calls = []

    def flaky(snapshot):
        calls.append(snapshot.id)
        created = original(snapshot)
        if len(calls) == 1:
            raise OSError("connection lost after the write")
        return created

    monkeypatch.setattr(manager, "try_create", flaky)
    snapshots = commit.commit(write_files(table, [1, 2]), identifier=7)
    assert manager.list_ids() == [1]
    assert snapshots[0].id == 1 and snapshots[0].commit_identifier == 7
    assert read_all(table) == {1: "x", 2: "x"}


def test_base_manifests_are_merged_and_still_read_correctly(table):
    commit = table.new_file_store_commit()
    for i in range(35):
        commit.commit(write_files(table, [i % 7, 100 + i], value=str(i)))
    scan = table.new_scan()
    latest = table.snapshot_manager.latest_snapshot()
    assert len(scan.data_manifests(latest)) < 30
    expected = {k: str(max(i for i in range(35) if i % 7 == k)) for k in range(7)}
    expected.update({100 + i: str(i) for i in range(35)})
    assert read_all(table) == expected


def test_compaction_of_a_file_that_is_gone_is_a_conflict(table):
    commit = table.new_file_store_commit()
    message = write_files(table, [1, 2, 3])
    commit.commit(message)
    stale = [CommitMessage(
        m.partition, m.bucket, m.total_buckets, compact_before=m.new_files,
        compact_after=[]) for m in message]
    overwrite = table.new_file_store_commit()
    overwrite.overwrite(None, write_files(table, [9]))
    with pytest.raises(CommitConflictError, match="File deletion conflicts"):
        commit.commit(stale)
    assert table.snapshot_manager.latest_snapshot().commit_kind == CommitKind.OVERWRITE
    assert read_all(table) == {9: "x"}


def test_latest_hint_follows_snapshots(table, tmp_path):
    table.new_file_store_commit().commit(write_files(table, [1]))
    table.new_file_store_commit().commit(write_files(table, [2]))
    hint = (tmp_path / "db.db" / "t" / "snapshot" / "LATEST").read_text()
    assert hint == "2"


def test_overlapping_files_on_one_level_are_a_conflict(table):
    first = write_files(table, [1, 2, 3, 4, 5, 6])
    second = write_files(table, [1, 2, 3, 4, 5, 6], value="y")
    commit = table.new_file_store_commit()
    commit.commit(first + second)
    upgraded = [CommitMessage(a.partition, a.bucket, a.total_buckets,
                              compact_before=a.new_files + b.new_files,
                              compact_after=[f.upgrade(1) for f in a.new_files + b.new_files])
                for a, b in zip(first, second)]
    with pytest.raises(CommitConflictError, match="LSM conflicts detected"):
        commit.commit(upgraded)
    assert table.snapshot_manager.list_ids() == [1]
    assert read_all(table) == {k: "y" for k in range(1, 7)}


def test_bucket_count_change_is_a_conflict(table, tmp_path):
    commit = table.new_file_store_commit()
    commit.commit(write_files(table, [1, 2, 3]))
    messages = write_files(table, [4])
    rescaled = [CommitMessage(m.partition, m.bucket, 3, new_files=m.new_files) for m in messages]
    with pytest.raises(CommitConflictError, match="Bucket count"):
        commit.commit(rescaled)
    assert table.snapshot_manager.list_ids() == [1]
