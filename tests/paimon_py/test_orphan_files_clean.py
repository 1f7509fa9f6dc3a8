"""Orphan file cleanup (format §9): unreferenced old files go, young and referenced files stay."""

from __future__ import annotations

import os
import shutil
import time

import pyarrow as pa

from paimon_py.operation.expire_snapshots import ExpireSnapshots
from paimon_py.operation.orphan_files_clean import OrphanFilesClean
from paimon_py.operation.table_files import TableFiles
from paimon_py.tag.tag_manager import TagManager
from tests.support import helpers as h
from tests.support.snapshot_history import (SCHEMA, History, assert_snapshots_read, files_on_disk, read_pypaimon,
                                            referenced_files, snapshot_files)

DAY_S = 24 * 3600


def age(path, seconds):
    """Make ``path`` look ``seconds`` old."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def age_everything(root, seconds):
    for directory, _dirs, files in os.walk(root):
        for name in files:
            age(os.path.join(directory, name), seconds)


def uncommitted_write(table, rows):
    """Data files of a write whose commit never happened (a crashed job)."""
    write = table.new_batch_write_builder().new_write()
    write.write_arrow(pa.Table.from_pylist(rows, schema=SCHEMA))
    messages = write.prepare_commit()
    write.close()
    return messages


def now_ms():
    return int(time.time() * 1000)


def test_old_orphans_removed_young_kept_referenced_never(warehouse):
    history = History(warehouse).standard()
    table = history.reopen()
    root = history.root
    age_everything(root, 3 * DAY_S)  # even referenced files are old: age alone must not matter

    before = files_on_disk(root)
    rows = [{"p": "a", "hr": 0, "id": 10_000 + i, "name": "x", "score": 1.0, "rk": "+I"} for i in range(30)]
    assert uncommitted_write(table, rows)
    leftover_data = files_on_disk(root) - before
    assert leftover_data
    for path in leftover_data:
        age(path, 2 * DAY_S)
    before = files_on_disk(root)
    assert uncommitted_write(table, [{**r, "id": r["id"] + 1000} for r in rows])
    young = files_on_disk(root) - before
    assert young
    stale_tmp = [os.path.join(root, "manifest", ".manifest-list-abc-0.1234.tmp"),
                 os.path.join(root, "p=b", "hr=0", "bucket-1", ".data-xyz-0.parquet.99.tmp"),
                 os.path.join(root, "snapshot", ".snapshot-99.5678.tmp")]
    young_tmp = [os.path.join(root, "manifest", ".manifest-young.1.tmp"),
                 os.path.join(root, "snapshot", ".snapshot-100.9.tmp")]
    for path in stale_tmp + young_tmp:
        with open(path, "wb") as f:
            f.write(b"partial")
    for path in stale_tmp:
        age(path, 2 * DAY_S)
    # an orphan in a partition nobody committed to, and metadata that must never be touched
    os.makedirs(os.path.join(root, "p=z", "hr=9", "bucket-0"))
    orphan_partition_file = os.path.join(root, "p=z", "hr=9", "bucket-0", "data-orphan-0.parquet")
    with open(orphan_partition_file, "wb") as f:
        f.write(b"x")
    os.makedirs(os.path.join(root, "consumer"), exist_ok=True)
    protected = [os.path.join(root, "consumer", "consumer-c1"), os.path.join(root, "schema", "schema-0"),
                 os.path.join(root, "snapshot", "LATEST"), os.path.join(root, "tag", "tag-x")]
    with open(protected[0], "w") as f:
        f.write('{"nextSnapshot": 3}')
    TagManager(table.file_io, root).create_tag("x", table.snapshot_manager.latest_snapshot())
    age(orphan_partition_file, 2 * DAY_S)
    for path in protected:
        age(path, 10 * DAY_S)

    referenced = referenced_files(table)
    on_disk_before = files_on_disk(root)
    older_than = now_ms() - DAY_S * 1000

    # dry run: reports, deletes nothing
    planned = OrphanFilesClean(table, older_than, dry_run=True).clean()
    assert files_on_disk(root) == on_disk_before
    assert set(planned) >= set(leftover_data) | set(stale_tmp) | {orphan_partition_file}

    deleted = OrphanFilesClean(table, older_than).clean()
    assert sorted(deleted) == sorted(planned)
    assert set(deleted) >= set(leftover_data) | set(stale_tmp) | {orphan_partition_file}
    assert not set(deleted) & referenced, "a referenced file was deleted"
    for path in young_tmp + protected:
        assert os.path.exists(path), path
    on_disk = files_on_disk(root)
    assert referenced <= on_disk
    assert young <= on_disk
    # everything else not referenced is gone (old files were all candidates)
    assert on_disk - referenced - young - set(young_tmp) == set()
    assert not os.path.exists(os.path.join(root, "p=z")), "emptied partition directory left behind"
    assert_snapshots_read(history)
    # the tag still reads in pypaimon
    h.assert_rows_equal(read_pypaimon(warehouse, history.name, {"scan.tag-name": "x"}),
                        history.by_snapshot[table.snapshot_manager.latest_snapshot_id()], "tag x")
    # a second clean with the same threshold finds nothing
    assert OrphanFilesClean(table, older_than).clean() == []


def test_default_threshold_keeps_files_younger_than_a_day(warehouse):
    history = History(warehouse)
    history.insert()
    rows = [{"p": "a", "hr": 0, "id": 500 + i, "name": None, "score": None, "rk": "+I"} for i in range(5)]
    messages = uncommitted_write(history.table, rows)
    assert messages
    assert OrphanFilesClean(history.reopen()).clean() == []
    assert_snapshots_read(history)


def test_files_of_expired_snapshots_and_deleted_tags(warehouse):
    """What expiration leaves to others: a dropped tag's files, then nothing else is freed."""
    history = History(warehouse).standard()
    table = history.reopen()
    tags = TagManager(table.file_io, table.table_path)
    tags.create_tag("t3", table.snapshot_manager.snapshot(3))
    ExpireSnapshots(table, time_retained_ms=0, expire_limit=1000).expire()
    tag_only = referenced_files(table)
    tags.delete_tag("t3")
    tag_only -= referenced_files(table)
    assert tag_only
    age_everything(table.table_path, 2 * DAY_S)
    deleted = OrphanFilesClean(table, now_ms() - 1000).clean()
    assert tag_only <= set(deleted)
    assert set(deleted) - tag_only <= history.orphans  # besides: only what the writer left behind
    assert files_on_disk(table.table_path) == referenced_files(table)
    assert_snapshots_read(history)


