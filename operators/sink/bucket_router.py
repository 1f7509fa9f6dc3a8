"""``BucketRouter``: splits change batches by (partition, bucket), so that each writer subtask
owns distinct buckets (one LSM writer per bucket, as Paimon requires) and a large table's
buckets spread over all writer subtasks.

The routing key is ``<table>/<partition path>/bucket-<n>``; unaware-bucket append tables route by
partition only. Bucket and partition columns never change type (keys cannot be altered), so a
batch that waits for a schema change routes the same way as after it.
"""

from __future__ import annotations

from typing import Optional

import pyarrow as pa

from operators.cdc.change_batch import ChangeBatch
from operators.sink.schema_wait import SchemaWait
from paimon_py.bucket import bucket_ids
from paimon_py.catalog import FileSystemCatalog
from paimon_py.partition import group_by_partition
from paimon_py.types import to_arrow_type


class BucketRouter:
    def __init__(self, catalog: FileSystemCatalog, wait: Optional[SchemaWait] = None):
        """``wait``: how long to wait for a table still being created (default: Paimon's)."""
        self.wait = wait or SchemaWait(catalog)
        self.tables: dict[str, object] = {}

    def route(self, batch: ChangeBatch) -> list[tuple[str, ChangeBatch]]:
        table = self._table(batch.table)
        schema = table.schema
        rows = batch.rows()
        partition_keys = list(schema.partition_keys)
        routed = []
        for partition, part in group_by_partition(_as_table_types(rows, schema, partition_keys), partition_keys):
            path = table.partition_computer.path(partition)
            for bucket, bucket_rows in self._split_buckets(table, part):
                routed.append((f"{batch.table}/{path}/bucket-{bucket}", ChangeBatch.of(batch.table, bucket_rows)))
        return routed

    def _split_buckets(self, table, part: pa.Table) -> list[tuple[int, pa.Table]]:
        schema = table.schema
        buckets = table.options.bucket
        if buckets <= 0:
            return [(0, part)]
        keys = schema.bucket_keys
        typed = _as_table_types(part, schema, keys)
        ids = bucket_ids(typed, keys, schema.types_of(keys), buckets)
        out = []
        for bucket in sorted(set(ids.tolist())):
            out.append((bucket, part.filter(pa.array(ids == bucket))))
        return out

    def _table(self, name: str):
        if name not in self.tables:
            self.tables[name] = self.wait.table(name)
        return self.tables[name]


def _as_table_types(rows: pa.Table, schema, names) -> pa.Table:
    """``rows`` with the columns in ``names`` cast to the table's types (for hashing)."""
    for name in names:
        arrow_type = to_arrow_type(schema.field(name).type)
        index = rows.schema.get_field_index(name)
        if rows.schema.field(name).type != arrow_type:
            rows = rows.set_column(index, name, rows.column(name).cast(arrow_type))
    return rows
