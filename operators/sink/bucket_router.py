"""``BucketRouter``: splits change batches by (partition, bucket), so that each writer subtask
owns distinct buckets (one LSM writer per bucket, as Paimon requires) and a large table's
buckets spread over all writer subtasks.

The routing itself is paimon_py's ``RowRouter``, the one ``FileStoreWrite`` uses, so a row goes
to the writer subtask that owns the bucket a direct write puts it in. The routing key is
``<table>/<partition path>/bucket-<n>``; unaware-bucket append tables route by partition only
(bucket 0). Bucket and partition columns never change type (keys cannot be altered), so a batch
that waits for a schema change routes the same way as after it.

A dynamic-bucket table's batches go to its bucket assigners first (``bucket_assigner.py``): split
by assigner, Paimon's ``computeAssigner`` of the partition and key hashes over the table's
assigner channels, keyed ``<table>/assigner-<id>``.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from operators.cdc.change_batch import ChangeBatch
from operators.cdc.schema_event import SchemaEvent
from operators.cdc.table_spec import schema_for
from operators.sink.schema_wait import SchemaWait
from paimon_py.bucket import hash_code
from paimon_py.catalog import FileSystemCatalog
from paimon_py.index.bucket_assigner import assigner_of
from paimon_py.operation.row_router import RowRouter
from paimon_py.schema.schema_manager import validate_new_schema
from paimon_py.schema.table_schema import TableSchema


ASSIGNED_BUCKET = "_bucket"
"""The column in which the assigner gives a dynamic-bucket table's rows their bucket."""
NEW_KEY = "_new_key"
"""The column in which the assigner says which rows' keys it placed now (new to their bucket's index)."""


def is_dynamic(schema: TableSchema) -> bool:
    """A primary-key table in dynamic bucket mode (``bucket = -1``)."""
    return bool(schema.primary_keys) and schema.core_options.bucket == -1


def assigner_channels(schema: TableSchema, default_channels: int) -> tuple[int, int]:
    """(assigner channels, assigners per partition) of a dynamic-bucket table: the table's
    ``dynamic-bucket.assigner-parallelism`` (else the job's), and ``dynamic-bucket.initial-buckets``
    at most that, as Paimon's sink."""
    options = schema.core_options
    channels = options.dynamic_bucket_assigner_parallelism or default_channels
    return channels, min(options.dynamic_bucket_initial_buckets or channels, channels)


def writer_key(name: str, schema: TableSchema, partition: tuple, bucket: int) -> str:
    """The key of the writer that owns a (partition, bucket)."""
    return f"{name}/{schema.partition_computer.path(partition)}/bucket-{bucket}"


ASSIGNER_KEY = "/assigner-"
"""What separates the table and the assigner id in an assigner's key."""


def assigner_key(table: str, assigner: int) -> str:
    """The key of a dynamic-bucket table's assigner ``assigner``: ``<table>/assigner-<id>``."""
    return f"{table}{ASSIGNER_KEY}{assigner}"


def is_assigner_key(key: str) -> bool:
    """Whether ``key`` is an assigner's (a writer's ends in ``/bucket-<n>``)."""
    return ASSIGNER_KEY in key and "/" not in key.rsplit(ASSIGNER_KEY, 1)[1]


def assigner_id(key: str) -> int:
    """The assigner id of a key ``<table>/assigner-<id>``."""
    return int(key.rsplit(ASSIGNER_KEY, 1)[1])


class BucketRouter:
    def __init__(self, catalog: FileSystemCatalog, wait: Optional[SchemaWait] = None, assigner_parallelism: int = 1):
        """``wait``: how long to wait for a table nobody announced (default: Paimon's);
        ``assigner_parallelism``: the job's assigner channels of a dynamic-bucket table."""
        self.catalog = catalog
        self.assigner_parallelism = assigner_parallelism
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

    def is_dynamic(self, name: str) -> bool:
        """Whether the table's batches go to bucket assigners (keys from :meth:`route`)."""
        return is_dynamic(self._schema(name))

    def route(self, batch: ChangeBatch) -> list[tuple[str, ChangeBatch]]:
        """(key, batch) per writer, or per assigner for a dynamic-bucket table."""
        schema = self._schema(batch.table)
        if is_dynamic(schema):
            return self._route_to_assigners(batch, schema)
        groups = self.routers[batch.table].route(batch.rows())
        if len(groups) == 1:  # one group: the batch as it came
            partition, bucket, _ = groups[0]
            return [(writer_key(batch.table, schema, partition, bucket), batch)]
        return [(writer_key(batch.table, schema, partition, bucket), ChangeBatch.of(batch.table, rows))
                for partition, bucket, rows in groups]

    def _route_to_assigners(self, batch: ChangeBatch, schema: TableSchema) -> list[tuple[str, ChangeBatch]]:
        channels, assigners = assigner_channels(schema, self.assigner_parallelism)
        if channels == 1:  # every key's assigner is 0: the batch as it came, its rows not even read
            return [(assigner_key(batch.table, 0), batch)]
        router = self.routers[batch.table]
        rows = batch.rows()
        routing = router.assign(rows)
        hashes = router.key_hashes(rows)
        for index, partition in enumerate(routing.partitions):
            at = np.flatnonzero(routing.partition_of_row == index)
            partition_hash = hash_code(partition, schema.partition_types)
            routing.bucket_of_row[at] = assigner_of(partition_hash, hashes[at], channels, assigners)
        return [(assigner_key(batch.table, assigner), ChangeBatch.of(batch.table, group))
                for _, assigner, group in RowRouter.group(rows, routing)]

    def _schema(self, name: str) -> TableSchema:
        if name not in self.schemas:
            announced = self.announced.pop(name, None)
            self.schemas[name] = announced if announced is not None else self.wait.table(name).schema
            self.routers[name] = RowRouter(self.schemas[name])
        return self.schemas[name]
