"""Row tracking of append tables: ``_ROW_ID`` and ``_SEQUENCE_NUMBER``, against pypaimon 2.1.0.

Paimon Java 1.0 (``tests/support/java_tool.py``) predates row tracking, so pypaimon is the
reference here. pypaimon 2.1.0 reads ``_ROW_ID`` as NULL from a file whose ids are stored as a
column and whose ``_FIRST_ROW_ID`` is null (Paimon's compaction output when the ids are not
consecutive, e.g. files of a partition interleaved with another's); paimon_py reads the stored ids,
as Paimon's ``DataFileRecordReader`` does.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from paimon_py.exceptions import OptionError, SchemaChangeError, SchemaError
from paimon_py.schema.schema_change import SchemaChange
from tests.support import helpers as h

SCHEMA = pa.schema([("id", pa.int32()), ("data", pa.string()), ("dt", pa.string())])
TRACKED = ["id", "data", "dt", "_ROW_ID", "_SEQUENCE_NUMBER"]
ROW_TRACKING = {"row-tracking.enabled": "true"}


def _rows(start: int, count: int, partitions=("a",)) -> list[dict]:
    return [{"id": i, "data": f"v{i}", "dt": partitions[i % len(partitions)]} for i in range(start, start + count)]


def _read(warehouse, library_catalog) -> list[dict]:
    table = library_catalog(warehouse).get_table(f"{h.DB}.t")
    return h.sort_rows(h.read_arrow(table, TRACKED).to_pylist(), ["_ROW_ID"])


def _write(warehouse, library_catalog, rows: list[dict]) -> None:
    h.write_rows(library_catalog(warehouse).get_table(f"{h.DB}.t"), SCHEMA, rows)


def _latest_snapshot(warehouse) -> dict:
    root = h.table_dir(warehouse, "t")
    return json.load(open(f"{root}/snapshot/snapshot-{h.snapshot_ids(root)[-1]}"))


def _live_files(warehouse):
    table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.t")
    return [e.file for e in table.new_scan().live_entries(table.snapshot_manager.latest_snapshot())]


def test_pypaimon_reads_row_ids_paimon_py_assigned(warehouse, pp_catalog):
    """The seed's query: ids from 0 in commit order, the committing snapshot as sequence number."""
    h.create_table(pp_catalog, "t", SCHEMA, partition_keys=["dt"], options=ROW_TRACKING)
    _write(warehouse, h.paimon_py_catalog, _rows(0, 4, ("a", "b")))
    _write(warehouse, h.paimon_py_catalog, _rows(4, 3, ("a", "b")))
    ours = _read(warehouse, h.paimon_py_catalog)
    assert ours == _read(warehouse, h.pypaimon_catalog)
    assert [r["_ROW_ID"] for r in ours] == list(range(7))
    assert [r["_SEQUENCE_NUMBER"] for r in ours] == [1] * 4 + [2] * 3
    first = {r["id"]: r["_ROW_ID"] for r in ours}
    assert {first[i] for i in (0, 2)} == {0, 1} or {first[i] for i in (0, 2)} == {2, 3}, \
        "a partition's new rows get consecutive ids (row-tracking.partition-group-on-commit)"
    assert _latest_snapshot(warehouse)["nextRowId"] == 7
    assert all(f.first_row_id is not None and f.write_cols is None for f in _live_files(warehouse))


def test_paimon_py_continues_a_pypaimon_table(warehouse, ppy_catalog):
    h.create_table(ppy_catalog, "t", SCHEMA, options=ROW_TRACKING)
    _write(warehouse, h.pypaimon_catalog, _rows(0, 3))
    _write(warehouse, h.paimon_py_catalog, _rows(3, 2))
    _write(warehouse, h.pypaimon_catalog, _rows(5, 1))
    ours = _read(warehouse, h.paimon_py_catalog)
    assert ours == _read(warehouse, h.pypaimon_catalog)
    assert [(r["id"], r["_ROW_ID"], r["_SEQUENCE_NUMBER"]) for r in ours] == [
        (0, 0, 1), (1, 1, 1), (2, 2, 1), (3, 3, 2), (4, 4, 2), (5, 5, 3)]
    assert _latest_snapshot(warehouse)["nextRowId"] == 6


