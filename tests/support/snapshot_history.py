"""A primary-key table written with a known history (``History``: a model of its content at every
snapshot id) and what the snapshot-expiration and orphan-file tests check against it: the files
on disk, the files the snapshots reference, every snapshot read in paimon_py and pypaimon.
Used by tests/paimon_py/test_expire_snapshots.py and tests/paimon_py/test_orphan_files_clean.py.
"""

from __future__ import annotations

import os
import random

import pyarrow as pa

from paimon_py import SchemaChange
from paimon_py.manifest.avro import decode_records
from paimon_py.manifest.manifest_entry import FileKind
from paimon_py.operation.expire_snapshots import ExpireSnapshots
from paimon_py.operation.split import Split
from paimon_py.table.read_builder import _raw_convertible
from paimon_py.tag.tag_manager import TagManager
from tests.support import helpers as h

SCHEMA = pa.schema([
    pa.field("p", pa.string(), nullable=False),
    pa.field("hr", pa.int32(), nullable=False),
    pa.field("id", pa.int64(), nullable=False),
    pa.field("name", pa.string()),
    pa.field("score", pa.float64()),
    pa.field("rk", pa.string()),
])
KEYS = ["p", "hr", "id"]
PARTITIONS = [("a", 0), ("a", 1), ("b", 0), ("c", 1)]
BASE_OPTIONS = {"bucket": "3", "rowkind.field": "rk", "file.format": "parquet",
                "snapshot.num-retained.max": "5", "snapshot.num-retained.min": "1",
                "dynamic-partition-overwrite": "false"}
"""Static overwrites: the history's overwrite with an empty spec replaces the whole table."""
RETENTION_PREFIXES = ("snapshot.num-retained", "snapshot.time-retained", "snapshot.expire")
METADATA_DIRS = ("schema", "snapshot", "tag", "consumer", "branch", "changelog")


# ---- writing with a model --------------------------------------------------------------------

class History:
    """A PK table plus the expected rows at every snapshot id."""

    def __init__(self, warehouse, name="t", options=None, seed=11):
        self.warehouse = warehouse
        self.name = name
        self.rng = random.Random(seed)
        options = {**BASE_OPTIONS, **(options or {})}
        # Commits expire snapshots by themselves (as Paimon's do); the history is written first
        # and the retention settings applied afterwards, by reopen(), for the test to expire.
        self.retention = {k: v for k, v in options.items() if k.startswith(RETENTION_PREFIXES)}
        self.table = h.create_table(h.paimon_py_catalog(warehouse), name, SCHEMA,
                                    partition_keys=["p", "hr"], primary_keys=KEYS,
                                    options={k: v for k, v in options.items() if k not in self.retention})
        self.rows: dict[tuple, dict] = {}
        self.by_snapshot: dict[int, list[dict]] = {}
        self.next_id = 0
        self.version = 0
        self.orphans: set[str] = set()
        """Files on disk that no snapshot ever referenced (left by the writer, not expiration's
        business: orphan cleanup removes them); excluded from the disk/reference comparison."""

    @property
    def root(self) -> str:
        return self.table.table_path

    def reopen(self):
        """The table as of its latest schema, with the retention settings applied."""
        catalog = h.paimon_py_catalog(self.warehouse)
        if self.retention:
            catalog.alter_table(f"{h.DB}.{self.name}",
                                [SchemaChange.set_option(k, v) for k, v in self.retention.items()])
            self.retention = {}
        self.table = catalog.get_table(f"{h.DB}.{self.name}")
        return self.table

    def _row(self, p, hr, i, kind):
        self.version += 1
        return {"p": p, "hr": hr, "id": i, "name": self.rng.choice([None, "x", f"n{i}-{self.version}"]),
                "score": self.rng.randint(-100, 100) / 4, "rk": kind}

    def _commit(self, rows, overwrite=None):
        latest_before = self.table.snapshot_manager.latest_snapshot_id() or 0
        h.write_batches(self.table, pa.Table.from_pylist(rows, schema=SCHEMA), overwrite=overwrite)
        if overwrite is not None:
            spec = overwrite
            self.rows = {k: r for k, r in self.rows.items()
                         if not all(r[c] == v for c, v in spec.items())}
        for row in rows:
            key = tuple(row[k] for k in KEYS)
            if row["rk"] in ("+I", "+U"):
                self.rows[key] = dict(row)
            else:
                self.rows.pop(key, None)
        latest = self.table.snapshot_manager.latest_snapshot_id()
        for snapshot_id in range(latest_before + 1, latest + 1):
            self.by_snapshot[snapshot_id] = h.sort_rows(self.rows.values(), KEYS)
        self.orphans |= files_on_disk(self.root) - referenced_files(self.table)

    def insert(self, n=40):
        rows = []
        for _ in range(n):
            p, hr = self.rng.choice(PARTITIONS)
            rows.append(self._row(p, hr, self.next_id, "+I"))
            self.next_id += 1
        self._commit(rows)

    def change(self, n=15):
        rows = []
        for key in self.rng.sample(sorted(self.rows), min(n, len(self.rows))):
            op = self.rng.random()
            if op < 0.5:
                rows.append(self._row(*key, "+U"))
            elif op < 0.7:
                rows += [self._row(*key, "-U"), self._row(*key, "+U")]
            else:
                rows.append(self._row(*key, "-D"))
        p, hr = self.rng.choice(PARTITIONS)
        rows.append(self._row(p, hr, self.next_id, "+I"))
        self.next_id += 1
        self._commit(rows)

    def overwrite(self, spec):
        rows = []
        for _ in range(8):
            p, hr = spec.get("p", "a"), spec.get("hr", 0)
            rows.append(self._row(p, hr, self.next_id, "+I"))
            self.next_id += 1
        self._commit(rows, overwrite=spec)

    def standard(self, expire_each=False, **expire_kwargs):
        """A history of 14 commits: inserts, updates/deletes, a partition and a full overwrite."""
        steps = ([self.insert, self.insert, self.change, self.change, self.insert,
                  lambda: self.overwrite({"p": "a", "hr": 1}), self.change, self.change,
                  self.insert, lambda: self.overwrite({}), self.insert, self.change, self.change,
                  self.change])
        for step in steps:
            step()
            if expire_each:
                ExpireSnapshots(self.reopen(), **expire_kwargs).expire()
        return self


