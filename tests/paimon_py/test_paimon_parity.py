"""Behaviours where paimon_py once differed from Paimon (Java and pypaimon 2.1.0): overwrites of
partitioned tables (``dynamic-partition-overwrite``), ``sequence.field`` order and NULLs, NOT NULL
primary keys, changelog file format and names, ``changelog-producer`` on append tables and
``read.parallelism``. Where pypaimon has the behaviour, the same scenario runs in both libraries."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest

import paimon_py
from paimon_py.exceptions import OptionError
from tests.support import helpers as h

SCHEMA = pa.schema([pa.field("pt", pa.string(), nullable=False), pa.field("id", pa.int64(), nullable=False),
                    pa.field("v", pa.string())])


def _rows(pt: str, ids, v: str) -> pa.Table:
    return pa.Table.from_pylist([{"pt": pt, "id": i, "v": v} for i in ids], schema=SCHEMA)


def _overwrite_scenario(warehouse, options: dict, spec, data: list[pa.Table], partitioned: bool = True):
    """Partitions a and b (ids 1, 2), then an overwrite commit of ``data`` with ``spec``, through
    the catalog of ``warehouse``: the rows and how many snapshots the overwrite made."""
    catalog = h.pypaimon_catalog(warehouse) if warehouse.name == "pypaimon" else h.paimon_py_catalog(warehouse)
    table = h.create_table(catalog, "ow", SCHEMA, partition_keys=["pt"] if partitioned else [],
                           primary_keys=["pt", "id"], options={"bucket": "1", **options})
    h.write_batches(table, _rows("a", [1, 2], "old"), _rows("b", [1, 2], "old"))
    before = h.snapshot_ids(h.table_dir(warehouse, "ow"))
    h.write_batches(table, *data, overwrite=spec)
    after = h.snapshot_ids(h.table_dir(warehouse, "ow"))
    table = catalog.get_table(f"{h.DB}.ow")
    rows = [(r["pt"], r["id"], r["v"]) for r in h.rows_sorted(table, ["pt", "id"])]
    return rows, len(after) - len(before)


def _both(tmp_path, *args, **kwargs):
    """The scenario's outcome in paimon_py and in pypaimon (separate warehouses); they must agree."""
    ours = _overwrite_scenario(tmp_path / "paimon_py", *args, **kwargs)
    theirs = _overwrite_scenario(tmp_path / "pypaimon", *args, **kwargs)
    assert ours == theirs
    return ours


def test_overwrite_without_spec_replaces_only_the_written_partitions(tmp_path):
    rows, snapshots = _both(tmp_path, {}, {}, [_rows("a", [3], "new")])
    assert rows == [("a", 3, "new"), ("b", 1, "old"), ("b", 2, "old")]
    assert snapshots == 1


def test_overwrite_with_dynamic_partition_overwrite_false_replaces_the_table(tmp_path):
    rows, _ = _both(tmp_path, {"dynamic-partition-overwrite": "false"}, {}, [_rows("a", [3], "new")])
    assert rows == [("a", 3, "new")]


@pytest.mark.parametrize("dynamic", ["true", "false"])
def test_overwrite_with_static_spec_replaces_that_partition(tmp_path, dynamic):
    rows, _ = _both(tmp_path, {"dynamic-partition-overwrite": dynamic}, {"pt": "a"}, [_rows("a", [3], "new")])
    assert rows == [("a", 3, "new"), ("b", 1, "old"), ("b", 2, "old")]


def test_overwrite_of_an_unpartitioned_table_replaces_it(tmp_path):
    rows, _ = _both(tmp_path, {}, {}, [_rows("a", [3], "new")], partitioned=False)
    assert rows == [("a", 3, "new")]


def test_empty_dynamic_overwrite_replaces_nothing(tmp_path):
    rows, snapshots = _both(tmp_path, {}, {}, [])
    assert rows == [("a", 1, "old"), ("a", 2, "old"), ("b", 1, "old"), ("b", 2, "old")]
    assert snapshots == 0


def test_empty_static_overwrite_empties_the_table(tmp_path):
    rows, snapshots = _both(tmp_path, {"dynamic-partition-overwrite": "false"}, {}, [])
    assert (rows, snapshots) == ([], 1)
