"""Failure cases: bad input is rejected with an error naming the culprit, and commits that lose a
race retry or fail without making anything visible.

Assumption about paimon_py's API (besides the pypaimon-shaped public API): the committer raises
``paimon_py.operation.file_store_commit.CommitConflictError`` for an unrecoverable conflict, and
``CommitMessage`` (a dataclass) carries compaction results as ``compact_before``/``compact_after``.
"""

from __future__ import annotations

import dataclasses
import json
import os

import pyarrow as pa
import pytest

from tests.support import helpers as h

SCHEMA = pa.schema([
    pa.field("region_code", pa.string(), nullable=False),
    pa.field("order_id", pa.int64(), nullable=False),
    pa.field("customer_name", pa.string()),
    pa.field("amount_cents", pa.int64()),
])
KEYS = ["region_code", "order_id"]


def _rows(ids, region="eu", tag="a"):
    return [{"region_code": region, "order_id": i, "customer_name": f"{tag}{i}", "amount_cents": i * 100}
            for i in ids]


def _pk_table(catalog, name="orders", bucket="2"):
    return h.create_table(catalog, name, SCHEMA, partition_keys=["region_code"], primary_keys=KEYS,
                          options={"bucket": bucket})


def _snapshots(warehouse, name="orders"):
    directory = os.path.join(h.table_dir(warehouse, name), "snapshot")
    if not os.path.isdir(directory):
        return []
    return h.snapshot_ids(h.table_dir(warehouse, name))


def _attempt_write(table, data):
    """Write ``data`` and commit; the error may come from write_arrow, prepare_commit or commit."""
    builder = table.new_batch_write_builder()
    write, commit = builder.new_write(), builder.new_commit()
    try:
        write.write_arrow(data)
        commit.commit(write.prepare_commit())
    finally:
        try:
            write.close()
            commit.close()
        except Exception:  # closing after a failed write may itself complain; not under test
            pass


# ---------------------------------------------------------------------------------------------
# Input that does not match the table schema
# ---------------------------------------------------------------------------------------------

def test_write_missing_column_names_it(warehouse, pp_catalog):
    table = _pk_table(pp_catalog)
    data = pa.Table.from_pylist(_rows(range(3)), schema=SCHEMA).drop_columns(["customer_name"])
    with pytest.raises((ValueError, TypeError)) as error:
        _attempt_write(table, data)
    assert "customer_name" in str(error.value)
    assert _snapshots(warehouse) == []


def test_write_wrong_column_type_names_it(warehouse, pp_catalog):
    table = _pk_table(pp_catalog)
    data = pa.table({
        "region_code": pa.array(["eu"] * 3),
        "order_id": pa.array([1, 2, 3], pa.int64()),
        "customer_name": pa.array(["x", "y", "z"]),
        "amount_cents": pa.array(["100", "200", "300"]),  # STRING where BIGINT is declared
    })
    with pytest.raises((ValueError, TypeError)) as error:
        _attempt_write(table, data)
    assert "amount_cents" in str(error.value)
    assert _snapshots(warehouse) == []


def test_write_unknown_extra_column_names_it(warehouse, pp_catalog):
    table = _pk_table(pp_catalog)
    data = pa.Table.from_pylist(_rows(range(3)), schema=SCHEMA).append_column(
        "unexpected_col", pa.array([1, 2, 3]))
    with pytest.raises((ValueError, TypeError)) as error:
        _attempt_write(table, data)
    assert "unexpected_col" in str(error.value)
    assert _snapshots(warehouse) == []


@pytest.mark.parametrize("column", ["order_id", "region_code"])
def test_write_null_in_primary_key_names_column(warehouse, pp_catalog, column):
    """NULL in a trimmed key column and in a partition column (part of the PK, so NOT NULL)."""
    table = _pk_table(pp_catalog)
    rows = _rows(range(4))
    rows[2][column] = None
    nullable = pa.schema([f.with_nullable(True) for f in SCHEMA])  # Arrow itself would refuse
    data = pa.Table.from_pylist(rows, schema=nullable)
    with pytest.raises((ValueError, TypeError)) as error:
        _attempt_write(table, data)
    assert column in str(error.value)
    assert _snapshots(warehouse) == []


