"""``BucketRouter``: splits change batches by (partition, bucket), so that each writer subtask
owns distinct buckets (one LSM writer per bucket, as Paimon requires) and a large table's
buckets spread over all writer subtasks.

The routing itself is paimon_py's ``RowRouter``, the one ``FileStoreWrite`` uses, so a row goes
to the writer subtask that owns the bucket a direct write puts it in. The routing key is
``<table>/<partition path>/bucket-<n>``; unaware-bucket append tables route by partition only
(bucket 0). Bucket and partition columns never change type (keys cannot be altered), so a batch
that waits for a schema change routes the same way as after it.
"""

from __future__ import annotations

from typing import Optional

from operators.cdc.change_batch import ChangeBatch
from operators.sink.schema_wait import SchemaWait
from paimon_py.catalog import FileSystemCatalog
from paimon_py.operation.row_router import RowRouter


class BucketRouter:
    def __init__(self, catalog: FileSystemCatalog, wait: Optional[SchemaWait] = None):
        """``wait``: how long to wait for a table still being created (default: Paimon's)."""
        self.wait = wait or SchemaWait(catalog)
        self.tables: dict[str, tuple[object, RowRouter]] = {}

    def route(self, batch: ChangeBatch) -> list[tuple[str, ChangeBatch]]:
        table, router = self._table(batch.table)
        groups = router.route(batch.rows())
        if len(groups) == 1:  # one group: the batch as it came
            partition, bucket, _ = groups[0]
            return [(self._key(batch.table, table, partition, bucket), batch)]
        return [(self._key(batch.table, table, partition, bucket), ChangeBatch.of(batch.table, rows))
                for partition, bucket, rows in groups]

    @staticmethod
    def _key(name: str, table, partition: tuple, bucket: int) -> str:
        return f"{name}/{table.partition_computer.path(partition)}/bucket-{bucket}"

    def _table(self, name: str) -> tuple[object, RowRouter]:
        if name not in self.tables:
            table = self.wait.table(name)
            self.tables[name] = (table, RowRouter(table.schema))
        return self.tables[name]
