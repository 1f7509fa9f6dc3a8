"""Snapshot expiration (format §9): what expires, which files go, tags, consumers, crash safety.

Every test writes a primary-key table with several partitions and buckets through the public API
(updates, deletes, a partition overwrite and a full overwrite, so files really become
unreferenced), keeps a model of the table's content at every snapshot id, and then checks:

* the set of files on disk equals the set referenced by the remaining snapshots and tags
  (schema, snapshot, tag and consumer metadata excluded);
* every remaining snapshot reads like the model in both paimon_py and pypaimon 2.1.0
  (``table.copy({"scan.snapshot-id": ...})``; tags through ``scan.tag-name``).
"""

from __future__ import annotations

import json
import os
import time

import pytest

from paimon_py.fs.file_io import FileIO
from paimon_py.operation.expire_snapshots import ExpireSnapshots
from paimon_py.operation.orphan_files_clean import OrphanFilesClean
from paimon_py.tag.tag_manager import TagManager
from tests.support import helpers as h
from tests.support.snapshot_history import (History, all_time_millis, assert_disk_matches_references,
                                            assert_snapshots_read, files_on_disk, read_pp_snapshot_object,
                                            read_pypaimon, snapshot_files)


def test_expire_after_every_commit_keeps_max_and_removes_unreferenced_files(warehouse):
    """Java writers expire after each commit; the default time retention (1 h) does not block
    expiring beyond ``snapshot.num-retained.max``."""
    history = History(warehouse).standard(expire_each=True)
    table = history.reopen()
    ids = table.snapshot_manager.list_ids()
    latest = table.snapshot_manager.latest_snapshot_id()
    assert ids == list(range(latest - 4, latest + 1)), ids
    assert table.snapshot_manager.earliest_snapshot_id() == latest - 4
    with open(os.path.join(history.root, "snapshot", "EARLIEST")) as f:
        assert f.read() == str(latest - 4)
    assert_disk_matches_references(table, history.orphans)
    assert_snapshots_read(history)


def test_expire_once_after_history_removes_unreferenced_files(warehouse):
    history = History(warehouse).standard()
    table = history.reopen()
    latest = table.snapshot_manager.latest_snapshot_id()
    on_disk_before = files_on_disk(history.root)
    expired = ExpireSnapshots(table, expire_limit=1000).expire()
    assert expired == latest - 5
    assert table.snapshot_manager.list_ids() == list(range(latest - 4, latest + 1))
    assert_disk_matches_references(table, history.orphans)
    assert len(files_on_disk(history.root)) < len(on_disk_before)
    assert_snapshots_read(history)
    # a second run has nothing to do
    assert ExpireSnapshots(history.reopen()).expire() == 0


def test_retain_min_when_time_retention_does_not_block(warehouse):
    history = History(warehouse).standard()
    table = history.reopen()
    latest = table.snapshot_manager.latest_snapshot_id()
    assert ExpireSnapshots(table, time_retained_ms=0, expire_limit=1000).expire() == latest - 1
    assert table.snapshot_manager.list_ids() == [latest]
    assert_disk_matches_references(table, history.orphans)
    assert_snapshots_read(history)


def test_time_retention_keeps_young_snapshots(warehouse):
    history = History(warehouse, options={"snapshot.num-retained.max": "100", "write-only": "true"})
    for _ in range(8):
        history.insert(10)
        time.sleep(0.005)  # strictly increasing commit times
    table = history.reopen()
    times = all_time_millis(table)
    # all snapshots are younger than the retention: nothing expires
    assert ExpireSnapshots(table).expire() == 0
    assert table.snapshot_manager.list_ids() == list(range(1, 9))
    # pretend one hour passed since snapshot 5 was committed: a snapshot may go only when its
    # successor is older than the retention, so snapshot 4 (successor 5 is not) is kept
    retention = 3_600_000
    clock = lambda: times[5] + retention  # noqa: E731
    assert ExpireSnapshots(table, current_time_millis=clock).expire() == 3
    assert table.snapshot_manager.list_ids() == list(range(4, 9))
    assert_disk_matches_references(table, history.orphans)
    assert_snapshots_read(history)
    # snapshots beyond num-retained.max go regardless of age
    assert ExpireSnapshots(table, retain_max=2).expire() == 3
    assert table.snapshot_manager.list_ids() == [7, 8]
    assert_snapshots_read(history)