def _compact_setup(warehouse, partitions) -> list[dict]:
    """Five small commits; the fifth write compacts the first four (committed) files per bucket."""
    catalog = h.paimon_py_catalog(warehouse)
    h.create_table(catalog, "t", SCHEMA, partition_keys=["dt"],
                   options={**ROW_TRACKING, "compaction.min.file-num": "4"})
    before = None
    for commit in range(5):
        if commit == 4:
            before = _read(warehouse, h.paimon_py_catalog)
        _write(warehouse, h.paimon_py_catalog, _rows(commit * 4, 4, partitions))
    assert "COMPACT" in h.snapshot_kinds(h.table_dir(warehouse, "t"))
    after = _read(warehouse, h.paimon_py_catalog)
    assert after[:len(before)] == before, "compaction changed row ids or sequence numbers"
    assert [r["_ROW_ID"] for r in after] == list(range(20))
    return after


def test_compaction_keeps_row_ids_and_pypaimon_reads_them(warehouse):
    after = _compact_setup(warehouse, ("a",))
    assert after == _read(warehouse, h.pypaimon_catalog)
    compacted = [f for f in _live_files(warehouse) if f.file_source == 1]
    assert [(f.first_row_id, f.row_count, f.min_sequence_number, f.max_sequence_number) for f in compacted] \
        == [(0, 16, 1, 4)]
    assert compacted[0].write_cols == ("id", "data", "dt", "_ROW_ID", "_SEQUENCE_NUMBER")
    stored = pq.read_table(f"{h.table_dir(warehouse, 't')}/dt=a/bucket-0/{compacted[0].file_name}")
    assert stored.column("_ROW_ID").to_pylist() == list(range(16))


def test_compaction_stores_interleaved_row_ids(warehouse):
    """Files of two partitions interleave their ids: the compacted file has no first row id."""
    after = _compact_setup(warehouse, ("a", "b"))
    compacted = [f for f in _live_files(warehouse) if f.file_source == 1]
    assert len(compacted) == 2 and all(f.first_row_id is None for f in compacted)
    expected = [{k: r[k] for k in ("id", "data", "dt")} for r in after]
    pypaimon_rows = _read(warehouse, h.pypaimon_catalog)
    assert h.as_multiset({k: r[k] for k in ("id", "data", "dt")} for r in pypaimon_rows) == h.as_multiset(expected)


def test_later_writer_compacts_files_pypaimon_wrote(warehouse, ppy_catalog):
    h.create_table(ppy_catalog, "t", SCHEMA, options={**ROW_TRACKING, "compaction.min.file-num": "3"})
    for commit in range(3):
        _write(warehouse, h.pypaimon_catalog, _rows(commit * 2, 2))
    _write(warehouse, h.paimon_py_catalog, _rows(6, 2))
    assert h.snapshot_kinds(h.table_dir(warehouse, "t"))[-1] == "COMPACT"
    ours = _read(warehouse, h.paimon_py_catalog)
    assert ours == _read(warehouse, h.pypaimon_catalog)
    assert [(r["id"], r["_ROW_ID"]) for r in ours] == [(i, i) for i in range(8)]


def test_projection_of_row_tracking_columns_alone(warehouse, pp_catalog):
    table = h.create_table(pp_catalog, "t", SCHEMA, options=ROW_TRACKING)
    _write(warehouse, h.paimon_py_catalog, _rows(0, 2))
    assert h.read_arrow(table, ["_ROW_ID"]).to_pylist() == [{"_ROW_ID": 0}, {"_ROW_ID": 1}]


@pytest.mark.parametrize("options, primary_keys, message", [
    ({**ROW_TRACKING, "bucket": "2"}, ["id"], "Cannot define primary-key for row tracking table."),
    ({**ROW_TRACKING, "bucket": "2", "bucket-key": "id"}, [],
     "Cannot define bucket for row tracking table, it only support bucket = -1"),
])
def test_row_tracking_refused_as_paimon_does(pp_catalog, options, primary_keys, message):
    with pytest.raises(OptionError, match=message):
        h.create_table(pp_catalog, "t", SCHEMA, primary_keys=primary_keys, options=options)


def test_row_tracking_column_names_and_option_changes_refused(pp_catalog):
    schema = SCHEMA.append(pa.field("_ROW_ID", pa.int64()))
    with pytest.raises(SchemaError, match="Row tracking field name '_ROW_ID' conflicts"):
        h.create_table(pp_catalog, "bad", schema, options=ROW_TRACKING)
    h.create_table(pp_catalog, "t", SCHEMA, options=ROW_TRACKING)
    with pytest.raises(SchemaChangeError, match="Change 'row-tracking.enabled' is not supported yet."):
        pp_catalog.alter_table(f"{h.DB}.t", [SchemaChange.set_option("row-tracking.enabled", "false")])


def test_row_tracking_columns_need_row_tracking(pp_catalog):
    table = h.create_table(pp_catalog, "t", SCHEMA)
    with pytest.raises(SchemaError, match="unknown columns \\['_ROW_ID'\\]"):
        table.new_read_builder().with_projection(["id", "_ROW_ID"])