# ---- what is referenced, what is on disk ------------------------------------------------------

def data_path(table, scan, entry) -> str:
    if entry.file.external_path:
        return entry.file.external_path
    partition = table.partition_computer.path(scan.partition_of(entry.partition))
    bucket_dir = f"bucket-{entry.bucket}" if entry.bucket != -2 else "bucket-postpone"
    return os.path.join(table.table_path, partition, bucket_dir, entry.file.file_name) if partition \
        else os.path.join(table.table_path, bucket_dir, entry.file.file_name)


def snapshot_files(table, snapshot) -> set[str]:
    """Every file reading ``snapshot`` (data and changelog) needs, computed independently."""
    scan = table.new_scan()
    manifest_dir = os.path.join(table.table_path, "manifest")
    files = set()
    for list_name in (snapshot.base_manifest_list, snapshot.delta_manifest_list,
                      snapshot.changelog_manifest_list):
        if list_name:
            files.add(os.path.join(manifest_dir, list_name))
            for meta in scan.manifest_list.read(list_name):
                files.add(os.path.join(manifest_dir, meta.file_name))
    if snapshot.changelog_manifest_list:
        for meta in scan.manifest_list.read(snapshot.changelog_manifest_list):
            for entry in scan.manifest_file.read(meta.file_name):
                assert entry.kind == FileKind.ADD
                files.add(data_path(table, scan, entry))
    for entry in scan.live_entries(snapshot):
        files.add(data_path(table, scan, entry))
    if snapshot.index_manifest:
        files.add(os.path.join(manifest_dir, snapshot.index_manifest))
        data = table.file_io.read_bytes(os.path.join(manifest_dir, snapshot.index_manifest))
        files.update(os.path.join(table.table_path, "index", r["_FILE_NAME"]) for r in decode_records(data))
    if snapshot.statistics:
        files.add(os.path.join(table.table_path, "statistics", snapshot.statistics))
    return files


def referenced_files(table) -> set[str]:
    manager = table.snapshot_manager
    snapshots = [manager.snapshot(i) for i in manager.list_ids()]
    snapshots += TagManager(table.file_io, table.table_path).tagged_snapshots()
    out = set()
    for snapshot in snapshots:
        out |= snapshot_files(table, snapshot)
    return out


def files_on_disk(root: str) -> set[str]:
    out = set()
    for directory, dirs, files in os.walk(root):
        relative = os.path.relpath(directory, root)
        if relative.split(os.sep)[0] in METADATA_DIRS:
            continue
        out.update(os.path.join(directory, f) for f in files)
    return out


def assert_disk_matches_references(table, ignore=frozenset()):
    on_disk, referenced = files_on_disk(table.table_path) - set(ignore), referenced_files(table)
    missing = referenced - on_disk
    assert not missing, f"referenced files missing from disk: {sorted(missing)[:5]}"
    extra = on_disk - referenced
    assert not extra, f"{len(extra)} unreferenced files left on disk: {sorted(extra)[:5]}"


# ---- reading snapshots and tags through both readers ----------------------------------------

def read_pp_snapshot_object(table, snapshot) -> list[dict]:
    """paimon_py read of a Snapshot object (a tag whose snapshot file has expired)."""
    scan = table.new_scan()
    groups: dict[tuple, list] = {}
    for entry in scan.live_entries(snapshot):
        groups.setdefault((entry.partition, entry.bucket), []).append(entry)
    splits = [Split(scan.partition_of(p), b, tuple(e.file for e in g), _raw_convertible(g))
              for (p, b), g in groups.items()]
    return h.sort_rows(table.new_read_builder().new_read().to_arrow(splits).to_pylist(), KEYS)


def read_pp(warehouse, name, snapshot_id) -> list[dict]:
    table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.{name}")
    builder = table.new_read_builder().with_snapshot(snapshot_id)
    return h.sort_rows(builder.new_read().to_arrow(builder.new_scan().plan().splits()).to_pylist(), KEYS)


def read_pypaimon(warehouse, name, options) -> list[dict]:
    table = h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.{name}").copy(options)
    return h.sort_rows(h.read_arrow(table).to_pylist(), KEYS)


def assert_snapshots_read(history, ids=None):
    manager = history.reopen().snapshot_manager
    ids = manager.list_ids() if ids is None else ids
    assert ids
    for snapshot_id in ids:
        expected = history.by_snapshot[snapshot_id]
        h.assert_rows_equal(read_pp(history.warehouse, history.name, snapshot_id), expected,
                            f"paimon_py reading snapshot {snapshot_id}")
        h.assert_rows_equal(read_pypaimon(history.warehouse, history.name,
                                          {"scan.snapshot-id": str(snapshot_id)}),
                            expected, f"pypaimon reading snapshot {snapshot_id}")


def all_time_millis(table) -> dict[int, int]:
    manager = table.snapshot_manager
    return {i: manager.snapshot(i).time_millis for i in manager.list_ids()}


# ---- tests -----------------------------------------------------------------------------------
