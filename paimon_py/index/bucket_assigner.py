"""``HashBucketAssigner``: buckets for the keys of a dynamic-bucket table (Paimon's, per assigner).

Several assigners share a table's keys: a key goes to assigner
:func:`assigner_of` (partition hash, key hash), Paimon's ``BucketAssigner.computeAssigner``, and
each assigner creates only the buckets it owns (:class:`BucketOwnership`), so no bucket is
created twice and a key always meets the same assigner. An assigner keeps no state of its own:
it loads a partition's index from the table's latest snapshot when it first sees the partition,
so after a restart it is the committed index again (Paimon's assigners restore the same way).
A single writer is assigner 0 of 1.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from paimon_py.bucket import hash_code
from paimon_py.index.partition_index import BucketOwnership, KeyAssignment, PartitionIndex
from paimon_py.schema.table_schema import TableSchema

IndexLoader = Callable[[tuple], Sequence[tuple[int, np.ndarray]]]
"""A partition -> its HASH index files as (bucket, key hashes)."""


def assigner_of(partition_hash: int, key_hashes: np.ndarray, num_channels: int, num_assigners: int) -> np.ndarray:
    """The assigner (channel) of every key: ``(|partition hash % channels| + |key hash %
    assigners|) % channels``, Java's truncating remainders (int32 array)."""
    start = abs(partition_hash) % num_channels
    offset = np.abs(key_hashes.astype(np.int64)) % num_assigners
    return ((start + offset) % num_channels).astype(np.int32)


class HashBucketAssigner:
    """One assigner's buckets: ``assign_id`` of ``num_channels`` assigner channels, of which
    ``num_assigners`` take a partition's keys (``dynamic-bucket.initial-buckets``)."""

    def __init__(self, load: IndexLoader, partition_hash: Callable[[tuple], int], num_channels: int,
                 num_assigners: int, assign_id: int, target_row_num: int, max_buckets: int):
        self.load = load
        self.partition_hash = partition_hash
        self.num_channels = num_channels
        self.num_assigners = min(num_assigners, num_channels)
        self.ownership = BucketOwnership(self.num_assigners, assign_id)
        self.assign_id = assign_id
        self.target_row_num = target_row_num
        self.max_buckets = max_buckets
        self.partitions: dict[tuple, PartitionIndex] = {}

    @classmethod
    def of(cls, schema: TableSchema, load: IndexLoader, num_channels: int = 1, num_assigners: int = 1,
           assign_id: int = 0) -> "HashBucketAssigner":
        """An assigner of a table with ``schema`` (its ``dynamic-bucket.*`` options)."""
        types = schema.partition_types
        options = schema.core_options
        return cls(load, lambda partition: hash_code(partition, types), num_channels, num_assigners,
                   assign_id, options.dynamic_bucket_target_row_num, options.dynamic_bucket_max_buckets)

    def assign_rows(self, partitions: Sequence[tuple], partition_of_row: np.ndarray,
                    key_hashes: np.ndarray) -> KeyAssignment:
        """The bucket of every row: ``partition_of_row`` indexes ``partitions``."""
        if len(partitions) == 1:
            return self.assign(partitions[0], key_hashes)
        out = KeyAssignment(np.zeros(len(key_hashes), np.int32), np.zeros(len(key_hashes), bool))
        for index, partition in enumerate(partitions):
            rows = np.flatnonzero(partition_of_row == index)
            assigned = self.assign(partition, key_hashes[rows])
            out.buckets[rows], out.new[rows] = assigned.buckets, assigned.new
        return out

    def assign(self, partition: tuple, key_hashes: np.ndarray) -> KeyAssignment:
        """The bucket of every key of ``partition``; each key must be this assigner's."""
        partition_hash = self.partition_hash(partition)
        if (assigner_of(partition_hash, key_hashes, self.num_channels, self.num_assigners) != self.assign_id).any():
            raise ValueError(f"Keys of another bucket assigner reached assigner {self.assign_id}.")
        index = self.partitions.get(partition)
        if index is None:
            index = self.partitions[partition] = PartitionIndex.load(
                self.load(partition), self.target_row_num,
                lambda hashes: assigner_of(partition_hash, hashes, self.num_channels,
                                           self.num_assigners) == self.assign_id,
                self.ownership)
        return index.assign(key_hashes, self.ownership, self.max_buckets)
