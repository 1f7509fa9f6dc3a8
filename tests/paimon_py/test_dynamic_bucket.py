"""Dynamic bucket mode (``bucket = -1`` primary-key tables): bucket assignment as Paimon's, the
HASH index paimon_py writes (a second writer refused at commit), and pypaimon 2.1.0 reading the
tables."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from paimon_py.exceptions import CommitConflictError
from paimon_py.index.bucket_assigner import HashBucketAssigner, assigner_of
from paimon_py.index.partition_index import BucketOwnership, PartitionIndex
from tests.support import helpers as h
from tests.support.dynamic_bucket import assert_dynamic_bucket_layout, bucket_index

SCHEMA = pa.schema([pa.field("pt", pa.int32(), nullable=False), pa.field("id", pa.int64(), nullable=False),
                    pa.field("v", pa.string())])


def _assigner(assign_id: int, channels: int, assigners: int, target: int, max_buckets: int = -1,
              files=()) -> HashBucketAssigner:
    return HashBucketAssigner(lambda partition: list(files), lambda partition: 7, channels, assigners,
                              assign_id, target, max_buckets)


def _keys(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-2**31, 2**31, n).astype(np.int32)


def test_new_keys_fill_buckets_to_the_target_then_open_new_ones():
    assigner = _assigner(0, 1, 1, target=10)
    keys = _keys(35)
    buckets = assigner.assign((), keys).buckets
    assert sorted(np.bincount(buckets).tolist()) == [5, 10, 10, 10]
    assert (assigner.assign((), keys[::-1]).buckets == buckets[::-1]).all()   # a key keeps its bucket


def test_several_assigners_never_create_the_same_bucket():
    keys = _keys(400, seed=1)
    owner = assigner_of(7, keys, 3, 3)
    created = {}
    for assign_id in range(3):
        mine = keys[owner == assign_id]
        created[assign_id] = set(_assigner(assign_id, 3, 3, target=20).assign((), mine).buckets.tolist())
        assert all(BucketOwnership(3, assign_id).owns(b) for b in created[assign_id])
    assert not (created[0] & created[1] or created[1] & created[2] or created[0] & created[2])


def test_initial_buckets_limit_the_assigners_of_a_partition():
    """``dynamic-bucket.initial-buckets`` 1 with 4 channels: one assigner takes the partition."""
    assert len(set(assigner_of(7, _keys(1000), 4, 1).tolist())) == 1
    assert len(set(assigner_of(7, _keys(1000), 4, 4).tolist())) == 4


def test_an_assigner_restores_from_the_index_and_keeps_counting():
    keys = _keys(30, seed=2)
    files = [(0, keys[:10]), (1, keys[10:15])]
    assigner = _assigner(0, 1, 1, target=10, files=files)
    assert assigner.assign((), keys[:15]).buckets.tolist() == [0] * 10 + [1] * 5
    assert np.bincount(assigner.assign((), keys[15:]).buckets).tolist() == [0, 5, 10]


def test_max_buckets_sends_new_keys_to_existing_buckets():
    buckets = _assigner(0, 1, 1, target=10, max_buckets=2).assign((), _keys(100, seed=3)).buckets
    assert set(buckets.tolist()) == {0, 1}


def test_partition_index_loads_only_its_own_hashes():
    keys = _keys(100, seed=4)
    index = PartitionIndex.load([(0, keys[:60]), (1, keys[60:])], 1000, lambda hashes: hashes % 2 == 0,
                                BucketOwnership(2, 1))
    assert set(index.buckets_by_hash.keys().tolist()) == set(keys[keys % 2 == 0].tolist())
    assert index.non_full == {1: 40}


def _batch(ids: np.ndarray, tag: str) -> pa.Table:
    return pa.table({"pt": pa.array(ids % 2, pa.int32()), "id": ids, "v": [f"{tag}{i}" for i in ids]},
                    schema=SCHEMA)


def test_paimon_py_writes_a_dynamic_bucket_table_that_pypaimon_reads(tmp_path):
    table = h.create_table(h.paimon_py_catalog(tmp_path), "t", SCHEMA, partition_keys=["pt"],
                           primary_keys=["pt", "id"], options={"dynamic-bucket.target-row-num": "100"})
    expected = {}
    for commit, (start, stop) in enumerate([(0, 150), (100, 300), (0, 500)]):
        ids = np.arange(start, stop)
        h.write_batches(table, _batch(ids, f"c{commit}-"))
        expected.update({(int(i % 2), int(i)): f"c{commit}-{i}" for i in ids})
        table = h.paimon_py_catalog(tmp_path).get_table(f"{h.DB}.t")
        layout = assert_dynamic_bucket_layout(table)
    assert sorted(layout.values()) == [50, 50, 100, 100, 100, 100]   # 250 keys per partition
    ours = {(r["pt"], r["id"]): r["v"] for r in h.rows_sorted(table, ["pt", "id"])}
    assert ours == expected
    theirs = h.rows_sorted(h.pypaimon_catalog(tmp_path).get_table(f"{h.DB}.t"), ["pt", "id"])
    assert {(r["pt"], r["id"]): r["v"] for r in theirs} == expected


def test_updates_and_deletes_keep_their_bucket(tmp_path):
    schema = SCHEMA.append(pa.field("rk", pa.string()))
    table = h.create_table(h.paimon_py_catalog(tmp_path), "t", schema, primary_keys=["pt", "id"],
                           options={"dynamic-bucket.target-row-num": "50", "rowkind.field": "rk"})
    h.write_rows(table, schema, [{"pt": 0, "id": i, "v": "a", "rk": "+I"} for i in range(120)])
    before = bucket_index(table)
    h.write_rows(table, schema, [{"pt": 0, "id": i, "v": "b", "rk": "-D" if i % 3 else "+U"}
                                 for i in range(0, 120, 2)])
    table = h.paimon_py_catalog(tmp_path).get_table(f"{h.DB}.t")
    assert {k: sorted(v.tolist()) for k, v in bucket_index(table).items()} == \
        {k: sorted(v.tolist()) for k, v in before.items()}
    assert_dynamic_bucket_layout(table)
    rows = h.rows_sorted(table, ["id"])
    assert len(rows) == 120 - 40 and sum(r["v"] == "b" for r in rows) == 20


def test_hash_index_goes_into_the_append_snapshot(tmp_path):
    table = h.create_table(h.paimon_py_catalog(tmp_path), "t", SCHEMA, primary_keys=["pt", "id"])
    h.write_batches(table, _batch(np.arange(10), "x"))
    assert h.snapshot_kinds(h.table_dir(tmp_path, "t")) == ["APPEND"]
    assert bucket_index(table)


def test_a_second_writer_of_a_dynamic_bucket_table_is_refused_not_duplicating_keys(tmp_path):
    """Two writers that both loaded a bucket's HASH index: the first commit replaces it; the
    second would drop the first's keys from the index (and a later update of one of them could
    land in another bucket: a duplicate), so its commit is refused with what to do."""
    table = h.create_table(h.paimon_py_catalog(tmp_path), "t", SCHEMA, primary_keys=["pt", "id"])
    h.write_batches(table, _batch(np.arange(10), "a"))
    first, second = table.new_batch_write_builder(), table.new_batch_write_builder()
    first_write, second_write = first.new_write(), second.new_write()
    first_write.write_arrow(_batch(np.arange(10, 20), "b"))
    second_write.write_arrow(_batch(np.arange(20, 30), "c"))
    first.new_commit().commit(first_write.prepare_commit())
    messages = second_write.prepare_commit()
    with pytest.raises(CommitConflictError, match=r"the HASH index of bucket 0 .* takes one writer job — "):
        second.new_commit().commit(messages)
    table = h.paimon_py_catalog(tmp_path).get_table(f"{h.DB}.t")
    assert {key: len(hashes) for key, hashes in bucket_index(table).items()} == {((), 0): 20}
    assert [r["id"] for r in h.rows_sorted(table, ["id"])] == list(range(20))
    for write in (first_write, second_write):
        write.close()


def test_one_commit_of_two_prepared_index_files_of_a_bucket_is_not_a_conflict(tmp_path):
    """A writer that prepared twice before one commit (the Flink writer across a schema change)
    hands over X1 replacing X0 and X2 replacing X1: the chain replaces X0, which is current."""
    table = h.create_table(h.paimon_py_catalog(tmp_path), "t", SCHEMA, primary_keys=["pt", "id"])
    h.write_batches(table, _batch(np.arange(10), "a"))
    builder = table.new_batch_write_builder()
    write = builder.new_write()
    write.write_arrow(_batch(np.arange(10, 20), "b"))
    messages = write.prepare_commit()
    write.write_arrow(_batch(np.arange(20, 30), "c"))
    messages += write.prepare_commit()
    builder.new_commit().commit(messages)
    write.close()
    table = h.paimon_py_catalog(tmp_path).get_table(f"{h.DB}.t")
    assert {key: len(hashes) for key, hashes in bucket_index(table).items()} == {((), 0): 30}
    assert [r["id"] for r in h.rows_sorted(table, ["id"])] == list(range(30))


def test_the_maintainer_adds_only_keys_its_bucket_lacks_and_holds_no_copy_of_the_index(tmp_path):
    """The writer's maintainer keeps only the keys written since the last commit; the commit reads
    the bucket's index file (sorted, or in any order as Java writes it), adds what it lacks, and
    writes a new file only when something was added."""
    from paimon_py.index.hash_index_file import HashIndexFile
    from paimon_py.index.index_maintainer import DynamicBucketIndexMaintainer
    table = h.create_table(h.paimon_py_catalog(tmp_path), "t", SCHEMA, primary_keys=["pt", "id"])
    index_file = HashIndexFile(table.file_io, table.new_path_factory())
    java_ordered = index_file.write(np.array([9, -4, 7, 1], np.int32))
    maintainer = DynamicBucketIndexMaintainer(index_file, java_ordered)
    maintainer.notify(np.array([7, 1, 1], np.int32))   # known keys only (updates)
    assert maintainer.prepare_commit() == ([], []) and maintainer.pending == []
    maintainer.notify(np.array([3, 7], np.int32))
    maintainer.notify(np.array([3, -10], np.int32))
    [new], [replaced] = maintainer.prepare_commit()
    assert replaced == java_ordered and index_file.read(new).tolist() == [-10, -4, 1, 3, 7, 9]
    assert maintainer.prepare_commit() == ([], [])   # nothing pending
    maintainer.notify(np.array([2], np.int32))
    [newer], [replaced] = maintainer.prepare_commit()   # reads its own sorted file back
    assert replaced == new and index_file.read(newer).tolist() == [-10, -4, 1, 2, 3, 7, 9]


def test_rewriting_known_keys_commits_no_index_file(tmp_path):
    """Updates and deletes of keys the index holds: the assigner says they are not new, so the
    writer neither reads nor replaces the HASH index file; new keys in the same write do."""
    table = h.create_table(h.paimon_py_catalog(tmp_path), "t", SCHEMA, primary_keys=["pt", "id"],
                           options={"dynamic-bucket.target-row-num": "40"})
    h.write_batches(table, _batch(np.arange(100), "a"))
    files = {e.index_file.file_name for e in _index_entries(table)}
    h.write_batches(h.paimon_py_catalog(tmp_path).get_table(f"{h.DB}.t"), _batch(np.arange(0, 100, 3), "b"))
    table = h.paimon_py_catalog(tmp_path).get_table(f"{h.DB}.t")
    assert {e.index_file.file_name for e in _index_entries(table)} == files
    h.write_batches(table, _batch(np.arange(90, 110), "c"))   # 10 known keys, 10 new ones
    table = h.paimon_py_catalog(tmp_path).get_table(f"{h.DB}.t")
    assert len({e.index_file.file_name for e in _index_entries(table)} - files) == 1
    assert sum(len(v) for v in bucket_index(table).values()) == 110
    assert_dynamic_bucket_layout(table)


def _index_entries(table):
    snapshot = table.snapshot_manager.latest_snapshot()
    return table.new_index_manifest_file(table.new_path_factory()).read(snapshot.index_manifest)
