"""``paimon-cdc describe``: fields with ids and Paimon types, keys, options, partitions, schema history."""

from __future__ import annotations

import pyarrow as pa
import pytest

from operators.console.main import main
from paimon_py.schema.schema_change import SchemaChange
from tests.support import helpers
from tests.support.console_lake import console, demo_lake, lake_tables


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    path = tmp_path_factory.mktemp("lake")
    demo_lake(path)
    lake_tables(path)
    catalog = helpers.paimon_py_catalog(path)
    catalog.alter_table("db.pk", [SchemaChange.add_column("tags", pa.list_(pa.string())),
                                  SchemaChange.set_option("snapshot.num-retained.max", "50")])
    catalog.alter_table("db.pk", [SchemaChange.rename_column("v", "value"),
                                  SchemaChange.update_column_type("n", pa.decimal128(12, 2))])
    return str(path)


def test_demo_table(lake, capsys):
    run = console(capsys, "describe", "--warehouse", lake, "shop.orders")
    doc = run.output
    assert run.code == 0
    assert (doc["table"], doc["primary_keys"], doc["partition_keys"], doc["bucket_mode"], doc["schema_id"]) == \
        ("shop.orders", ["order_id", "day"], ["day"], "fixed(2)", 0)
    assert doc["fields"] == [
        {"id": 0, "name": "order_id", "type": "BIGINT NOT NULL", "nullable": False, "key": "primary", "description": None},
        {"id": 1, "name": "day", "type": "DATE NOT NULL", "nullable": False, "key": "primary,partition",
         "description": None},
        {"id": 2, "name": "customer", "type": "STRING", "nullable": True, "key": None, "description": None},
        {"id": 3, "name": "amount", "type": "DECIMAL(10, 2)", "nullable": True, "key": None, "description": None},
        {"id": 4, "name": "_change", "type": "STRING", "nullable": True, "key": None, "description": None}]
    assert doc["options"] == {"bucket": "2", "file.format": "parquet", "rowkind.field": "_change"}
    assert [(p["partition"], p["values"], p["records"], p["files"]) for p in doc["partitions"]] == [
        ("day=2026-11-20", {"day": "2026-11-20"}, 3, 2), ("day=2026-11-21", {"day": "2026-11-21"}, 2, 3)]
    assert [(h["id"], h["changes"]) for h in doc["schemas"]] == [(0, ["created"])]


def test_schema_history_says_what_changed(lake, capsys):
    doc = console(capsys, "describe", "--warehouse", lake, "db.pk").output
    assert [h["changes"] for h in doc["schemas"]] == [
        ["created"],
        ["added tags ARRAY<STRING>", "set snapshot.num-retained.max=50"],
        ["renamed v to value", "n: DECIMAL(10, 2) -> DECIMAL(12, 2)"]]
    assert all(h["committed"] for h in doc["schemas"])
    assert [(f["id"], f["name"], f["type"]) for f in doc["fields"]][-3:] == [
        (2, "value", "STRING"), (3, "n", "DECIMAL(12, 2)"), (4, "tags", "ARRAY<STRING>")]
    assert [(p["partition"], p["records"], p["files"]) for p in doc["partitions"]] == [("p=a", 6, 6), ("p=b", 6, 4)]


def test_text_form(lake, capsys):
    capsys.readouterr()
    assert main(["describe", "--warehouse", lake, "db.log"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("db.log: primary key (none), partitioned by (p), bucket unaware, schema 0\n")
    assert "\nschema history\nschema  committed" in out


def test_missing_table(lake, capsys):
    run = console(capsys, "describe", "--warehouse", lake, "db.nope")
    assert (run.code, run.stderr) == (2, "error: table db.nope does not exist — db has: dyn, log, pk\n")
