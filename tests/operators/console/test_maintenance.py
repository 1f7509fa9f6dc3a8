"""``paimon-cdc expire``, ``remove-orphans``, ``rollback`` and ``tag``: what each did, and nothing
changed when a check fails."""

from __future__ import annotations

import os

import pytest

from tests.support import helpers
from tests.support.console_lake import batch, console, expected_rows, lake_tables


@pytest.fixture
def lake(tmp_path):
    """``db.pk`` with snapshots 1..3, then 4..5 (two more commits)."""
    path = lake_tables(tmp_path)
    table = helpers.paimon_py_catalog(path).get_table("db.pk")
    for commit in (3, 4):
        helpers.write_batches(table, batch(commit))
    return path


def table_of(lake):
    return helpers.paimon_py_catalog(lake).get_table("db.pk")


def snapshot_ids(lake):
    return table_of(lake).snapshot_manager.list_ids()


def test_expire_keeps_the_newest(lake, capsys):
    run = console(capsys, "expire", "--warehouse", lake, "db.pk", "--retain-max", "2")
    assert run.code == 0
    assert run.output == {"table": "db.pk", "expired": 3, "before": [1, 5], "after": [4, 5]}
    assert snapshot_ids(lake) == [4, 5]
    assert console(capsys, "read", "--warehouse", lake, "db.pk").code == 0


def test_expire_by_age_keeps_the_minimum(lake, capsys):
    run = console(capsys, "expire", "--warehouse", lake, "db.pk", "--older-than", "0s", "--retain-min", "1")
    assert (run.output["expired"], snapshot_ids(lake)) == (4, [5])


def test_expire_refuses_contradictory_counts(lake, capsys):
    run = console(capsys, "expire", "--warehouse", lake, "db.pk", "--retain-max", "1", "--retain-min", "3")
    assert (run.code, run.stderr) == (2, "error: --retain-max 1 is less than --retain-min 3 — give a --retain-max "
                                         "of at least 3\n")
    assert snapshot_ids(lake) == [1, 2, 3, 4, 5]


def test_remove_orphans_dry_run_then_for_real(lake, capsys):
    orphan = os.path.join(helpers.table_dir(lake, "pk"), "p=a", "bucket-0", "data-orphan.parquet")
    with open(orphan, "wb") as f:
        f.write(b"left behind by a failed write")
    os.utime(orphan, (1, 1))
    dry = console(capsys, "remove-orphans", "--warehouse", lake, "db.pk", "--dry-run")
    assert dry.output == {"table": "db.pk", "dry_run": True, "files": ["p=a/bucket-0/data-orphan.parquet"]}
    assert os.path.exists(orphan)
    run = console(capsys, "remove-orphans", "--warehouse", lake, "db.pk")
    assert run.output["files"] == ["p=a/bucket-0/data-orphan.parquet"] and not os.path.exists(orphan)
    assert console(capsys, "remove-orphans", "--warehouse", lake, "db.pk").output["files"] == []


def test_remove_orphans_default_spares_young_files(lake, capsys):
    young = os.path.join(helpers.table_dir(lake, "pk"), "p=a", "bucket-0", "data-young.parquet")
    with open(young, "wb") as f:
        f.write(b"a write not committed yet")
    assert console(capsys, "remove-orphans", "--warehouse", lake, "db.pk").output["files"] == []
    assert os.path.exists(young)


def test_rollback_to_a_snapshot_and_to_a_tag(lake, capsys):
    assert console(capsys, "tag", "create", "--warehouse", lake, "db.pk", "two", "--snapshot", "2").code == 0
    assert console(capsys, "tag", "create", "--warehouse", lake, "db.pk", "four", "--snapshot", "4").code == 0
    run = console(capsys, "rollback", "--warehouse", lake, "db.pk", "--to-snapshot", "3")
    assert run.output == {"table": "db.pk", "snapshot": 3, "removed_snapshots": [4, 5], "removed_tags": ["four"]}
    assert snapshot_ids(lake) == [1, 2, 3]
    assert helpers.rows_sorted(table_of(lake), ["k", "p"]) == [dict(r, n=None) for r in expected_rows("pk")]
    run = console(capsys, "rollback", "--warehouse", lake, "db.pk", "--to-tag", "two")
    assert run.output == {"table": "db.pk", "snapshot": 2, "removed_snapshots": [3], "removed_tags": []}


@pytest.mark.parametrize("args, message", [
    (["--to-snapshot", "9"], "error: snapshot 9 of db.pk does not exist (nor a tag of it) — the table has snapshots "
                             "1..5\n"),
    (["--to-tag", "nope"], "error: tag 'nope' of db.pk does not exist — its tags: none\n"),
])
def test_rollback_to_nothing_changes_nothing(lake, capsys, args, message):
    run = console(capsys, "rollback", "--warehouse", lake, "db.pk", *args)
    assert (run.code, run.stderr) == (2, message)
    assert snapshot_ids(lake) == [1, 2, 3, 4, 5]


def test_rollback_needs_one_target(lake, capsys):
    run = console(capsys, "rollback", "--warehouse", lake, "db.pk", "--to-snapshot", "2", "--to-tag", "x")
    assert run.code == 2
    assert run.stderr.startswith("error: paimon-cdc rollback: argument --to-tag: not allowed with argument --to-snapshot")
    assert snapshot_ids(lake) == [1, 2, 3, 4, 5]


def test_tags(lake, capsys):
    assert console(capsys, "tag", "create", "--warehouse", lake, "db.pk", "latest").output == \
        {"table": "db.pk", "created": "latest", "snapshot": 5}
    console(capsys, "tag", "create", "--warehouse", lake, "db.pk", "first", "--snapshot", "1", "--time-retained", "7d")
    listed = console(capsys, "tag", "list", "--warehouse", lake, "db.pk").output
    assert [(t["tag"], t["snapshot"], t["kind"], t["records"]) for t in listed] == [
        ("first", 1, "APPEND", 4), ("latest", 5, "APPEND", 20)]
    assert console(capsys, "tag", "delete", "--warehouse", lake, "db.pk", "first").output == \
        {"table": "db.pk", "deleted": "first"}
    assert table_of(lake).list_tags() == ["latest"]


@pytest.mark.parametrize("args, message", [
    (["create", "latest"], "error: tag 'latest' of db.pk already exists — delete it first or choose another name\n"),
    (["create", "other", "--snapshot", "8"], "error: snapshot 8 of db.pk does not exist (it may have expired) — the "
                                             "table has snapshots 1..5\n"),
    (["create", "a/b"], "error: tag name 'a/b' is not valid: Tag name 'a/b' must not contain '/' or '\\'. — use "
                        "letters, digits, '-' or '_'\n"),
    (["create", "x", "--time-retained", "soon"], "error: --time-retained 'soon' is not a duration — write it like 1d, "
                                                 "2h, 30min or 10s\n"),
    (["delete", "nope"], "error: tag 'nope' of db.pk does not exist — its tags: latest\n"),
    (["delete"], "error: tag delete needs the tag's name — e.g. paimon-cdc tag delete --warehouse W db.pk "
                 "before-backfill\n"),
])
def test_tag_errors_change_nothing(lake, capsys, args, message):
    console(capsys, "tag", "create", "--warehouse", lake, "db.pk", "latest")
    run = console(capsys, "tag", args[0], "--warehouse", lake, "db.pk", *args[1:])
    assert (run.code, run.stderr) == (2, message)
    assert table_of(lake).list_tags() == ["latest"]
