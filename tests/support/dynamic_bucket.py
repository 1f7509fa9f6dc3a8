"""Checks of a dynamic-bucket table's layout, read with paimon_py: every key in one bucket, and
each bucket's HASH index holding the hashes of its keys and of no other bucket's."""

from __future__ import annotations

from collections import Counter

import numpy as np

from paimon_py.bucket import key_hashes
from paimon_py.index.hash_index_file import HashIndexFile
from paimon_py.manifest.index_manifest import HASH_INDEX


def bucket_keys(table) -> dict[tuple, np.ndarray]:
    """(partition, bucket) -> the key hashes of the rows the latest snapshot holds there."""
    builder = table.new_read_builder()
    out = {}
    keys = table.schema.trimmed_primary_keys
    for split in builder.new_scan().plan().splits():
        rows = builder.new_read().to_arrow([split])
        hashes = key_hashes(rows, keys, table.schema.types_of(keys))
        out[(split.partition, split.bucket)] = np.concatenate(
            [out.get((split.partition, split.bucket), np.empty(0, np.int32)), hashes])
    return out


def bucket_index(table) -> dict[tuple, np.ndarray]:
    """(partition, bucket) -> the hashes of its HASH index file in the latest snapshot."""
    path_factory = table.new_path_factory()
    index_file = HashIndexFile(table.file_io, path_factory)
    snapshot = table.snapshot_manager.latest_snapshot()
    scan = table.new_scan()
    return {(scan.partition_of(e.partition), e.bucket): index_file.read(e.index_file)
            for e in table.new_index_manifest_file(path_factory).read(snapshot.index_manifest)
            if e.index_file.index_type == HASH_INDEX}


def assert_dynamic_bucket_layout(table) -> dict[tuple, int]:
    """No key in two buckets of a partition, every bucket's keys in its index, no hash in two
    indexes of a partition; returns the rows per (partition, bucket)."""
    keys, index = bucket_keys(table), bucket_index(table)
    per_partition: dict[tuple, Counter] = {}
    for (partition, _), hashes in keys.items():
        per_partition.setdefault(partition, Counter()).update(hashes.tolist())
    for partition, counts in per_partition.items():
        twice = [h for h, n in counts.items() if n > 1]
        assert not twice, f"partition {partition}: {len(twice)} key hashes in two buckets (or twice)"
    for where, hashes in keys.items():
        missing = np.setdiff1d(hashes, index.get(where, np.empty(0, np.int32)))
        assert not len(missing), f"{where}: {len(missing)} keys not in the bucket's HASH index"
    indexed: dict[tuple, Counter] = {}
    for (partition, _), hashes in index.items():
        indexed.setdefault(partition, Counter()).update(hashes.tolist())
    for partition, counts in indexed.items():
        assert max(counts.values()) == 1, f"partition {partition}: a hash in two buckets' indexes"
    return {where: len(hashes) for where, hashes in keys.items()}
