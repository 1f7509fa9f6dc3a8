"""A damaged table metadata file (a truncated snapshot or manifest, an overwritten schema) makes
``paimon-cdc`` say which file and what to do, in one line with exit code 2, never a parser's
traceback or a wrong result; rolling back past a damaged snapshot makes the table readable again."""

from __future__ import annotations

import glob
import os

import pytest

from tests.support.console_lake import batch, console, lake_tables


def truncate(path: str) -> None:
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])


def damaged(warehouse: str, kind: str) -> str:
    """Damages one file of ``db.pk`` (the latest snapshot, a manifest of the latest commit, or the
    schema); returns its path."""
    table = os.path.join(warehouse, "db.db", "pk")
    if kind == "snapshot":
        path = max(glob.glob(f"{table}/snapshot/snapshot-*"), key=lambda p: int(p.rsplit("-", 1)[1]))
        truncate(path)
    elif kind == "manifest":
        path = max((p for p in glob.glob(f"{table}/manifest/manifest-*") if "list" not in os.path.basename(p)),
                   key=os.path.getmtime)
        truncate(path)
    else:
        path = f"{table}/schema/schema-0"
        with open(path, "w") as f:
            f.write("{ this is not a schema")
    return path


@pytest.mark.parametrize("kind, command, what", [
    ("snapshot", "read", "snapshot file"),
    ("snapshot", "snapshots", "snapshot file"),
    ("manifest", "read", "manifest file"),
    ("manifest", "files", "manifest file"),
    ("schema", "describe", "schema file"),
])
def test_a_damaged_file_is_named_with_the_fix(tmp_path, capsys, kind, command, what):
    warehouse = lake_tables(tmp_path / "lake")
    path = damaged(warehouse, kind)
    run = console(capsys, command, "--warehouse", warehouse, "db.pk")
    lines = run.stderr.strip().splitlines()
    assert run.code == 2 and len(lines) == 1, run.stderr
    assert lines[0].startswith(f"error: {what} {path} is corrupt or truncated (") and " — " in lines[0], lines[0]
    assert "paimon-cdc rollback <database.table> --to-snapshot N" in lines[0]


def test_a_rollback_past_a_damaged_snapshot_makes_the_table_readable(tmp_path, capsys):
    warehouse = lake_tables(tmp_path / "lake")
    path = damaged(warehouse, "snapshot")
    latest = int(path.rsplit("-", 1)[1])
    assert console(capsys, "rollback", "--warehouse", warehouse, "db.pk", "--to-snapshot", str(latest - 1)).code == 0
    run = console(capsys, "read", "--warehouse", warehouse, "db.pk")
    assert run.code == 0, run.stderr
    before = {(r["k"], r["p"]): r["v"] for c in range(latest - 1) for r in batch(c).to_pylist()}
    assert {(r["k"], r["p"]): r["v"] for r in run.output} == before
