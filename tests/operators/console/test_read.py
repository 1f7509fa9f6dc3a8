"""``paimon-cdc read``: projection, pushed-down filter, limit, time travel, and the output formats."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from operators.console.main import main
from paimon_py.table.read_builder import ReadBuilder
from tests.support.console_lake import console, demo_lake, expected_rows, lake_tables

DEMO_ROWS = [{"order_id": 1, "day": "2026-11-20", "customer": "ada", "amount": "10.50"},
             {"order_id": 2, "day": "2026-11-20", "customer": "bob", "amount": "4.20"},
             {"order_id": 3, "day": "2026-11-21", "customer": "cy", "amount": "99.99"}]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return demo_lake(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    return lake_tables(tmp_path_factory.mktemp("lake"))


def by_key(rows, key="order_id"):
    return sorted(rows, key=lambda r: r[key])


def test_reads_the_latest_rows_with_a_projection(demo, capsys):
    run = console(capsys, "read", "--warehouse", demo, "shop.orders", "--select", "order_id,day,customer,amount")
    assert run.code == 0
    assert by_key(run.output) == DEMO_ROWS


def test_where_is_pushed_down_as_a_predicate(demo, capsys, monkeypatch):
    filters = []
    original = ReadBuilder.with_filter
    monkeypatch.setattr(ReadBuilder, "with_filter", lambda self, p: filters.append(p) or original(self, p))
    run = console(capsys, "read", "--warehouse", demo, "shop.orders", "--select", "order_id,amount",
                  "--where", "day = '2026-11-20' AND NOT customer IN ('bob') OR amount > 50")
    assert by_key(run.output) == [{"order_id": 1, "amount": "10.50"}, {"order_id": 3, "amount": "99.99"}]
    assert [p.method for p in filters] == ["or"]
    assert filters[0].literals[0].literals[1].method == "notIn"


@pytest.mark.parametrize("name", ["pk", "log", "dyn"])
def test_each_kind_of_table(lake, capsys, name):
    run = console(capsys, "read", "--warehouse", lake, f"db.{name}", "--where", "p = 'a' AND k >= 3")
    wanted = [dict(r, n=None) for r in expected_rows(name) if r["p"] == "a" and r["k"] >= 3]
    assert sorted(run.output, key=lambda r: (r["k"], r["v"])) == wanted


def test_limit_and_time_travel(demo, capsys):
    assert len(console(capsys, "read", "--warehouse", demo, "shop.orders", "--limit", "2").output) == 2
    run = console(capsys, "read", "--warehouse", demo, "shop.orders", "--snapshot", "1", "--select", "order_id,amount")
    assert by_key(run.output) == [{"order_id": 1, "amount": "10.50"}, {"order_id": 2, "amount": "3.20"},
                                  {"order_id": 3, "amount": "99.99"}, {"order_id": 4, "amount": "1.00"}]


def test_csv_on_stdout(demo, capsys):
    capsys.readouterr()
    assert main(["read", "--warehouse", demo, "shop.orders", "--select", "order_id,customer,amount",
                 "--where", "order_id <= 2", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "order_id,customer,amount"
    assert sorted(lines[1:]) == ["1,ada,10.50", "2,bob,4.20"]


def test_text_table_on_stdout(demo, capsys):
    capsys.readouterr()
    assert main(["read", "--warehouse", demo, "shop.orders", "--select", "order_id,customer",
                 "--where", "order_id = 3"]) == 0
    assert capsys.readouterr().out == "order_id  customer\n--------  --------\n3         cy\n(1 row)\n"


@pytest.mark.parametrize("output_format", ["parquet", "json", "csv"])
def test_output_files(demo, capsys, tmp_path, output_format):
    path = tmp_path / f"rows.{output_format}"
    run = console(capsys, "read", "--warehouse", demo, "shop.orders", "--select", "order_id,customer",
                  "--format", output_format, "--output", str(path))
    assert run.output == {"rows": 3, "output": str(path), "format": output_format}
    if output_format == "parquet":
        rows = pq.read_table(path).to_pylist()
    elif output_format == "json":
        rows = json.loads(path.read_text())
    else:
        header, *lines = path.read_text().splitlines()
        rows = [dict(zip(header.split(","), (int(k), c))) for k, c in (line.split(",") for line in lines)]
    assert by_key(rows) == [{"order_id": r["order_id"], "customer": r["customer"]} for r in DEMO_ROWS]


@pytest.mark.parametrize("args, message", [
    (["--format", "parquet"], "error: --format parquet writes a file — give it with --output FILE\n"),
    (["--select", "order_id,price"], "error: --select 'order_id,price': unknown column(s) price — the table has: "
                                     "order_id, day, customer, amount, _change\n"),
    (["--snapshot", "9"], "error: snapshot 9 of shop.orders does not exist (it may have expired) — the table has "
                          "snapshots 1..2\n"),
    (["--where", "amount > 'lots'"], "error: 'lots' is not a value of column amount (decimal128(10, 2)) — give one "
                                     "such as 10.5\n"),
    (["--output", "/nonexistent/dir/rows.csv", "--format", "csv"],
     "error: cannot write /nonexistent/dir/rows.csv: No such file or directory — give a writable --output path\n"),
])
def test_user_errors(demo, capsys, args, message):
    run = console(capsys, "read", "--warehouse", demo, "shop.orders", *args)
    assert (run.code, run.output, run.stderr) == (2, None, message)
