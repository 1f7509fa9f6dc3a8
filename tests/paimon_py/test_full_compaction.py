"""paimon_py's dedicated compaction API: ``FileStoreWrite.compact``, ``FullCompaction``,
``FileStoreTable.copy``, and the commit check that keeps a bucket's deletion vectors from being
overwritten by a commit made from an older state (``paimon-cdc compact`` builds on these)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from paimon_py.exceptions import CommitConflictError, UnsupportedFeatureError
from paimon_py.io.data_file_meta import FILE_SOURCE_COMPACT
from tests.support import helpers as h

SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("v", pa.string())])


def rows(ids, value):
    return pa.table({"id": list(ids), "v": [value] * len(ids)}, schema=SCHEMA)


def live(table):
    return table.new_scan().live_entries(table.snapshot_manager.latest_snapshot())


def test_write_only_tables_compact_through_a_copy(tmp_path):
    table = h.create_table(h.paimon_py_catalog(tmp_path), "t", SCHEMA, primary_keys=["id"],
                           options={"bucket": "1", "write-only": "true"})
    for i in range(3):
        h.write_batches(table, rows(range(i, i + 3), f"c{i}"))
    write = table.new_file_store_write()
    with pytest.raises(UnsupportedFeatureError, match="does not compact"):
        write.compact((), 0)
    write.close()
    copy = table.copy({"write-only": "false"})
    assert not copy.options.write_only and copy.schema.id == table.schema.id
    assert table.options.write_only and h.paimon_py_catalog(tmp_path).get_table("db.t").options.write_only
    write = copy.new_file_store_write()
    write.compact((), 0, full_compaction=True)
    messages = write.prepare_commit()
    write.close()
    assert [(len(m.compact_before), [f.level for f in m.compact_after]) for m in messages] == [(3, [5])]
    copy.new_file_store_commit().commit(messages)
    assert h.rows_sorted(table, ["id"]) == [{"id": 0, "v": "c0"}, {"id": 1, "v": "c1"}, {"id": 2, "v": "c2"},
                                           {"id": 3, "v": "c2"}, {"id": 4, "v": "c2"}]


def test_full_compaction_of_an_append_bucket_keeps_the_order(tmp_path):
    table = h.create_table(h.paimon_py_catalog(tmp_path), "log", SCHEMA,
                           options={"bucket": "1", "bucket-key": "id", "write-only": "true"})
    for i in range(4):
        h.write_batches(table, rows([10 - i, i], f"c{i}"))
    result = table.new_full_compaction().run()
    assert (result.files_before, result.files_after, result.snapshot.commit_kind.value) == (4, 1, "COMPACT")
    assert [e.file.file_source for e in live(table)] == [FILE_SOURCE_COMPACT]
    assert [r["v"] for r in h.read_arrow(table).to_pylist()] == ["c0", "c0", "c1", "c1", "c2", "c2", "c3", "c3"]
    assert table.new_full_compaction().run().snapshot is None  # one file: nothing to merge


def test_full_compaction_produces_the_full_compaction_changelog(tmp_path):
    table = h.create_table(h.paimon_py_catalog(tmp_path), "t", SCHEMA, primary_keys=["id"],
                           options={"bucket": "1", "changelog-producer": "full-compaction", "write-only": "true"})
    h.write_batches(table, rows([1, 2], "a"))
    h.write_batches(table, rows([2], "b"))
    snapshot = table.new_full_compaction().run().snapshot
    assert snapshot.changelog_record_count == 2  # +I 1 and +I 2 (with its latest value): nothing was compacted before


def test_a_commit_from_an_older_deletion_vector_state_is_refused(tmp_path):
    """Two writers of one deletion-vector bucket: the second one's new index file is made from the
    index file the first one already replaced (reported as deleted); it must not drop the first
    one's deletions. ``tests/operators/console/test_compact.py`` has the case where only the
    deletion vectors conflict."""
    table = h.create_table(h.paimon_py_catalog(tmp_path), "dv", SCHEMA, primary_keys=["id"],
                           options={"bucket": "1", "deletion-vectors.enabled": "true"})
    h.write_batches(table, rows(range(6), "old"))
    h.write_batches(table, rows([0], "x"))  # the bucket now has an index file
    first, second = table.new_file_store_write(), table.new_file_store_write()
    first.write(rows([1], "first"))
    second.write(rows([2], "second"))
    first_messages, second_messages = first.prepare_commit(), second.prepare_commit()
    assert [len(m.deleted_index_files) for m in first_messages + second_messages] == [1, 1]
    table.new_file_store_commit().commit(first_messages)
    with pytest.raises(CommitConflictError):  # its compaction's files or its deletion vectors
        table.new_file_store_commit().commit(second_messages)
    first.close()
    second.close()
    assert h.rows_sorted(table, ["id"]) == [{"id": 0, "v": "x"}, {"id": 1, "v": "first"}, {"id": 2, "v": "old"},
                                           {"id": 3, "v": "old"}, {"id": 4, "v": "old"}, {"id": 5, "v": "old"}]
