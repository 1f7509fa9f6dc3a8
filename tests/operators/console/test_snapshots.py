"""``paimon-cdc snapshots``: newest first, with kind, counts and the CDC source position each carries."""

from __future__ import annotations

import pyarrow as pa
import pytest

from operators.cdc.source_position import SourcePosition
from operators.console.main import main
from tests.support import helpers
from tests.support.console_lake import SCHEMA, batch, console

POSITION = SourcePosition("mysql/db1:3306/shop", 7, {"file": "binlog.000003", "pos": 4242, "tables": {"a": 1, "b": 2}})


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """Snapshots 1 APPEND (job commit 11 with a position), 2 APPEND, 3 COMPACT, 4 OVERWRITE."""
    path = tmp_path_factory.mktemp("lake")
    table = helpers.create_table(helpers.paimon_py_catalog(path), "t", SCHEMA, partition_keys=["p"],
                                 primary_keys=["k", "p"], options={"bucket": "1", "write-only": "true"})
    write = table.new_file_store_write()
    write.write(batch(0))
    table.new_file_store_commit("job-user").commit(write.prepare_commit(), identifier=11,
                                                   properties={POSITION.property_key: POSITION.to_json()})
    write.close()
    helpers.write_batches(table, batch(1))
    table.new_full_compaction().run()
    helpers.write_batches(table, pa.Table.from_pylist([{"k": 1, "p": "a", "v": "x"}], schema=SCHEMA),
                          overwrite={"p": "a"})
    return str(path)


def test_newest_first_with_kinds_and_counts(lake, capsys):
    run = console(capsys, "snapshots", "--warehouse", lake, "db.t")
    assert run.code == 0
    rows = [(s["id"], s["kind"], s["identifier"], s["delta"], s["total"], s["schema"]) for s in run.output]
    assert rows == [(4, "OVERWRITE", "batch", -1, 4, 0), (3, "COMPACT", "batch", -3, 5, 0),
                    (2, "APPEND", "batch", 4, 8, 0), (1, "APPEND", 11, 4, 4, 0)]
    assert run.output[-1]["commit_user"] == "job-user"
    assert run.output[-1]["positions"] == {"mysql/db1:3306/shop": {
        "source": "mysql/db1:3306/shop", "seq": 7, "state": {"file": "binlog.000003", "pos": 4242, "tables": {"a": 1, "b": 2}}}}
    assert [s["positions"] for s in run.output[:-1]] == [{}, {}, {}]


def test_limit(lake, capsys):
    assert [s["id"] for s in console(capsys, "snapshots", "--warehouse", lake, "db.t", "--limit", "2").output] == [4, 3]


def test_text_form_shows_the_position_compactly(lake, capsys):
    capsys.readouterr()
    assert main(["snapshots", "--warehouse", lake, "db.t"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("1   APPEND ")
    assert last.endswith("mysql/db1:3306/shop seq=7 file=binlog.000003 pos=4242 tables=2 entries")


def test_limit_must_be_positive(lake, capsys):
    run = console(capsys, "snapshots", "--warehouse", lake, "db.t", "--limit", "0")
    assert run.code == 2
    assert run.stderr.startswith("error: paimon-cdc snapshots: argument --limit: invalid positive value: '0'")