def test_write_invalid_row_kind_value(warehouse, pp_catalog):
    schema = SCHEMA.append(pa.field("op", pa.string()))
    table = h.create_table(pp_catalog, "orders", schema, partition_keys=["region_code"],
                           primary_keys=KEYS, options={"bucket": "2", "rowkind.field": "op"})
    rows = [{**r, "op": "+I"} for r in _rows(range(3))]
    rows[1]["op"] = "UPSERT"
    with pytest.raises((ValueError, TypeError)) as error:
        _attempt_write(table, pa.Table.from_pylist(rows, schema=schema))
    assert "UPSERT" in str(error.value)
    assert _snapshots(warehouse) == []


# ---------------------------------------------------------------------------------------------
# Invalid table options are rejected when the table is created
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key,value", [
    ("merge-engine", "foo"),
    ("bucket", "abc"),
    ("bucket", "0"),
    ("file.format", "csv"),
    ("changelog-producer", "sometimes"),
    ("ignore-delete", "maybe"),
])
def test_create_table_rejects_invalid_option(warehouse, pp_catalog, key, value):
    import paimon_py

    pp_catalog.create_database(h.DB, ignore_if_exists=True)
    options = {"bucket": "2", key: value}
    with pytest.raises((ValueError, TypeError)) as error:
        schema = paimon_py.Schema.from_pyarrow_schema(SCHEMA, partition_keys=["region_code"],
                                                      primary_keys=KEYS, options=options)
        pp_catalog.create_table(f"{h.DB}.bad", schema, ignore_if_exists=False)
    message = str(error.value)
    assert key in message and value in message, message
    assert not os.path.exists(os.path.join(h.table_dir(warehouse, "bad"), "schema", "schema-0"))


def test_create_existing_table_and_get_missing_table(warehouse, pp_catalog):
    _pk_table(pp_catalog)
    with pytest.raises(Exception) as error:
        _pk_table(pp_catalog)
    assert "orders" in str(error.value)
    with pytest.raises(Exception) as error:
        pp_catalog.get_table(f"{h.DB}.no_such_table")
    assert "no_such_table" in str(error.value)


# ---------------------------------------------------------------------------------------------
# Two writers race for the same snapshot id
# ---------------------------------------------------------------------------------------------

def _new_writer(warehouse, name, rows):
    table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.{name}")
    builder = table.new_batch_write_builder()
    write, commit = builder.new_write(), builder.new_commit()
    write.write_arrow(pa.Table.from_pylist(rows, schema=SCHEMA))
    return write, commit, write.prepare_commit()


def _snapshot_json(warehouse, snapshot_id, name="orders"):
    with open(os.path.join(h.table_dir(warehouse, name), "snapshot", f"snapshot-{snapshot_id}")) as f:
        return json.load(f)


def _assert_content(warehouse, rows, name="orders"):
    expected = h.sort_rows(rows, KEYS)
    for catalog in (h.paimon_py_catalog(warehouse), h.pypaimon_catalog(warehouse)):
        got = h.sort_rows(h.read_arrow(catalog.get_table(f"{h.DB}.{name}")).to_pylist(), KEYS)
        h.assert_rows_equal(got, expected, f"{type(catalog).__module__} reading {name}")


def test_two_writers_prepared_before_either_commits(warehouse, pp_catalog):
    """Both writers planned against an empty table; both commits land, as snapshots 1 and 2."""
    _pk_table(pp_catalog)
    w1, c1, m1 = _new_writer(warehouse, "orders", _rows(range(0, 50), tag="w1"))
    w2, c2, m2 = _new_writer(warehouse, "orders", _rows(range(50, 100), tag="w2"))
    c2.commit(m2)
    c1.commit(m1)
    for obj in (w1, c1, w2, c2):
        obj.close()
    assert _snapshots(warehouse) == [1, 2]
    _assert_content(warehouse, _rows(range(0, 50), tag="w1") + _rows(range(50, 100), tag="w2"))


