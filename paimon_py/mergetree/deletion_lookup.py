"""``DeletionLookup``: the rows a compaction supersedes outside itself (deletion-vector mode).

As Paimon's lookup compaction with deletion vectors: the keys of the level-0 records a compaction
moves up are looked up in the files above its output level, and rows found there that are not yet
deleted get deleted. Readers then read levels >= 1 without merging: each key's one live row is
its newest. Only key columns are read, and files whose key range misses the keys are skipped.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paimon_py.deletionvectors.maintainer import DeletionVectorsMaintainer
from paimon_py.io.data_file_meta import DataFileMeta
from paimon_py.mergetree.compact.universal_compaction import CompactUnit
from paimon_py.mergetree.key_value_io import BucketFiles

_POSITION = "_position"


class DeletionLookup:
    def __init__(self, bucket_files: BucketFiles, maintainer: DeletionVectorsMaintainer,
                 higher_files: Sequence[DataFileMeta]):
        """``higher_files``: the bucket's files above the unit's output level, when it was picked."""
        self.bucket_files = bucket_files
        self.maintainer = maintainer
        self.higher_files = list(higher_files)

    def produce(self, unit: CompactUnit) -> dict[str, np.ndarray]:
        """Newly deleted positions by file name."""
        keys = self._level0_keys(unit)
        if keys is None:
            return {}
        key_names = self.bucket_files.key_names
        ordered = keys.take(pc.sort_indices(keys, sort_keys=[(k, "ascending") for k in key_names]))
        low, high = (tuple(ordered.slice(i, 1).to_pylist()[0].values()) for i in (0, ordered.num_rows - 1))
        key_of = self.bucket_files.key_of
        deletions = {}
        for file in self.higher_files:
            if key_of(file.max_key) < low or key_of(file.min_key) > high:
                continue
            positions = self._positions_of(file, keys)
            old = self.maintainer.deleted(file.file_name)
            if old is not None:
                positions = np.setdiff1d(positions, old, assume_unique=True)
            if len(positions):
                deletions[file.file_name] = positions
        return deletions

    def _level0_keys(self, unit: CompactUnit) -> pa.Table | None:
        files = [f for f in unit.files if f.level == 0]
        if unit.output_level == 0 or not files:
            return None
        key_names = self.bucket_files.key_names
        keys = pa.concat_tables([self._read_keys(f) for f in files], promote_options="permissive")
        keys = keys.group_by(key_names).aggregate([])
        return keys if keys.num_rows else None

    def _positions_of(self, file: DataFileMeta, keys: pa.Table) -> np.ndarray:
        rows = self._read_keys(file)
        rows = rows.append_column(_POSITION, pa.array(np.arange(rows.num_rows, dtype=np.uint32)))
        found = rows.join(keys, self.bucket_files.key_names, join_type="left semi")
        return np.sort(found.column(_POSITION).to_numpy())

    def _read_keys(self, file: DataFileMeta) -> pa.Table:
        files = self.bucket_files
        return files.reader.read(files.partition_path, files.bucket, file, files.key_names)
