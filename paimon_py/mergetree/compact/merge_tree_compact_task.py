"""``MergeTreeCompactTask``: carries out one ``CompactUnit``.

The unit's files are partitioned into sections of overlapping key ranges. A section holding a
single file that is big enough is only *upgraded* (re-recorded at the output level, no I/O),
unless its retractions must be dropped; everything else is merged with the merge function and
rewritten at the output level. Small neighbouring files are merged together so the top levels do
not fill with small files.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from paimon_py.io.data_file_meta import DataFileMeta
from paimon_py.mergetree.compact.universal_compaction import CompactUnit
from paimon_py.mergetree.key_value_io import BucketFiles


@dataclass
class CompactResult:
    before: list[DataFileMeta] = field(default_factory=list)
    after: list[DataFileMeta] = field(default_factory=list)
    changelog: list[DataFileMeta] = field(default_factory=list)
    deletions: dict[str, np.ndarray] = field(default_factory=dict)
    """Deletion-vector mode: newly deleted positions of files outside the compaction."""
    duration_ms: int = 0


class MergeTreeCompactTask:
    def __init__(self, bucket_files: BucketFiles, key_of: Callable[[bytes], tuple],
                 min_file_size: int, drop_delete: bool, unit: CompactUnit, changelog=None,
                 deletion_lookup=None):
        self.bucket_files = bucket_files
        self.key_of = key_of
        self.min_file_size = min_file_size
        self.drop_delete = drop_delete
        self.unit = unit
        self.changelog = changelog
        self.deletion_lookup = deletion_lookup

    def run(self) -> CompactResult:
        started = time.monotonic()
        result = CompactResult()
        if self.changelog is not None:
            result.changelog = self.changelog.produce(self.unit)
        if self.deletion_lookup is not None:
            result.deletions = self.deletion_lookup.produce(self.unit)
        candidate: list[DataFileMeta] = []
        for section in self._sections():
            if len(section) > 1:
                candidate += section
                continue
            file = section[0]
            if file.file_size < self.min_file_size or (self.drop_delete and file.has_deletes()):
                candidate.append(file)
                continue
            self._rewrite(candidate, result)
            candidate = []
            self._upgrade(file, result)
        self._rewrite(candidate, result)
        result.duration_ms = int((time.monotonic() - started) * 1000)
        return result

    def _sections(self) -> list[list[DataFileMeta]]:
        """Groups of files whose key ranges overlap (transitively), in key order."""
        files = sorted(self.unit.files, key=lambda f: (self.key_of(f.min_key), self.key_of(f.max_key)))
        sections: list[list[DataFileMeta]] = []
        section_max = None
        for f in files:
            if sections and self.key_of(f.min_key) <= section_max:
                sections[-1].append(f)
                section_max = max(section_max, self.key_of(f.max_key))
            else:
                sections.append([f])
                section_max = self.key_of(f.max_key)
        return sections

    def _upgrade(self, file: DataFileMeta, result: CompactResult) -> None:
        if file.level == self.unit.output_level:
            return
        result.before.append(file)
        result.after.append(replace(file, level=self.unit.output_level))

    def _rewrite(self, files: list[DataFileMeta], result: CompactResult) -> None:
        if not files:
            return
        if len(files) == 1 and files[0].level == self.unit.output_level and not (
                self.drop_delete and files[0].has_deletes()):
            return
        result.before += files
        result.after += self.bucket_files.rewrite(files, self.unit.output_level, self.drop_delete)