def test_commit_retries_when_another_writer_takes_the_snapshot_id(warehouse, pp_catalog, monkeypatch):
    """Writer 2 has read "latest = none" and built snapshot-1 when writer 1 creates snapshot-1.

    Simulated deterministically: the first time writer 2 tries to create its snapshot file,
    writer 1's whole commit runs first. Writer 2 must notice that snapshot-1 exists, rebuild on top
    of it and create snapshot-2; both writers' rows are visible.
    """
    from paimon_py.snapshot.snapshot_manager import SnapshotManager

    _pk_table(pp_catalog)
    rows1, rows2 = _rows(range(0, 40), tag="w1"), _rows(range(20, 60), "eu", tag="w2")
    w1, c1, m1 = _new_writer(warehouse, "orders", rows1)
    w2, c2, m2 = _new_writer(warehouse, "orders", rows2)

    original = SnapshotManager.try_create
    attempts = []
    armed = [True]

    def racing_try_create(self, snapshot):
        attempts.append(snapshot.id)
        if armed[0]:
            armed[0] = False
            c1.commit(m1)  # the other writer wins the race for this id
        return original(self, snapshot)

    monkeypatch.setattr(SnapshotManager, "try_create", racing_try_create)
    c2.commit(m2)
    monkeypatch.undo()
    for obj in (w1, c1, w2, c2):
        obj.close()

    assert attempts == [1, 1, 2], f"snapshot ids tried (writer 2, writer 1, writer 2 retry): {attempts}"
    assert _snapshots(warehouse) == [1, 2]
    s1, s2 = _snapshot_json(warehouse, 1), _snapshot_json(warehouse, 2)
    assert s1["commitUser"] != s2["commitUser"]
    assert s2["totalRecordCount"] == len(rows1) + len(rows2)
    # keys 20..39 were written by both; writer 2 committed last, but each writer numbers its own
    # sequence from the same starting point, so the winner of equal sequence numbers is the file
    # committed later (Paimon's order for equal sequence numbers). Only non-overlapping keys are
    # asserted strictly.
    expected = {(r["region_code"], r["order_id"]): r for r in rows1}
    expected.update({(r["region_code"], r["order_id"]): r for r in rows2})
    for catalog in (h.paimon_py_catalog(warehouse), h.pypaimon_catalog(warehouse)):
        got = {(r["region_code"], r["order_id"]): r
               for r in h.read_arrow(catalog.get_table(f"{h.DB}.orders")).to_pylist()}
        assert set(got) == set(expected), type(catalog).__module__
        for key, row in expected.items():
            if not 20 <= key[1] < 40:
                assert got[key] == row, (type(catalog).__module__, key)


# ---------------------------------------------------------------------------------------------
# Deleting a file that is no longer live
# ---------------------------------------------------------------------------------------------

def _as_deletion(message):
    """The committed ``message`` turned into a compaction-style message deleting its files.

    paimon_py's CommitMessage carries deletions only as compaction input (``compact_before``);
    pypaimon's has ``deleted_files``. Whichever field exists is used.
    """
    fields = {f.name for f in dataclasses.fields(message)}
    if "compact_before" in fields:
        return dataclasses.replace(message, new_files=[], compact_before=list(message.new_files),
                                   compact_after=[])
    if "deleted_files" in fields:
        return dataclasses.replace(message, new_files=[], deleted_files=list(message.new_files))
    pytest.fail(f"CommitMessage has no field for deleted files: {sorted(fields)}")


