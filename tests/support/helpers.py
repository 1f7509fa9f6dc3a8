"""Small helpers shared by the compatibility tests.

Both libraries expose the same API shape (pypaimon's), so most helpers take a catalog or a table
object of either library and use only that shared surface.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from typing import Any, Callable, Iterable, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

DB = "db"


# --- catalogs and tables --------------------------------------------------------------------

def pypaimon_catalog(warehouse):
    import pypaimon

    return pypaimon.CatalogFactory.create({"warehouse": str(warehouse)})


def paimon_py_catalog(warehouse):
    import paimon_py

    return paimon_py.CatalogFactory.create({"warehouse": str(warehouse)})


def library_of(catalog_or_table):
    """The module (``paimon_py`` or ``pypaimon``) an object comes from."""
    module = type(catalog_or_table).__module__.split(".")[0]
    return __import__(module)


def create_table(catalog, name: str, pa_schema: pa.Schema, partition_keys=None, primary_keys=None,
                 options=None):
    """Create ``db.<name>`` through ``catalog`` (either library) and return the table object."""
    lib = library_of(catalog)
    catalog.create_database(DB, ignore_if_exists=True)
    schema = lib.Schema.from_pyarrow_schema(pa_schema, partition_keys=list(partition_keys or []),
                                            primary_keys=list(primary_keys or []),
                                            options=dict(options or {}))
    catalog.create_table(f"{DB}.{name}", schema, ignore_if_exists=False)
    return catalog.get_table(f"{DB}.{name}")


def table_dir(warehouse, name: str) -> str:
    return os.path.join(str(warehouse), f"{DB}.db", name)


# --- writing --------------------------------------------------------------------------------

def write_batches(table, *batches: pa.Table, overwrite=None):
    """One batch commit holding ``batches`` (each passed to ``write_arrow``); returns the messages."""
    builder = table.new_batch_write_builder()
    if overwrite is not None:
        builder = builder.overwrite(overwrite)
    write = builder.new_write()
    commit = builder.new_commit()
    try:
        for batch in batches:
            write.write_arrow(batch)
        messages = write.prepare_commit()
        commit.commit(messages)
    finally:
        write.close()
        commit.close()
    return messages


def write_rows(table, pa_schema: pa.Schema, rows: list[dict]):
    return write_batches(table, pa.Table.from_pylist(rows, schema=pa_schema))


# --- reading --------------------------------------------------------------------------------

def read_arrow(table, projection: Sequence[str] | None = None) -> pa.Table:
    builder = table.new_read_builder()
    if projection is not None:
        builder = builder.with_projection(list(projection))
    splits = builder.new_scan().plan().splits()
    result = builder.new_read().to_arrow(splits)
    if result is None:  # pypaimon returns None for an empty plan in some versions
        return pa.table({})
    return result


def read_every_retained_snapshot(table) -> list[int]:
    """Reads ``table`` (paimon_py's) as of each retained snapshot: a data, manifest or index file
    that one of them needs and is gone fails the read. Returns the snapshot ids."""
    manager = table.snapshot_manager
    ids = list(range(manager.earliest_snapshot_id(), manager.latest_snapshot_id() + 1))
    for snapshot_id in ids:
        read = table.new_read_builder().with_snapshot(snapshot_id)
        read.new_read().to_arrow(read.new_scan().plan().splits())
    return ids


def read_sorted(table, keys: Sequence[str], projection: Sequence[str] | None = None) -> pa.Table:
    """Read the whole table (through whichever library ``table`` belongs to), sorted by ``keys``."""
    result = read_arrow(table, projection)
    if result.num_rows == 0:
        return result
    return result.sort_by([(k, "ascending") for k in keys])


def rows_sorted(table, keys: Sequence[str], projection=None) -> list[dict]:
    return read_sorted(table, keys, projection).to_pylist()


def sort_rows(rows: Iterable[dict], keys: Sequence[str]) -> list[dict]:
    return sorted(rows, key=lambda r: tuple(_sortable(r[k]) for k in keys))


def _sortable(value):
    # None sorts last, as in pyarrow's sort_by
    return (value is None, value)


def as_multiset(rows: Iterable[dict]) -> Counter:
    """Order-insensitive form of append-table content (duplicates allowed)."""
    return Counter(tuple(sorted((k, _hashable(v)) for k, v in r.items())) for r in rows)


def _hashable(value: Any):
    if isinstance(value, (list, dict)):
        return repr(value)
    return value


def assert_rows_equal(actual: list[dict], expected: list[dict], what: str):
    """Row-by-row comparison with a readable diff of the first mismatches."""
    if actual == expected:
        return
    lines = [f"{what}: {len(actual)} rows read, {len(expected)} expected"]
    shown = 0
    for i in range(max(len(actual), len(expected))):
        a = actual[i] if i < len(actual) else None
        e = expected[i] if i < len(expected) else None
        if a != e:
            if a is not None and e is not None:
                diff = {k: (a.get(k), e.get(k)) for k in set(a) | set(e) if a.get(k) != e.get(k)}
                lines.append(f"  row {i}: (actual, expected) per column {diff}; expected row {e}")
            else:
                lines.append(f"  row {i}: actual {a} expected {e}")
            shown += 1
            if shown >= 8:
                lines.append("  ...")
                break
    raise AssertionError("\n".join(lines))


# --- physical layout ------------------------------------------------------------------------

def file_locations_by_key(table_root: str, key_columns: Sequence[str]) -> dict[tuple, set]:
    """key tuple -> {(partition path, bucket dir)} for every row of every Parquet data file.

    Both PK files (KeyValue layout, which also holds every table column) and append files carry
    the table's columns under their own names, so ``key_columns`` are read by name.
    """
    found: dict[tuple, set] = {}
    for root, _dirs, files in os.walk(table_root):
        for name in files:
            if not (name.startswith("data-") and name.endswith(".parquet")):
                continue
            rel = os.path.relpath(root, table_root)
            parts = rel.split(os.sep)
            bucket_dir = parts[-1]
            assert bucket_dir.startswith("bucket-"), f"data file outside a bucket dir: {rel}/{name}"
            partition = "/".join(parts[:-1])
            data = pq.read_table(os.path.join(root, name), columns=list(key_columns)).to_pylist()
            for row in data:
                key = tuple(_hashable(row[c]) for c in key_columns)
                found.setdefault(key, set()).add((partition, bucket_dir))
    return found


def snapshot_ids(table_root: str) -> list[int]:
    names = os.listdir(os.path.join(table_root, "snapshot"))
    return sorted(int(n[len("snapshot-"):]) for n in names if n.startswith("snapshot-"))


def snapshot_kinds(table_root: str) -> list[str]:
    """commitKind of every snapshot, in id order (ids must be contiguous from 1)."""
    ids = snapshot_ids(table_root)
    assert ids == list(range(1, len(ids) + 1)), f"snapshot ids not contiguous from 1: {ids}"
    kinds = []
    for i in ids:
        with open(os.path.join(table_root, "snapshot", f"snapshot-{i}")) as f:
            kinds.append(json.load(f)["commitKind"])
    return kinds


# --- concurrency ----------------------------------------------------------------------------------

def run_in_threads(work: Callable[[int], None], count: int) -> list[Exception]:
    """``work(0)`` .. ``work(count - 1)`` on threads of their own, all joined; the exceptions they raised."""
    errors: list[Exception] = []

    def guarded(i: int) -> None:
        try:
            work(i)
        except Exception as error:  # returned to the caller
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
