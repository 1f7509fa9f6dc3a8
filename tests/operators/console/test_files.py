"""``paimon-cdc files``: the LSM shape per partition, bucket and level, and every file with ``--detail``."""

from __future__ import annotations

import pytest

from tests.support.console_lake import console, lake_tables


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    return lake_tables(tmp_path_factory.mktemp("lake"))


def shape(rows):
    return [(r["partition"], r["bucket"], r["level"], r["files"], r["records"], r["min_sequence"], r["max_sequence"])
            for r in rows]


def test_shape_of_a_primary_key_table(lake, capsys):
    run = console(capsys, "files", "--warehouse", lake, "db.pk")
    assert run.code == 0
    assert shape(run.output) == [("p=a", 0, 0, 3, 3, 0, 2), ("p=a", 1, 0, 3, 3, 0, 2),
                                 ("p=b", 0, 0, 3, 5, 0, 4), ("p=b", 1, 0, 1, 1, 0, 0)]
    assert all(r["bytes"] > 0 for r in run.output)


def test_partition_filter_and_detail(lake, capsys):
    run = console(capsys, "files", "--warehouse", lake, "db.log", "--partition", "p=a", "--detail")
    assert [(r["partition"], r["bucket"], r["level"], r["records"], r["min_sequence"], r["max_sequence"],
             r["min_key"]) for r in run.output] == [("p=a", 0, 0, 2, 0, 1, None), ("p=a", 0, 0, 2, 2, 3, None),
                                                    ("p=a", 0, 0, 2, 4, 5, None)]
    assert all(r["file"].startswith("data-") and r["file"].endswith(".parquet") for r in run.output)


def test_detail_decodes_the_keys(lake, capsys):
    run = console(capsys, "files", "--warehouse", lake, "db.dyn", "--partition", "p=b", "--detail")
    assert sorted((r["min_key"], r["max_key"]) for r in run.output) == [([0], [2]), ([2], [4]), ([2], [4])]


@pytest.mark.parametrize("args, message", [
    (["--partition", "p=z"], "error: no files of db.pk match --partition p=z — see the partitions with: "
                             "paimon-cdc describe db.pk\n"),
    (["--partition", "q=a"], "error: --partition q=a: q is not a partition key — the partition keys are p\n"),
    (["--partition", "p"], "error: --partition expects key=value, got 'p'\n"),
])
def test_bad_partitions(lake, capsys, args, message):
    run = console(capsys, "files", "--warehouse", lake, "db.pk", *args)
    assert (run.code, run.stderr) == (2, message)
