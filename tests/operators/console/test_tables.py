"""``paimon-cdc tables``: every table of the lake with its keys, bucket mode, snapshot and size."""

from __future__ import annotations

import pytest

from tests.support.console_lake import console, demo_lake, lake_tables


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    path = tmp_path_factory.mktemp("lake")
    demo_lake(path)
    return lake_tables(path)


def test_lists_every_table_with_keys_bucket_mode_and_size(lake, capsys):
    run = console(capsys, "tables", "--warehouse", lake)
    assert run.code == 0
    by_name = {t["table"]: t for t in run.output}
    assert sorted(by_name) == ["db.dyn", "db.log", "db.pk", "shop.orders"]
    orders = by_name["shop.orders"]
    assert (orders["primary_keys"], orders["partition_keys"], orders["bucket_mode"], orders["snapshot"]) == \
        (["order_id", "day"], ["day"], "fixed(2)", 2)
    assert (orders["records"], orders["files"]) == (5, 5)  # 4 inserts + the update's and the delete's runs
    assert [by_name[n]["bucket_mode"] for n in ("db.pk", "db.log", "db.dyn")] == ["fixed(2)", "unaware", "dynamic"]
    assert by_name["db.log"]["records"] == 12 and by_name["db.log"]["snapshot"] == 3
    assert all(t["bytes"] > 0 for t in run.output)


def test_database_filter(lake, capsys):
    run = console(capsys, "tables", "--warehouse", lake, "--database", "shop")
    assert [t["table"] for t in run.output] == ["shop.orders"]


def test_a_missing_warehouse_is_a_user_error(tmp_path, capsys):
    run = console(capsys, "tables", "--warehouse", str(tmp_path / "nowhere"))
    assert run.code == 2 and run.output is None
    assert run.stderr == f"error: warehouse {tmp_path / 'nowhere'} does not exist — give the --warehouse of the sync job\n"