def test_expire_limit_bounds_one_run(warehouse):
    history = History(warehouse, options={"snapshot.expire.limit": "3"}).standard()
    table = history.reopen()
    latest = table.snapshot_manager.latest_snapshot_id()
    assert ExpireSnapshots(table, time_retained_ms=0).expire() == 3
    assert table.snapshot_manager.list_ids() == list(range(4, latest + 1))
    assert ExpireSnapshots(table, time_retained_ms=0, expire_limit=2).expire() == 2
    assert table.snapshot_manager.earliest_snapshot_id() == 6
    assert_disk_matches_references(table, history.orphans)
    assert_snapshots_read(history)


def test_consumer_bounds_expiration(warehouse):
    history = History(warehouse).standard()
    table = history.reopen()
    latest = table.snapshot_manager.latest_snapshot_id()
    consumer_dir = os.path.join(history.root, "consumer")
    os.makedirs(consumer_dir)
    with open(os.path.join(consumer_dir, "consumer-job1"), "w") as f:
        json.dump({"nextSnapshot": 7}, f)
    with open(os.path.join(consumer_dir, "consumer-job2"), "w") as f:
        json.dump({"nextSnapshot": latest}, f)
    assert ExpireSnapshots(table, time_retained_ms=0, retain_max=2, expire_limit=1000).expire() == 6
    assert table.snapshot_manager.list_ids() == list(range(7, latest + 1))
    assert_disk_matches_references(table, history.orphans)
    assert_snapshots_read(history)
    os.remove(os.path.join(consumer_dir, "consumer-job1"))
    assert ExpireSnapshots(table, time_retained_ms=0, expire_limit=1000).expire() == latest - 7
    assert table.snapshot_manager.list_ids() == [latest]
    assert_disk_matches_references(table, history.orphans)


def test_tag_keeps_files_of_expired_snapshot(warehouse):
    history = History(warehouse).standard()
    table = history.reopen()
    latest = table.snapshot_manager.latest_snapshot_id()
    tags = TagManager(table.file_io, table.table_path)
    tags.create_tag("before-overwrite", table.snapshot_manager.snapshot(5))
    tags.create_tag("mid", table.snapshot_manager.snapshot(8), time_retained_ms=86_400_000)
    assert tags.list_tags() == ["before-overwrite", "mid"]
    assert [s.id for s in tags.tagged_snapshots()] == [5, 8]
    tagged_files = {5: snapshot_files(table, table.snapshot_manager.snapshot(5)),
                    8: snapshot_files(table, table.snapshot_manager.snapshot(8))}

    assert ExpireSnapshots(table, time_retained_ms=0, expire_limit=1000).expire() == latest - 1
    assert table.snapshot_manager.list_ids() == [latest]
    on_disk = files_on_disk(history.root)
    for snapshot_id, files in tagged_files.items():
        # the tag's data files stay; its changelog is not protected (Java: tags are for batch reads)
        assert not (files - on_disk), f"tag of snapshot {snapshot_id} lost files"
    assert_disk_matches_references(table, history.orphans)
    for name, snapshot_id in (("before-overwrite", 5), ("mid", 8)):
        expected = history.by_snapshot[snapshot_id]
        h.assert_rows_equal(read_pp_snapshot_object(table, tags.get(name)), expected,
                            f"paimon_py reading tag {name}")
        h.assert_rows_equal(read_pypaimon(warehouse, history.name, {"scan.tag-name": name}),
                            expected, f"pypaimon reading tag {name}")
    # pypaimon's TagManager reads our tag files
    from pypaimon.tag.tag_manager import TagManager as PyTagManager
    ppy_tags = PyTagManager(h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.{history.name}").file_io,
                            history.root)
    assert sorted(ppy_tags.list_tags()) == ["before-overwrite", "mid"]
    assert ppy_tags.get("mid").tag_create_time is not None
    assert ppy_tags.get("before-overwrite").id == 5

    # deleting a tag frees its files: orphan cleanup removes what only it used
    assert tags.delete_tag("before-overwrite")
    assert not tags.delete_tag("before-overwrite")
    deleted = OrphanFilesClean(table, int(time.time() * 1000) + 0).clean()
    assert deleted
    assert not (set(deleted) & tagged_files[8])
    assert_disk_matches_references(table, history.orphans)
    assert tags.delete_tag("mid")
    OrphanFilesClean(table, int(time.time() * 1000)).clean()
    assert_disk_matches_references(table, history.orphans)
    assert_snapshots_read(history)


def test_tag_deleted_before_expiration_frees_files(warehouse):
    history = History(warehouse).standard()
    table = history.reopen()
    tags = TagManager(table.file_io, table.table_path)
    tags.create_tag("t5", table.snapshot_manager.snapshot(5))
    tags.delete_tag("t5")
    ExpireSnapshots(table, time_retained_ms=0, expire_limit=1000).expire()
    assert_disk_matches_references(table, history.orphans)


