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


# ---- sequence.field: sort order and NULLs -------------------------------------------------------

SEQ_SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("ts", pa.int64()),
                        pa.field("v", pa.string())])
SEQ_ROWS = [(1, 1, "a"), (1, 2, "b"), (2, None, "n"), (2, 5, "five"), (3, 7, "seven"), (3, None, "n"),
            (4, 3, "three"), (4, 9, "nine"), (4, None, "n")]


def _sequence_scenario(warehouse, sort_order: str, commits: int) -> list[tuple]:
    """``SEQ_ROWS`` written in ``commits`` commits (whole rows of a key spread over them) to a
    table ordered by ``ts``; the merged rows."""
    catalog = h.pypaimon_catalog(warehouse) if warehouse.name == "pypaimon" else h.paimon_py_catalog(warehouse)
    table = h.create_table(catalog, "seq", SEQ_SCHEMA, primary_keys=["id"],
                           options={"bucket": "1", "sequence.field": "ts", "sequence.field.sort-order": sort_order})
    for part in range(commits):
        rows = [dict(zip(SEQ_SCHEMA.names, r)) for r in SEQ_ROWS[part::commits]]
        h.write_rows(table, SEQ_SCHEMA, rows)
    return [(r["id"], r["ts"], r["v"]) for r in h.rows_sorted(catalog.get_table(f"{h.DB}.seq"), ["id"])]


@pytest.mark.parametrize("commits", [1, 3])
@pytest.mark.parametrize("sort_order, expected", [
    ("ascending", [(1, 2, "b"), (2, 5, "five"), (3, 7, "seven"), (4, 9, "nine")]),
    ("descending", [(1, 1, "a"), (2, 5, "five"), (3, 7, "seven"), (4, 3, "three")])])
def test_sequence_field_order_and_null_sequence_is_smallest(tmp_path, sort_order, expected, commits):
    ours = _sequence_scenario(tmp_path / "paimon_py", sort_order, commits)
    assert ours == _sequence_scenario(tmp_path / "pypaimon", sort_order, commits)
    assert ours == expected


# ---- primary keys are NOT NULL --------------------------------------------------------------------

def test_from_pyarrow_schema_makes_primary_key_columns_not_null():
    pa_schema = pa.schema([("pt", pa.string()), ("id", pa.int64()), ("v", pa.string())])
    for lib in (paimon_py, __import__("pypaimon")):
        schema = lib.Schema.from_pyarrow_schema(pa_schema, partition_keys=["pt"], primary_keys=["pt", "id"])
        assert [f.type.nullable for f in schema.fields] == [False, False, True], lib.__name__


# ---- changelog files, file names, option checks ---------------------------------------------------

def test_changelog_file_format_and_first_file_numbers(warehouse, pp_catalog):
    table = h.create_table(pp_catalog, "cl", SEQ_SCHEMA, primary_keys=["id"],
                           options={"bucket": "1", "changelog-producer": "input", "file.format": "parquet",
                                    "changelog-file.format": "orc"})
    builder = table.new_stream_read_builder()
    scan = builder.new_streaming_scan()
    assert scan.plan() is None
    h.write_rows(table, SEQ_SCHEMA, [{"id": 1, "ts": 1, "v": "a"}])
    names = sorted(os.listdir(os.path.join(h.table_dir(warehouse, "cl"), "bucket-0")))
    assert [n.rsplit("-", 1)[1] for n in names] == ["0.orc", "0.parquet"], names
    assert [n.split("-")[0] for n in names] == ["changelog", "data"], names
    changes = builder.new_read().to_arrow(scan.plan().splits())
    assert changes.column("v").to_pylist() == ["a"]


def test_changelog_file_format_defaults_to_the_file_format(warehouse, pp_catalog):
    table = h.create_table(pp_catalog, "cl", SEQ_SCHEMA, primary_keys=["id"],
                           options={"bucket": "1", "changelog-producer": "input", "file.format": "orc"})
    h.write_rows(table, SEQ_SCHEMA, [{"id": 1, "ts": 1, "v": "a"}])
    names = os.listdir(os.path.join(h.table_dir(warehouse, "cl"), "bucket-0"))
    assert sorted(n.rsplit(".", 1)[1] for n in names) == ["orc", "orc"]


def test_changelog_producer_on_an_append_table_is_refused(pp_catalog):
    with pytest.raises(OptionError, match="Can not set changelog-producer on table without primary keys, "
                                          "please define primary keys."):
        h.create_table(pp_catalog, "append", SEQ_SCHEMA, options={"changelog-producer": "input"})


def test_read_parallelism_must_be_positive(pp_catalog):
    with pytest.raises(OptionError, match="read.parallelism=0 is too small — give at least 1"):
        h.create_table(pp_catalog, "zero", SEQ_SCHEMA, options={"read.parallelism": "0"})
    table = h.create_table(pp_catalog, "one", SEQ_SCHEMA, options={"read.parallelism": "1"})
    h.write_rows(table, SEQ_SCHEMA, [{"id": 1, "ts": 1, "v": "a"}])
    h.write_rows(table, SEQ_SCHEMA, [{"id": 2, "ts": 1, "v": "b"}])
    assert [r["id"] for r in h.rows_sorted(table, ["id"])] == [1, 2]


@pytest.mark.parametrize("descending, expected", [(False, [None, -1.0, 1.0, float("inf"), "nan"]),
                                                  (True, [None, "nan", float("inf"), 1.0, -1.0])])
def test_float_sequence_order_puts_null_first_and_nan_largest(descending, expected):
    from paimon_py.io.key_value import SEQUENCE_NUMBER
    from paimon_py.mergetree.record_order import RecordOrder

    table = pa.table({"k": [1] * 5, "s": [1.0, float("nan"), None, -1.0, float("inf")], SEQUENCE_NUMBER: range(5)})
    values = RecordOrder(("k",), ("s",), descending).sort(table).column("s").to_pylist()
    assert ["nan" if v != v else v for v in values] == expected
