"""Batch read API (shaped like pypaimon's): ``ReadBuilder`` -> ``TableScan`` / ``TableRead``."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

import pandas as pd
import pyarrow as pa

from paimon_py.deletionvectors.index_file import DeletionFile, DeletionVectorsIndexFile
from paimon_py.exceptions import SchemaError
from paimon_py.io.row_tracking import append_order, output_field
from paimon_py.manifest.manifest_entry import ManifestEntry
from paimon_py.operation.split import Split
from paimon_py.schema.table_schema import ROW_TRACKING_COLUMNS


class ReadBuilder:
    """Configures projection, partition filter and snapshot of a batch read."""

    def __init__(self, table):
        self.table = table
        self.projection: list[str] = table.schema.field_names
        self.partition_filter: Callable[[tuple], bool] | None = None
        self.snapshot_id: int | None = None

    def with_projection(self, columns: Sequence[str]) -> "ReadBuilder":
        """Read these columns; a row-tracking table also has ``_ROW_ID`` and ``_SEQUENCE_NUMBER``."""
        readable = self.table.schema.field_names
        if self.table.options.row_tracking_enabled:
            readable = readable + list(ROW_TRACKING_COLUMNS)
        unknown = [c for c in columns if c not in readable]
        if unknown:
            raise SchemaError(f"Projection names unknown columns {unknown}; the table has {readable}.")
        self.projection = list(columns)
        return self

    def with_partition_filter(self, spec: dict[str, Any] | Callable[[dict], bool]) -> "ReadBuilder":
        """Keep partitions equal to ``spec`` (a dict), or those for which ``spec(values)`` holds."""
        keys = self.table.partition_keys
        if callable(spec):
            self.partition_filter = lambda p: spec(dict(zip(keys, p)))
            return self
        unknown = [k for k in spec if k not in keys]
        if unknown:
            raise SchemaError(f"Partition filter names non-partition columns {unknown}; partition "
                              f"keys are {keys}.")
        indexes = [(keys.index(k), v) for k, v in spec.items()]
        self.partition_filter = lambda p: all(p[i] == v for i, v in indexes)
        return self

    def with_snapshot(self, snapshot_id: int) -> "ReadBuilder":
        """Read the table as of an older snapshot (time travel)."""
        self.snapshot_id = snapshot_id
        return self

    def new_scan(self) -> "TableScan":
        return TableScan(self.table, self.partition_filter, self.snapshot_id)

    def new_read(self) -> "TableRead":
        return TableRead(self.table, self.projection)


class Plan:
    def __init__(self, splits: list[Split]):
        self._splits = splits

    def splits(self) -> list[Split]:
        return self._splits


class TableScan:
    """Plans one split per (partition, bucket) of a snapshot's live files."""

    def __init__(self, table, partition_filter, snapshot_id: int | None):
        self.table = table
        self.partition_filter = partition_filter
        self.snapshot_id = snapshot_id

    def plan(self) -> Plan:
        manager = self.table.snapshot_manager
        snapshot = (manager.snapshot(self.snapshot_id) if self.snapshot_id is not None
                    else manager.latest_snapshot())
        scan = self.table.new_scan()
        entries = scan.live_entries(snapshot, self.partition_filter)
        has_key = bool(self.table.primary_keys)
        with_dvs = has_key and self.table.options.deletion_vectors_enabled
        if has_key and (self.table.options.merge_engine == "first-row" or with_dvs):
            # As Paimon: first-row and deletion-vector data is visible once compacted out of level 0.
            entries = [e for e in entries if e.file.level > 0]
        groups: dict[tuple, list[ManifestEntry]] = {}
        for entry in entries:
            groups.setdefault((entry.partition, entry.bucket), []).append(entry)
        deletion_files = self._deletion_files(snapshot) if with_dvs else None
        splits = []
        for (partition, bucket), group in groups.items():
            files = _in_sequence_order(group)
            dvs = () if deletion_files is None else tuple(
                deletion_files.get((partition, bucket, f.file_name)) for f in files)
            splits.append(Split(scan.partition_of(partition), bucket, files,
                                not has_key or with_dvs or _raw_convertible(group), deletion_files=dvs))
        return Plan(splits)

    def _deletion_files(self, snapshot) -> dict[tuple[bytes, int, str], DeletionFile]:
        """The deletion vectors of ``snapshot`` (readers of such tables never merge keys)."""
        if snapshot is None:
            return {}
        path_factory = self.table.new_path_factory()
        entries = self.table.new_index_manifest_file(path_factory).read(snapshot.index_manifest)
        return DeletionVectorsIndexFile(self.table.file_io, path_factory).deletion_files(entries)


def _in_sequence_order(entries: list[ManifestEntry]) -> tuple:
    """Files oldest first, so append tables read back in the order rows were written."""
    return tuple(sorted((e.file for e in entries), key=append_order))


def _raw_convertible(entries: list[ManifestEntry]) -> bool:
    """A primary-key split is read without merging when no key can appear twice (format §6.3)."""
    if any(e.file.has_deletes() for e in entries):
        return False
    if len(entries) == 1:
        return True
    levels = {e.file.level for e in entries}
    return len(levels) == 1 and 0 not in levels


class TableRead:
    """Reads splits into Arrow; splits are read in parallel threads (pyarrow releases the GIL), at
    most ``read.parallelism`` of them."""

    def __init__(self, table, columns: list[str], include_row_kind: bool = False):
        self.columns = columns
        self.include_row_kind = include_row_kind
        self.split_read = table.new_split_read()
        self.parallelism = table.options.read_parallelism or os.cpu_count() or 1
        self.output_schema = pa.schema([output_field(table.schema, c) for c in columns])

    def to_arrow(self, splits: Sequence[Split]) -> pa.Table:
        if not splits:
            schema = self.output_schema
            if self.include_row_kind:
                schema = schema.append(pa.field("_row_kind", pa.string()))
            return schema.empty_table()
        workers = min(len(splits), self.parallelism)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            tables = list(pool.map(lambda s: self.split_read.read(s, self.columns, self.include_row_kind),
                                   splits))
        return pa.concat_tables(tables)

    def to_pandas(self, splits: Sequence[Split]) -> pd.DataFrame:
        return self.to_arrow(splits).to_pandas()
