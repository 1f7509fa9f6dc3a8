"""``paimon-cdc compact`` and paimon_py's ``FullCompaction``: one sorted run per bucket at the top
level (primary-key tables) or merged files (append tables), rows unchanged (read by paimon_py and
by pypaimon); beside a concurrent writer the commit is retried or refused, never wrong."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest

from paimon_py.exceptions import CommitConflictError
from paimon_py.operation.full_compaction import FullCompaction
from tests.support import helpers
from tests.support.console_lake import SCHEMA, batch, console, expected_rows, lake_tables

TOP_LEVEL = 5
"""``num-levels`` is 6 by default."""


@pytest.fixture
def lake(tmp_path):
    return lake_tables(tmp_path)


def live_files(table):
    scan = table.new_scan()
    return [(scan.partition_of(e.partition), e.bucket, e.file)
            for e in scan.live_entries(table.snapshot_manager.latest_snapshot())]


def rows_of(table) -> list[dict]:
    return sorted(helpers.read_arrow(table).to_pylist(), key=lambda r: (r["k"], r["p"], r["v"]))


def check_rows(lake, name: str, expected: list[dict]) -> None:
    """Both libraries read ``expected`` from ``db.<name>``."""
    assert rows_of(helpers.paimon_py_catalog(lake).get_table(f"db.{name}")) == expected
    assert rows_of(helpers.pypaimon_catalog(lake).get_table(f"db.{name}")) == expected


@pytest.mark.parametrize("name", ["pk", "dyn"])
def test_primary_key_buckets_become_one_top_level_file(lake, capsys, name):
    table = helpers.paimon_py_catalog(lake).get_table(f"db.{name}")
    before = live_files(table)
    buckets = {(p, b) for p, b, _ in before}
    assert len(before) > len(buckets) and {f.level for _, _, f in before} == {0}
    run = console(capsys, "compact", "--warehouse", lake, f"db.{name}")
    assert run.code == 0
    assert run.output == {"table": f"db.{name}", "snapshot": 4, "base_snapshot": 3, "buckets": len(buckets),
                          "files_before": len(before), "files_after": len(buckets), "attempts": 1, "conflicts": []}
    after = live_files(table)
    assert sorted((p, b, f.level) for p, b, f in after) == sorted((p, b, TOP_LEVEL) for p, b in buckets)
    assert table.snapshot_manager.latest_snapshot().commit_kind.value == "COMPACT"
    check_rows(lake, name, expected_rows(name))
    again = console(capsys, "compact", "--warehouse", lake, f"db.{name}")
    assert (again.output["snapshot"], again.output["buckets"]) == (None, 0)


def test_append_table_files_are_merged(lake, capsys):
    table = helpers.paimon_py_catalog(lake).get_table("db.log")
    assert len(live_files(table)) == 6
    run = console(capsys, "compact", "--warehouse", lake, "db.log")
    assert (run.output["files_before"], run.output["files_after"]) == (6, 2)
    assert sorted(p for p, _, _ in live_files(table)) == [("a",), ("b",)]
    check_rows(lake, "log", expected_rows("log"))
    order = [r["v"] for r in helpers.read_arrow(table).to_pylist() if r["p"] == "a"]
    assert order == sorted(order)  # commit order kept


def test_only_the_given_partitions(lake, capsys):
    table = helpers.paimon_py_catalog(lake).get_table("db.pk")
    run = console(capsys, "compact", "--warehouse", lake, "db.pk", "--partition", "p=a")
    assert run.output["buckets"] == 2
    assert sorted({(p, f.level) for p, _, f in live_files(table)}) == [(("a",), TOP_LEVEL), (("b",), 0)]
    check_rows(lake, "pk", expected_rows("pk"))


def test_a_partition_without_files_is_refused(lake, capsys):
    run = console(capsys, "compact", "--warehouse", lake, "db.pk", "--partition", "p=zz")
    assert (run.code, run.stderr) == (2, "error: no files of db.pk match --partition p=zz — see the partitions with: "
                                         "paimon-cdc describe db.pk\n")
    assert helpers.paimon_py_catalog(lake).get_table("db.pk").snapshot_manager.latest_snapshot_id() == 3


# ---- beside a concurrent writer ------------------------------------------------------------

NEW_ROWS = pa.Table.from_pylist([{"k": 0, "p": "b", "v": "new"}, {"k": 1, "p": "a", "v": "new"},
                                 {"k": 9, "p": "a", "v": "new"}], schema=SCHEMA)


def expected_after_new_rows() -> list[dict]:
    rows = {(r["k"], r["p"]): r for r in expected_rows("pk")}
    rows.update({(r["k"], r["p"]): r for r in NEW_ROWS.to_pylist()})
    return sorted(rows.values(), key=lambda r: (r["k"], r["p"], r["v"]))


def compacting_writer(table):
    """A writer of the same table that fully compacts its buckets at every commit (as a sync job
    with ``full-compaction.delta-commits: 1`` would)."""
    return table.copy({"write-only": "false", "full-compaction.delta-commits": "1"})


def test_a_conflicting_commit_refuses_the_compaction_and_its_files_are_deleted(lake):
    table = helpers.paimon_py_catalog(lake).get_table("db.pk")
    compaction = FullCompaction(table)
    prepared = compaction.prepare()
    assert prepared.base_snapshot_id == 3 and prepared.written
    helpers.write_batches(compacting_writer(table), NEW_ROWS)  # compacts the same files first: snapshots 4, 5
    with pytest.raises(CommitConflictError):
        compaction.commit(prepared)
    assert not [p for p in prepared.written if os.path.exists(p)]
    assert table.snapshot_manager.latest_snapshot_id() == 5
    check_rows(lake, "pk", expected_after_new_rows())


def test_new_level0_files_of_a_writer_do_not_conflict(lake):
    table = helpers.paimon_py_catalog(lake).get_table("db.pk")
    compaction = FullCompaction(table)
    prepared = compaction.prepare()
    helpers.write_batches(table, NEW_ROWS)  # write-only: level-0 files only, snapshot 4
    snapshot = compaction.commit(prepared)
    assert snapshot.id == 5 and snapshot.commit_kind.value == "COMPACT"
    levels = {(p, f.level) for p, _, f in live_files(table)}
    assert levels == {(("a",), 0), (("a",), TOP_LEVEL), (("b",), 0), (("b",), TOP_LEVEL)}
    check_rows(lake, "pk", expected_after_new_rows())


def test_the_command_retries_from_the_latest_snapshot(lake, capsys, monkeypatch):
    table = helpers.paimon_py_catalog(lake).get_table("db.pk")
    prepare = FullCompaction.prepare
    calls = []

    def prepare_then_a_concurrent_commit(self):
        prepared = prepare(self)
        if not calls:
            helpers.write_batches(compacting_writer(table), NEW_ROWS)
        calls.append(prepared.base_snapshot_id)
        return prepared

    monkeypatch.setattr(FullCompaction, "prepare", prepare_then_a_concurrent_commit)
    run = console(capsys, "compact", "--warehouse", lake, "db.pk")
    assert run.code == 0 and calls == [3, 5]
    assert (run.output["attempts"], run.output["base_snapshot"], run.output["snapshot"]) == (2, 5, 6)
    assert len(run.output["conflicts"]) == 1
    check_rows(lake, "pk", expected_after_new_rows())


def test_the_command_gives_up_after_max_attempts(lake, capsys, monkeypatch):
    table = helpers.paimon_py_catalog(lake).get_table("db.pk")
    prepare = FullCompaction.prepare

    def prepare_between_two_commits(self):
        helpers.write_batches(table, NEW_ROWS)  # level-0 files: work for every attempt
        prepared = prepare(self)
        helpers.write_batches(compacting_writer(table), NEW_ROWS)  # compacts them before the attempt commits
        return prepared

    monkeypatch.setattr(FullCompaction, "prepare", prepare_between_two_commits)
    run = console(capsys, "compact", "--warehouse", lake, "db.pk", "--max-attempts", "2")
    assert run.code == 2 and run.stderr.count("\n") == 1
    assert run.stderr.startswith("error: Compaction of db.pk gave up after 2 conflicting attempts: ")
    assert run.stderr.endswith(" — run it again when the writers are quieter, or raise --max-attempts\n")
    assert table.snapshot_manager.latest_snapshot().commit_kind.value == "COMPACT"  # the writer's own
    check_rows(lake, "pk", expected_after_new_rows())


PADDING = pa.Table.from_pylist([{"k": k, "p": "b", "v": "pad"} for k in range(100, 300)], schema=SCHEMA)


def has_deletion_vector(table, partition: str) -> bool:
    """Whether the latest snapshot holds a deletion vector of ``partition``'s files."""
    splits = table.new_read_builder().new_scan().plan().splits()
    return any(f is not None for split in splits if split.partition == (partition,) for f in split.deletion_files)