class Crash(Exception):
    pass


@pytest.mark.parametrize("crash_after", [0, 2, 7, 15, 30, 45, 60, 80])
def test_crash_in_the_middle_leaves_readable_table_and_rerun_finishes(warehouse, monkeypatch,
                                                                      crash_after):
    history = History(warehouse).standard()
    table = history.reopen()
    latest = table.snapshot_manager.latest_snapshot_id()
    TagManager(table.file_io, table.table_path).create_tag("t4", table.snapshot_manager.snapshot(4))
    retained = list(range(latest - 4, latest + 1))
    needed = set().union(*(snapshot_files(table, table.snapshot_manager.snapshot(i)) for i in retained))
    needed |= snapshot_files(table, table.snapshot_manager.snapshot(4))

    calls = {"n": 0}
    original_delete = FileIO.delete

    def crashing_delete(self, path):
        if calls["n"] >= crash_after:
            raise Crash(path)
        calls["n"] += 1
        original_delete(self, path)

    monkeypatch.setattr(FileIO, "delete", crashing_delete)
    try:
        ExpireSnapshots(table, expire_limit=1000).expire()
        crashed = False
    except Crash:
        crashed = True
    monkeypatch.setattr(FileIO, "delete", original_delete)

    # the snapshots to retain and the tag are complete and readable
    assert not (needed - files_on_disk(history.root))
    assert_snapshots_read(history, retained)
    if crashed:
        assert set(retained) <= set(table.snapshot_manager.list_ids())
    # a rerun finishes the job
    ExpireSnapshots(history.reopen(), expire_limit=1000).expire()
    table = history.reopen()
    assert table.snapshot_manager.list_ids() == retained
    assert_disk_matches_references(table, history.orphans)
    assert_snapshots_read(history)


def test_input_changelog_files_expire_with_their_snapshots(warehouse):
    history = History(warehouse, options={"changelog-producer": "input"}).standard()
    table = history.reopen()
    changelog_before = {p for p in files_on_disk(history.root) if "/changelog-" in p}
    assert changelog_before
    ExpireSnapshots(table, time_retained_ms=0, expire_limit=1000).expire()
    changelog_after = {p for p in files_on_disk(history.root) if "/changelog-" in p}
    assert changelog_after < changelog_before
    assert_disk_matches_references(table, history.orphans)
    assert_snapshots_read(history)


def test_decoupled_changelog_retention_is_refused(warehouse):
    history = History(warehouse, options={"changelog.num-retained.max": "50"})
    history.insert()
    table = history.reopen()  # now snapshot.num-retained.max=5 < changelog.num-retained.max
    with pytest.raises(NotImplementedError, match="changelog.num-retained.max"):
        ExpireSnapshots(table)
    with pytest.raises(NotImplementedError, match="changelog.num-retained.max"):
        table.new_batch_write_builder().new_commit()  # refused before anything is committed
    # equal or smaller changelog settings are coupled
    ExpireSnapshots(history.reopen(), retain_max=50)


def test_invalid_settings(warehouse):
    history = History(warehouse)
    history.insert()
    with pytest.raises(ValueError, match="at least 1"):
        ExpireSnapshots(history.table, retain_min=0)
    with pytest.raises(ValueError, match="must not be less than"):
        ExpireSnapshots(history.table, retain_min=5, retain_max=2).expire()


def test_empty_table_and_clean_empty_directories(warehouse):
    history = History(warehouse, options={"snapshot.clean-empty-directories": "true"})
    assert ExpireSnapshots(history.table).expire() == 0
    history.insert()
    history.change()
    history.overwrite({})  # writes into p=a/hr=0 only
    table = history.reopen()
    # after expiring everything before the overwrite, the other partitions' directories are
    # empty and removed
    latest = table.snapshot_manager.latest_snapshot()
    live_partitions = {os.path.relpath(os.path.dirname(os.path.dirname(p)), history.root)
                       for p in snapshot_files(table, latest) if "/bucket-" in p}

    def partitions_on_disk():
        return {f"{p}/{hr}" for p in os.listdir(history.root) if p.startswith("p=")
                for hr in os.listdir(os.path.join(history.root, p))}

    assert partitions_on_disk() - live_partitions, "premise: some partition holds only old files"
    ExpireSnapshots(table, time_retained_ms=0, expire_limit=1000).expire()
    assert_disk_matches_references(table, history.orphans)
    on_disk_partitions = partitions_on_disk()
    orphan_partitions = {os.path.relpath(os.path.dirname(os.path.dirname(p)), history.root)
                         for p in history.orphans}
    assert on_disk_partitions <= live_partitions | orphan_partitions
    assert_snapshots_read(history)