def test_branch_snapshots_keep_their_files(warehouse):
    """A branch (``branch/branch-<name>/``) sharing the table's files protects them."""
    history = History(warehouse).standard()
    table = history.reopen()
    root = table.table_path
    branch = os.path.join(root, "branch", "branch-b1")
    os.makedirs(os.path.join(branch, "snapshot"))
    shutil.copytree(os.path.join(root, "schema"), os.path.join(branch, "schema"))
    shutil.copy(os.path.join(root, "snapshot", "snapshot-4"), os.path.join(branch, "snapshot", "snapshot-4"))
    branch_needs = snapshot_files(table, table.snapshot_manager.snapshot(4))
    ExpireSnapshots(table, time_retained_ms=0, expire_limit=1000).expire()
    # expiration does not know about branches (as in Java): some of the branch's files went, but
    # orphan cleanup must never remove what is left of them
    survivors = branch_needs & files_on_disk(root)
    age_everything(root, 2 * DAY_S)
    deleted = OrphanFilesClean(table, now_ms() - 1000).clean()
    assert not set(deleted) & survivors
    # a branch without a schema aborts the clean
    os.makedirs(os.path.join(root, "branch", "branch-broken"))
    try:
        OrphanFilesClean(table, now_ms() - 1000).clean()
        raise AssertionError("expected the clean to refuse")
    except RuntimeError as error:
        assert "broken" in str(error)



def test_snapshots_expiring_while_they_are_read_leave_the_files_newer_snapshots_use(warehouse, monkeypatch):
    """A job commits and expires (tight retention) while the clean reads the snapshots: every
    snapshot of its first listing is gone before its manifests are read. The files they shared
    with the newer snapshots are old, so they are candidates; the clean must find them in the
    newer snapshots, not delete them."""
    schema = pa.schema([pa.field("id", pa.int64())])
    table = h.create_table(h.paimon_py_catalog(warehouse), "t", schema, options={"write-only": "true"})  # no compaction
    for i in range(3):
        h.write_batches(table, pa.table({"id": [i]}, schema=schema))
    age_everything(h.table_dir(warehouse, "t"), 3600)
    read_manifest_list = TableFiles.read_manifest_list

    def a_job_commits_and_expires_first(self, name, tolerant):
        if table.snapshot_manager.latest_snapshot_id() == 3:
            for i in (3, 4):
                h.write_batches(table, pa.table({"id": [i]}, schema=schema))
            ExpireSnapshots(table, retain_min=1, retain_max=1).expire()
            assert table.snapshot_manager.earliest_snapshot_id() == table.snapshot_manager.latest_snapshot_id()
        return read_manifest_list(self, name, tolerant)

    monkeypatch.setattr(TableFiles, "read_manifest_list", a_job_commits_and_expires_first)
    deleted = OrphanFilesClean(table, older_than_millis=now_ms() - 60_000).clean()
    monkeypatch.undo()
    assert deleted == []  # the old files all belong to the one snapshot left
    assert sorted(r["id"] for r in h.read_arrow(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.t")).to_pylist()) \
        == [0, 1, 2, 3, 4]
