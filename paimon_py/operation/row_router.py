"""``RowRouter``: the partition and bucket of every row of a table's data, the one routing
implementation (Paimon's ``RowKeyExtractor`` for fixed buckets and unaware-bucket tables).

``FileStoreWrite`` hands each (partition, bucket) group to that bucket's writer; the Flink sink's
router (``operators/sink/bucket_router.py``) sends each group to the writer subtask owning the
bucket. Both call :meth:`RowRouter.route`, so a row always lands where a direct write puts it.

Vectorised: partitions are found by dictionary-encoding the partition columns
(:func:`~paimon_py.partition.partition_of_rows`), buckets by hashing the bucket-key columns
(:func:`~paimon_py.bucket.bucket_ids`, format reference §5); one stable sort over the combined
(partition, bucket) id then yields every group, rows in their input order. Tables without a
fixed bucket count (``bucket`` <= 0) put every row of a partition in bucket 0, unless the buckets
are given (dynamic bucket mode: a ``HashBucketAssigner`` chose them from :meth:`RowRouter.key_hashes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paimon_py.bucket import bucket_ids, key_hashes
from paimon_py.partition import partition_of_rows
from paimon_py.schema.table_schema import TableSchema
from paimon_py.types import to_arrow_type


@dataclass
class Routing:
    """Where each row of a table goes."""

    partition_of_row: np.ndarray
    """Index into ``partitions`` per row (int64)."""
    partitions: list[tuple[Any, ...]]
    """Distinct partition tuples (Python values), in order of first appearance."""
    bucket_of_row: np.ndarray
    """Bucket per row (int32)."""


class RowRouter:
    """Partition and bucket per row for one table schema."""

    def __init__(self, schema: TableSchema):
        self.partition_keys = list(schema.partition_keys)
        self.num_buckets = schema.core_options.bucket
        self.bucket_keys = list(schema.bucket_keys) if self.num_buckets > 0 else []
        self.bucket_types = schema.types_of(self.bucket_keys)
        self.hash_keys = list(schema.trimmed_primary_keys) if self.num_buckets == -1 else []
        self.hash_types = schema.types_of(self.hash_keys)
        self.key_types = {name: to_arrow_type(schema.field(name).type)
                          for name in dict.fromkeys([*self.partition_keys, *self.bucket_keys, *self.hash_keys])}

    def assign(self, data: pa.Table) -> Routing:
        """The partition and bucket of every row. Key columns may arrive in another Arrow type
        than the table's (a narrower integer, say): they are cast to it first, so the hash and
        the partition values are those of the stored row."""
        keyed = self._key_columns(data)
        partition_of_row, partitions = partition_of_rows(keyed, self.partition_keys)
        if self.num_buckets > 0 and data.num_rows:
            buckets = bucket_ids(keyed, self.bucket_keys, self.bucket_types, self.num_buckets)
        else:
            buckets = np.zeros(data.num_rows, np.int32)
        return Routing(partition_of_row, partitions, buckets)

    def key_hashes(self, data: pa.Table) -> np.ndarray:
        """The key hash of every row of a dynamic-bucket table (int32): the hash of its trimmed
        primary key, which its HASH index holds."""
        return key_hashes(self._key_columns(data), self.hash_keys, self.hash_types)

    def route(self, data: pa.Table) -> list[tuple[tuple[Any, ...], int, pa.Table]]:
        """``data`` split into (partition, bucket, rows) groups: partitions in order of first
        appearance, buckets ascending within one; rows keep their relative order. Each group's
        rows are a copy (``take``), holding no reference to ``data``'s buffers, except when all
        rows form one group."""
        if data.num_rows == 0:
            return []
        return self.group(data, self.assign(data))

    @staticmethod
    def group(data: pa.Table, routing: Routing) -> list[tuple[tuple[Any, ...], int, pa.Table]]:
        """``data`` split by ``routing`` (as :meth:`route`; ``data`` not empty)."""
        width = int(routing.bucket_of_row.max()) + 1
        group = routing.partition_of_row * width + routing.bucket_of_row
        if len(routing.partitions) == 1 and (width == 1 or (group == group[0]).all()):
            return [(routing.partitions[0], int(routing.bucket_of_row[0]), data)]
        order = pc.sort_indices(pa.array(group)).to_numpy()  # stable; a counting sort for few groups
        sorted_group = group[order]
        bounds = np.flatnonzero(np.diff(sorted_group)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(order)]])
        out = []
        for start, end in zip(starts, ends):
            partition, bucket = divmod(int(sorted_group[start]), width)
            out.append((routing.partitions[partition], bucket, data.take(pa.array(order[start:end]))))
        return out

    def _key_columns(self, data: pa.Table) -> pa.Table:
        """The partition and bucket-key columns of ``data`` in the table's Arrow types."""
        names = list(self.key_types)
        if not names:
            return data.select([])
        columns = []
        for name in names:
            column = data.column(name)
            if column.type != self.key_types[name]:
                column = column.cast(self.key_types[name])
            columns.append(column)
        return pa.Table.from_arrays(columns, names=names)
