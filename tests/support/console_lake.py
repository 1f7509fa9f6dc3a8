"""Lakes for the ``paimon-cdc`` console tests, and running the console.

* ``demo_lake(path)``: the batch demo's warehouse (``shop.orders``: 2 fixed buckets, partitioned
  by ``day``, 3 rows after an update and a delete) written by ``jobs.batch_demo`` in-process.
* ``lake_tables(warehouse)``: ``db.pk`` (primary key, partitioned by ``p``, 2 buckets), ``db.log``
  (append, bucket-unaware) and ``db.dyn`` (``bucket = -1``), each with several small commits.
* ``console(capsys, *argv)``: ``operators.console.main.main(argv)`` with ``--json``: (exit code,
  the parsed JSON or None, stderr).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from jobs import batch_demo
from operators.console.main import main
from tests.support import helpers

SCHEMA = pa.schema([pa.field("k", pa.int64(), nullable=False), pa.field("p", pa.string(), nullable=False),
                    pa.field("v", pa.string()), pa.field("n", pa.decimal128(10, 2))])

TABLES = {"pk": {"primary_keys": ["k", "p"], "options": {"bucket": "2"}},
          "log": {"primary_keys": [], "options": {"bucket": "-1"}},
          "dyn": {"primary_keys": ["k", "p"], "options": {"bucket": "-1"}}}
"""Every table is partitioned by ``p`` and keeps its level-0 files (``write-only``)."""

COMMITS = 3
KEYS_PER_COMMIT = 4


def demo_lake(path) -> str:
    batch_demo.main(["--warehouse", str(path)])
    return str(path)


def batch(commit: int) -> pa.Table:
    """Commit ``commit`` (from 0) writes keys ``commit .. commit + 3``: each overlaps the last."""
    keys = list(range(commit, commit + KEYS_PER_COMMIT))
    return pa.table({"k": keys, "p": ["a" if k % 2 else "b" for k in keys], "v": [f"c{commit}"] * len(keys),
                     "n": [None] * len(keys)}, schema=SCHEMA)


def lake_tables(warehouse) -> str:
    catalog = helpers.paimon_py_catalog(warehouse)
    for name, spec in TABLES.items():
        table = helpers.create_table(catalog, name, SCHEMA, partition_keys=["p"], primary_keys=spec["primary_keys"],
                                     options={**spec["options"], "write-only": "true"})
        for commit in range(COMMITS):
            helpers.write_batches(table, batch(commit))
    return str(warehouse)


def expected_rows(name: str) -> list[dict]:
    """The rows ``lake_tables`` leaves in table ``name``, sorted by (k, p, v)."""
    rows = [r for c in range(COMMITS) for r in batch(c).to_pylist()]
    if TABLES[name]["primary_keys"]:
        rows = list({(r["k"], r["p"]): r for r in rows}.values())
    return sorted(rows, key=lambda r: (r["k"], r["p"], r["v"]))


@dataclass
class ConsoleRun:
    code: int
    output: Any
    """The ``--json`` document (None when stdout was empty)."""
    stderr: str


def console(capsys, *argv: str) -> ConsoleRun:
    capsys.readouterr()
    try:
        code = main([*argv, "--json"])
    except SystemExit as e:  # argparse's errors
        code = e.code
    captured = capsys.readouterr()
    return ConsoleRun(code, json.loads(captured.out) if captured.out.strip() else None, captured.err)
