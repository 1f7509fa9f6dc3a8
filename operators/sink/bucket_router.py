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
from operators.cdc.schema_event import SchemaEvent
from operators.cdc.table_spec import schema_for
from operators.sink.schema_wait import SchemaWait
from paimon_py.catalog import FileSystemCatalog
from paimon_py.operation.row_router import RowRouter
from paimon_py.schema.schema_manager import validate_new_schema
from paimon_py.schema.table_schema import TableSchema


class BucketRouter:
    def __init__(self, catalog: FileSystemCatalog, wait: Optional[SchemaWait] = None):
        """``wait``: how long to wait for a table nobody announced (default: Paimon's)."""
        self.catalog = catalog
        self.wait = wait or SchemaWait(catalog)
        self.announced: dict[str, TableSchema] = {}
        self.schemas: dict[str, TableSchema] = {}
        self.routers: dict[str, RowRouter] = {}

    def expect(self, event: SchemaEvent) -> None:
        """A table a schema event announces may not exist yet: its creation travels beside the
        data. Its batches are routed by the schema it will be created with, so the parser never
        waits for it (a wait there would hold back the very event that creates it)."""
        if event.spec is not None and event.table not in self.schemas and not self.catalog.table_exists(event.table):
            self.announced[event.table] = validate_new_schema(schema_for(event.schema, event.spec))

    def route(self, batch: ChangeBatch) -> list[tuple[str, ChangeBatch]]:
        schema = self._schema(batch.table)
        groups = self.routers[batch.table].route(batch.rows())
        if len(groups) == 1:  # one group: the batch as it came
            partition, bucket, _ = groups[0]
            return [(self._key(batch.table, schema, partition, bucket), batch)]
        return [(self._key(batch.table, schema, partition, bucket), ChangeBatch.of(batch.table, rows))
                for partition, bucket, rows in groups]

    @staticmethod
    def _key(name: str, schema: TableSchema, partition: tuple, bucket: int) -> str:
        return f"{name}/{schema.partition_computer.path(partition)}/bucket-{bucket}"

    def _schema(self, name: str) -> TableSchema:
        if name not in self.schemas:
            announced = self.announced.pop(name, None)
            self.schemas[name] = announced if announced is not None else self.wait.table(name).schema
            self.routers[name] = RowRouter(self.schemas[name])
        return self.schemas[name]
