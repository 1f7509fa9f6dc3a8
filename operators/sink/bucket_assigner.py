"""``BucketAssignerLogic``: the dynamic bucket assigner operator, without Flink.

A dynamic-bucket table's batches reach it split by assigner (``BucketRouter``: Paimon's
``computeAssigner`` of partition and key hash, keyed ``<table>/assigner-<id>``); each assigner id
has paimon_py's ``HashBucketAssigner``, which creates only the buckets the id owns. It splits
the batch by (partition, bucket) for the writers, each row's bucket in ``ASSIGNED_BUCKET`` and
whether it placed the row's key now in ``NEW_KEY`` (only those keys can be new to the bucket's
HASH index file, so the writer holds no copy of the whole index).

A job with one writer subtask has no assigner operator: the writer holds this logic and writes
the rows ``assigned_rows`` gives it as they are (one hop between Python operators less).

It keeps no Flink state, as Paimon's assigner: a partition's index is loaded from the table's
latest snapshot when the assigner first sees it, so after a restore it is what was committed;
assignments after that commit belong to data that the source replays and the assigner places
again (a committer that re-commits at restore fails the job once, so everyone reloads).
"""

from __future__ import annotations

import pyarrow as pa

from operators.cdc.change_batch import ChangeBatch
from operators.sink.bucket_router import ASSIGNED_BUCKET, NEW_KEY, assigner_channels, assigner_id, writer_key
from operators.sink.schema_wait import SchemaWait
from paimon_py.catalog import FileSystemCatalog
from paimon_py.index.bucket_assigner import HashBucketAssigner
from paimon_py.operation.row_router import RowRouter, Routing


class BucketAssignerLogic:
    def __init__(self, catalog: FileSystemCatalog, default_channels: int, wait: SchemaWait | None = None):
        """``default_channels``: assigner channels of a table without ``dynamic-bucket.assigner-parallelism``."""
        self.default_channels = default_channels
        self.wait = wait or SchemaWait(catalog)
        self.tables: dict[str, object] = {}
        self.routers: dict[str, RowRouter] = {}
        self.assigners: dict[tuple[str, int], HashBucketAssigner] = {}

    def assign(self, key: str, batch: ChangeBatch) -> list[tuple[str, ChangeBatch]]:
        """The batch of assigner ``key`` split by (partition, bucket), keyed for the writers."""
        rows, routing = self._assigned(key, batch.table, batch.rows())
        schema = self.tables[batch.table].schema
        return [(writer_key(batch.table, schema, partition, bucket), ChangeBatch.of(batch.table, group))
                for partition, bucket, group in RowRouter.group(rows, routing)]

    def assigned_rows(self, key: str, table: str, rows: pa.Table) -> pa.Table:
        """The rows of assigner ``key`` with their bucket (``ASSIGNED_BUCKET``) and whether their
        key was placed now (``NEW_KEY``), in their order: for a writer that assigns itself."""
        return self._assigned(key, table, rows)[0]

    def _assigned(self, key: str, name: str, rows: pa.Table) -> tuple[pa.Table, Routing]:
        self._table(name)
        router = self.routers[name]
        routing = router.assign(rows)
        assigned = self._assigner(name, assigner_id(key)).assign_rows(
            routing.partitions, routing.partition_of_row, router.key_hashes(rows))
        routing.bucket_of_row = assigned.buckets
        rows = rows.append_column(ASSIGNED_BUCKET, pa.array(assigned.buckets, pa.int32())) \
            .append_column(NEW_KEY, pa.array(assigned.new, pa.bool_()))
        return rows, routing

    def _table(self, name: str):
        """The table (it exists: its creation travelled ahead of its first batch)."""
        if name not in self.tables:
            self.tables[name] = self.wait.table(name)
            self.routers[name] = RowRouter(self.tables[name].schema)
        return self.tables[name]

    def _assigner(self, name: str, assign_id: int) -> HashBucketAssigner:
        if (name, assign_id) not in self.assigners:
            table = self.tables[name]
            channels, assigners = assigner_channels(table.schema, self.default_channels)
            self.assigners[(name, assign_id)] = table.new_bucket_assigner(channels, assigners, assign_id)
        return self.assigners[(name, assign_id)]