def test_deleting_a_file_removed_by_an_overwrite_conflicts(warehouse, pp_catalog):
    """A stale compaction (planned before an OVERWRITE replaced its input files) must fail.

    Built with the low-level message: the files written in snapshot 1 are declared as deleted
    (compaction input) after an INSERT OVERWRITE of the partition already removed them.
    """
    from paimon_py.exceptions import CommitConflictError

    table = _pk_table(pp_catalog)
    messages = h.write_rows(table, SCHEMA, _rows(range(30)))
    assert any(m.new_files for m in messages)
    overwrite_rows = _rows(range(5), tag="ow")
    h.write_batches(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.orders"),
                    pa.Table.from_pylist(overwrite_rows, schema=SCHEMA), overwrite={"region_code": "eu"})
    assert _snapshots(warehouse) == [1, 2]

    stale = [_as_deletion(m) for m in messages if m.new_files]
    commit = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.orders").new_batch_write_builder().new_commit()
    with pytest.raises(CommitConflictError) as error:
        commit.commit(stale)
    commit.close()
    assert "conflict" in str(error.value).lower()
    assert _snapshots(warehouse) == [1, 2], "a failed commit must not leave a snapshot"
    with open(os.path.join(h.table_dir(warehouse, "orders"), "snapshot", "LATEST")) as f:
        assert f.read().strip() == "2"
    _assert_content(warehouse, overwrite_rows)


def test_deleting_the_same_file_twice_conflicts(warehouse, pp_catalog):
    """Two compactions of the same input: the second one's input is no longer live."""
    from paimon_py.exceptions import CommitConflictError

    table = _pk_table(pp_catalog)
    first = h.write_rows(table, SCHEMA, _rows(range(30)))
    h.write_rows(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.orders"), SCHEMA,
                 _rows(range(30, 40), tag="b"))
    deletion = [_as_deletion(m) for m in first if m.new_files]
    table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.orders")
    commit = table.new_batch_write_builder().new_commit()
    commit.commit(deletion)
    commit.close()
    after_first = _snapshots(warehouse)
    assert after_first == [1, 2, 3]
    _assert_content(warehouse, _rows(range(30, 40), tag="b"))

    commit = table.new_batch_write_builder().new_commit()
    with pytest.raises(CommitConflictError) as error:
        commit.commit(deletion)
    commit.close()
    assert "conflict" in str(error.value).lower()
    assert _snapshots(warehouse) == after_first



def test_commit_gives_up_after_max_retries(warehouse, pp_catalog, monkeypatch):
    """Other writers take every snapshot id: after commit.max-retries the commit fails cleanly."""
    from paimon_py.exceptions import CommitConflictError
    from paimon_py.snapshot.snapshot_manager import SnapshotManager

    h.create_table(pp_catalog, "orders", SCHEMA, partition_keys=["region_code"], primary_keys=KEYS,
                   options={"bucket": "2", "commit.max-retries": "2"})
    others = [_new_writer(warehouse, "orders", _rows(range(i * 10, i * 10 + 10), tag=f"o{i}"))
              for i in range(3)]
    loser = _new_writer(warehouse, "orders", _rows(range(100, 110), tag="loser"))
    original = SnapshotManager.try_create
    pending = list(others)
    in_race = [False]

    def racing_try_create(self, snapshot):
        if not in_race[0] and pending:
            in_race[0] = True
            _w, commit, messages = pending.pop(0)
            commit.commit(messages)  # someone else takes the id the loser is about to write
            in_race[0] = False
        return original(self, snapshot)

    monkeypatch.setattr(SnapshotManager, "try_create", racing_try_create)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    with pytest.raises(CommitConflictError) as error:
        loser[1].commit(loser[2])
    monkeypatch.undo()
    assert "retr" in str(error.value).lower()
    assert _snapshots(warehouse) == [1, 2, 3], "only the three winners' snapshots exist"
    _assert_content(warehouse, [r for i in range(3) for r in _rows(range(i * 10, i * 10 + 10), tag=f"o{i}")])


def test_committing_the_same_messages_twice_is_refused(warehouse, pp_catalog):
    """Re-adding files that are already live would break every reader ("already added")."""
    table = _pk_table(pp_catalog)
    builder = table.new_batch_write_builder()
    write, commit = builder.new_write(), builder.new_commit()
    write.write_arrow(pa.Table.from_pylist(_rows(range(10)), schema=SCHEMA))
    messages = write.prepare_commit()
    commit.commit(messages)
    with pytest.raises(Exception) as error:
        commit.commit(messages)
    write.close()
    commit.close()
    assert "already" in str(error.value).lower() or "conflict" in str(error.value).lower(), error.value
    assert _snapshots(warehouse) == [1]
    _assert_content(warehouse, _rows(range(10)))
