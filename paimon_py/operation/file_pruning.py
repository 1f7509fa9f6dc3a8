"""``FilePruner``: skips partitions, manifest files and data files that a predicate cannot match,
from their values and min/max/null-count statistics (format §4.3, §4.4).

Primary-key tables prune by the partition and the key columns only: a value column's statistics
describe versions of rows that merging may replace, so value filters apply after the merge.
Append tables prune by every column whose statistics the file records.
"""

from __future__ import annotations

from typing import Callable, Sequence

from paimon_py.io.data_file_meta import DataFileMeta
from paimon_py.manifest.manifest_list import ManifestFileMeta
from paimon_py.predicate.predicate import ColumnStats, Predicate
from paimon_py.schema.table_schema import TableSchema
from paimon_py.stats.simple_stats import SimpleStats
from paimon_py.types import DataType

SchemaLookup = Callable[[int], TableSchema]


class FilePruner:
    """Answers "may this hold a matching row?" for one predicate over one table."""

    def __init__(self, predicate: Predicate, schema: TableSchema, schema_of: SchemaLookup):
        self.predicate = predicate
        self.schema = schema
        self.schema_of = schema_of
        self.partition_keys = list(schema.partition_keys)
        self.by_key = bool(schema.primary_keys)

    def partition_may_match(self, partition: tuple) -> bool:
        stats = {k: _constant(v) for k, v in zip(self.partition_keys, partition)}
        return self.predicate.may_match(stats.get, 1)

    def manifest_may_match(self, manifest: ManifestFileMeta) -> bool:
        entries = manifest.num_added_files + manifest.num_deleted_files
        stats = _columns(manifest.partition_stats, self.partition_keys, self.schema.partition_types)
        return self.predicate.may_match(stats.get, entries)

    def file_may_match(self, partition: tuple, file: DataFileMeta) -> bool:
        stats = self._file_stats(file)
        stats.update({k: _constant(v, file.row_count) for k, v in zip(self.partition_keys, partition)})
        return self.predicate.may_match(stats.get, file.row_count)

    def _file_stats(self, file: DataFileMeta) -> dict[str, ColumnStats]:
        file_schema = self.schema_of(file.schema_id)
        if self.by_key:
            names, simple = file_schema.trimmed_primary_keys, file.key_stats
        else:
            cols = file.value_stats_cols
            names = file_schema.field_names if cols is None else list(cols)
            simple = file.value_stats
        current = {f.id: f.name for f in self.schema.fields}
        stats = _columns(simple, names, file_schema.types_of(names))
        return {current[file_schema.field(n).id]: s for n, s in stats.items()
                if file_schema.field(n).id in current}


def _constant(value, rows: int = 1) -> ColumnStats:
    return ColumnStats(value, value, rows if value is None else 0)


def _columns(stats: SimpleStats, names: Sequence[str], types: Sequence[DataType]) -> dict[str, ColumnStats]:
    nullable = [t.copy(nullable=True) for t in types]
    mins, maxs = stats.min_row(nullable), stats.max_row(nullable)
    counts = list(stats.null_counts) + [None] * (len(names) - len(stats.null_counts))
    return {n: ColumnStats(lo, hi, c) for n, lo, hi, c in zip(names, mins, maxs, counts)}