def test_deletion_vectors_changed_meanwhile_refuse_the_compaction(tmp_path):
    """Without the check, the compaction's index manifest would drop the writer's new deletion
    vector and key 0's old row would be read again next to its new one."""
    table = helpers.create_table(helpers.paimon_py_catalog(tmp_path), "dv", SCHEMA, partition_keys=["p"],
                                 primary_keys=["k", "p"], options={"bucket": "1", "deletion-vectors.enabled": "true"})
    helpers.write_batches(table, PADDING)  # a large top run: the small flushes after it are not merged into it
    for commit in range(3):
        helpers.write_batches(table, batch(commit))
    assert has_deletion_vector(table, "b")  # the compaction replaces it; so does the writer below
    compaction = FullCompaction(table)
    prepared = compaction.prepare()
    helpers.write_batches(table, NEW_ROWS.slice(0, 2))
    with pytest.raises(CommitConflictError, match="Deletion vectors of bucket 0 of partition .* were changed"):
        compaction.commit(prepared)
    rows = rows_of(helpers.paimon_py_catalog(tmp_path).get_table("db.dv"))
    assert [(r["k"], r["p"], r["v"]) for r in rows if r["v"] != "pad"] == [
        (0, "b", "new"), (1, "a", "new"), (2, "b", "c2"), (3, "a", "c2"), (4, "b", "c2"), (5, "a", "c2")]
    assert sum(r["v"] == "pad" for r in rows) == PADDING.num_rows
    assert compaction.run().attempts == 1
    assert rows_of(helpers.paimon_py_catalog(tmp_path).get_table("db.dv")) == rows
