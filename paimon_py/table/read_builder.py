"""Batch read API (shaped like pypaimon's): ``ReadBuilder`` -> ``TableScan`` / ``TableRead``."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any, Callable, Sequence

import pyarrow as pa

from paimon_py.deletionvectors.index_file import DeletionFile, DeletionVectorsIndexFile
from paimon_py.exceptions import SchemaError
from paimon_py.io.row_tracking import append_order
from paimon_py.manifest.manifest_entry import ManifestEntry
from paimon_py.operation.file_pruning import FilePruner
from paimon_py.operation.file_store_scan import FileStoreScan
from paimon_py.operation.split import Split
from paimon_py.predicate.predicate import Predicate
from paimon_py.predicate.predicate_builder import PredicateBuilder
from paimon_py.schema.table_schema import ROW_TRACKING_COLUMNS
from paimon_py.table.table_read import TableRead
from paimon_py.types import to_arrow_type

PartitionFilter = Callable[[tuple], bool]


class ReadBuilder:
    """Configures projection, filters, limit and snapshot of a batch read."""

    def __init__(self, table):
        self.table = table
        self.projection: list[str] = table.schema.field_names
        self.partition_filter: PartitionFilter | None = None
        self.predicate: Predicate | None = None
        self.limit: int | None = None
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

    def new_predicate_builder(self) -> PredicateBuilder:
        return PredicateBuilder(self.table.schema.field_names)

    def with_filter(self, predicate: Predicate | None) -> "ReadBuilder":
        """Keep the rows ``predicate`` holds for; partitions and files whose values or statistics
        rule it out are not read."""
        self.predicate = predicate
        return self

    def with_limit(self, limit: int) -> "ReadBuilder":
        """Read at most ``limit`` rows; splits beyond them are not read."""
        self.limit = limit
        return self

    def with_partition_filter(self, spec: dict[str, Any] | Callable[[dict], bool] | Predicate) -> "ReadBuilder":
        """Keep partitions equal to ``spec`` (a dict), those for which ``spec(values)`` holds,
        or those a predicate over the partition columns holds for."""
        keys = self.table.partition_keys
        if isinstance(spec, Predicate):
            self.partition_filter = _partition_predicate(spec, self.table.schema.partition_types, keys)
            return self
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
        return TableScan(self.table, self.partition_filter, self.snapshot_id, self.predicate, self.limit)

    def new_read(self) -> TableRead:
        return TableRead(self.table, self.projection, predicate=self.predicate, limit=self.limit)


def _partition_predicate(predicate: Predicate, types, keys: list[str]) -> PartitionFilter:
    """Exact evaluation of ``predicate`` on a partition's values (one Arrow row each)."""
    unknown = predicate.fields() - set(keys)
    if unknown:
        raise SchemaError(f"Partition filter names non-partition columns {sorted(unknown)}; "
                          f"partition keys are {keys}.")
    schema = pa.schema([pa.field(k, to_arrow_type(t)) for k, t in zip(keys, types)])
    expression = predicate.to_arrow()

    @lru_cache(maxsize=None)
    def holds(partition: tuple) -> bool:
        row = pa.Table.from_pylist([dict(zip(keys, partition))], schema=schema)
        return row.filter(expression).num_rows == 1
    return holds


class Plan:
    def __init__(self, splits: list[Split]):
        self._splits = splits

    def splits(self) -> list[Split]:
        return self._splits


class TableScan:
    """Plans one split per (partition, bucket) of a snapshot's live files."""

    def __init__(self, table, partition_filter: PartitionFilter | None, snapshot_id: int | None,
                 predicate: Predicate | None = None, limit: int | None = None):
        self.table = table
        self.partition_filter = partition_filter
        self.snapshot_id = snapshot_id
        self.predicate = predicate
        self.limit = limit

    def plan(self) -> Plan:
        manager = self.table.snapshot_manager
        snapshot = (manager.snapshot(self.snapshot_id) if self.snapshot_id is not None
                    else manager.latest_snapshot())
        scan = self.table.new_scan()
        entries = self._live_entries(scan, snapshot)
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
        return Plan(self._within_limit(splits))

    def _live_entries(self, scan: FileStoreScan, snapshot) -> list[ManifestEntry]:
        if self.predicate is None:
            return scan.live_entries(snapshot, self.partition_filter)
        schema = self.table.schema
        pruner = FilePruner(self.predicate, schema, lru_cache(maxsize=None)(self.table.schema_manager.schema))
        keep_partition = self.partition_filter or (lambda p: True)

        def keep(entry: ManifestEntry) -> bool:
            partition = scan.partition_of(entry.partition)
            return (keep_partition(partition) and pruner.partition_may_match(partition)
                    and pruner.file_may_match(partition, entry.file))
        return scan.pruned_live_entries(snapshot, pruner.manifest_may_match, keep)

    def _within_limit(self, splits: list[Split]) -> list[Split]:
        """Without a filter, the first splits (of an append table, the first files) whose exact
        row counts reach the limit."""
        if self.limit is None or self.predicate is not None:
            return splits
        kept: list[Split] = []
        rows = 0
        for split in splits:
            if rows >= self.limit:
                break
            if not self.table.primary_keys:
                split = _first_files(split, self.limit - rows)
            kept.append(split)
            exact = not any(f.has_deletes() for f in split.files) and not any(split.deletion_files)
            if split.raw_convertible and exact:
                rows += split.row_count
        return kept

    def _deletion_files(self, snapshot) -> dict[tuple[bytes, int, str], DeletionFile]:
        """The deletion vectors of ``snapshot`` (readers of such tables never merge keys)."""
        if snapshot is None:
            return {}
        path_factory = self.table.new_path_factory()
        entries = self.table.new_index_manifest_file(path_factory).read(snapshot.index_manifest)
        return DeletionVectorsIndexFile(self.table.file_io, path_factory).deletion_files(entries)


def _first_files(split: Split, rows: int) -> Split:
    """The split with its first files that hold at least ``rows`` rows."""
    for i in range(len(split.files)):
        if sum(f.row_count for f in split.files[:i + 1]) >= rows:
            return replace(split, files=split.files[:i + 1])
    return split


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
