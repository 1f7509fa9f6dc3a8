"""``PartitionIndex``: one assigner's view of a partition of a dynamic-bucket table, as Paimon's.

A key hash already in the index keeps its bucket. A new one goes to the first of the assigner's
buckets that holds fewer than ``dynamic-bucket.target-row-num`` keys, else to a new bucket: the
lowest bucket number the assigner owns (:class:`BucketOwnership`) that the partition does not
have yet; once ``dynamic-bucket.max-buckets`` is reached, to a random existing one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from paimon_py.index import sorted_ints

MAX_BUCKET_ID = 32766
"""Java's ``Short.MAX_VALUE - 1``: buckets are stored as shorts in its index."""

BUCKET_DTYPE = np.int16
"""The index keeps buckets as shorts too (below ``MAX_BUCKET_ID``): 6 bytes a key with its hash."""


@dataclass
class KeyAssignment:
    """What an assigner decided for a batch of keys."""

    buckets: np.ndarray
    """The bucket of every key (int32)."""
    new: np.ndarray
    """Whether the index lacked the key before (bool): its bucket's HASH index file gains it."""


@dataclass(frozen=True)
class BucketOwnership:
    """The buckets an assigner may create: ``bucket % num_assigners == assign_id % num_assigners``
    (Paimon's ``BucketAssigner.isMyBucket``), so several assigners never create the same one."""

    num_assigners: int
    assign_id: int

    def owns(self, bucket: int) -> bool:
        return bucket % self.num_assigners == self.assign_id % self.num_assigners

    def candidates(self, max_buckets: int) -> range:
        """The buckets it owns, lowest first, below ``max_buckets`` (-1: Java's limit)."""
        limit = MAX_BUCKET_ID + 1 if max_buckets == -1 else max_buckets
        return range(self.assign_id % self.num_assigners, limit, self.num_assigners)


class PartitionIndex:
    """Key hash -> bucket of one partition (the hashes this assigner routes), and how many keys
    each of its own buckets holds."""

    def __init__(self, hashes: np.ndarray, buckets: np.ndarray, bucket_rows: dict[int, int],
                 target_row_num: int):
        """``hashes`` sorted and unique, ``buckets`` aligned; ``bucket_rows``: keys per owned bucket."""
        self.buckets_by_hash = sorted_ints.SortedRunMap(hashes, buckets)
        self.non_full = dict(sorted(bucket_rows.items()))
        self.all_buckets = sorted(bucket_rows)
        self.target_row_num = target_row_num
        self.upper_bound_reached = False

    @classmethod
    def load(cls, files: Iterable[tuple[int, np.ndarray]], target_row_num: int,
             routes_here: Callable[[np.ndarray], np.ndarray], ownership: BucketOwnership) -> "PartitionIndex":
        """From the partition's HASH index files, (bucket, hashes) each: the hashes this assigner
        routes (``routes_here``, a mask) and the key count of every bucket it owns."""
        hash_parts, bucket_parts, bucket_rows = [], [], {}
        for bucket, hashes in files:
            mine = hashes[routes_here(hashes)]
            hash_parts.append(mine)
            bucket_parts.append(np.full(len(mine), bucket, BUCKET_DTYPE))
            if ownership.owns(bucket):
                bucket_rows[bucket] = bucket_rows.get(bucket, 0) + len(hashes)
        hashes = np.concatenate(hash_parts) if hash_parts else np.empty(0, np.int32)
        buckets = np.concatenate(bucket_parts) if bucket_parts else np.empty(0, BUCKET_DTYPE)
        hashes, first = np.unique(hashes, return_index=True)
        return cls(hashes, buckets[first], bucket_rows, target_row_num)

    def assign(self, hashes: np.ndarray, ownership: BucketOwnership, max_buckets: int) -> KeyAssignment:
        """The bucket of every key hash, new hashes placed and remembered."""
        unique, inverse = np.unique(hashes, return_inverse=True)
        assigned = self.buckets_by_hash.look_up(unique)
        is_new = assigned == sorted_ints.ABSENT
        new = np.flatnonzero(is_new)
        if len(new):
            assigned[new] = self._place(len(new), ownership, max_buckets)
            self.buckets_by_hash.insert(unique[new], assigned[new].astype(BUCKET_DTYPE))
        return KeyAssignment(assigned[inverse], is_new[inverse])

    def _place(self, count: int, ownership: BucketOwnership, max_buckets: int) -> np.ndarray:
        """Buckets for ``count`` new keys: existing buckets with room, then new buckets."""
        parts = []
        for bucket in list(self.non_full):
            room = self.target_row_num - self.non_full[bucket]
            if room <= 0:
                del self.non_full[bucket]
                continue
            parts.append(self._fill(bucket, min(room, count)))
            count -= len(parts[-1])
            if not count:
                return np.concatenate(parts)
        while count:
            bucket = None if self.upper_bound_reached else self._new_bucket(ownership, max_buckets)
            if bucket is None:
                parts.append(np.array(random.choices(self.all_buckets, k=count), np.int32))
                break
            parts.append(self._fill(bucket, min(self.target_row_num, count)))
            count -= len(parts[-1])
        return np.concatenate(parts)

    def _fill(self, bucket: int, count: int) -> np.ndarray:
        self.non_full[bucket] = self.non_full.get(bucket, 0) + count
        return np.full(count, bucket, np.int32)

    def _new_bucket(self, ownership: BucketOwnership, max_buckets: int) -> int | None:
        """The lowest owned bucket the partition lacks; None once ``max_buckets`` is reached."""
        taken = set(self.all_buckets)
        for bucket in ownership.candidates(max_buckets):
            if bucket not in taken:
                self.all_buckets.append(bucket)
                return bucket
        if max_buckets == -1:
            raise RuntimeError(f"More than {MAX_BUCKET_ID + 1} buckets in one partition; increase "
                               f"'dynamic-bucket.target-row-num' ({self.target_row_num}).")
        if not self.all_buckets:
            raise RuntimeError(f"'dynamic-bucket.max-buckets' ({max_buckets}) leaves bucket assigner "
                               f"{ownership.assign_id} no bucket; raise it to the number of assigners.")
        self.upper_bound_reached = True
        return None
