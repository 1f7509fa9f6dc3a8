"""``Levels`` of one bucket's LSM tree: level 0 (each file its own sorted run) and levels 1..n-1.

Files at a level >= 1 never overlap in key range, so each such level is one ``SortedRun``.
Level-0 files are ordered newest first (by max sequence number), which is also the order of
the sorted runs that compaction strategies see: newest data first, oldest (highest level) last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from paimon_py.exceptions import OptionError
from paimon_py.io.data_file_meta import DataFileMeta


@dataclass(frozen=True)
class SortedRun:
    """Files with non-overlapping key ranges, ordered by key."""

    files: tuple[DataFileMeta, ...]

    @property
    def total_size(self) -> int:
        return sum(f.file_size for f in self.files)

    def is_empty(self) -> bool:
        return not self.files


@dataclass(frozen=True)
class LevelSortedRun:
    level: int
    run: SortedRun


class Levels:
    """The files of one bucket arranged in levels; updated as flushes and compactions finish."""

    def __init__(self, key_of: Callable[[bytes], tuple], files: Iterable[DataFileMeta], num_levels: int):
        self.key_of = key_of
        self.num_levels = num_levels
        self.level0: list[DataFileMeta] = []
        self.levels: list[list[DataFileMeta]] = [[] for _ in range(num_levels - 1)]
        files = list(files)
        too_high = [f for f in files if f.level >= num_levels]
        if too_high:
            raise OptionError(f"File {too_high[0].file_name} is at level {too_high[0].level} but the "
                              f"table has num-levels={num_levels}; raise 'num-levels'.")
        self.update(before=(), after=files)

    @property
    def max_level(self) -> int:
        return self.num_levels - 1

    def add_level0_file(self, file: DataFileMeta) -> None:
        self.update((), [file])

    def update(self, before: Sequence[DataFileMeta], after: Sequence[DataFileMeta]) -> None:
        """Replace compacted ``before`` files with ``after`` files (each at its own level)."""
        removed = {(f.file_name, f.level) for f in before}
        self.level0 = [f for f in self.level0 if (f.file_name, 0) not in removed]
        for i, files in enumerate(self.levels, start=1):
            self.levels[i - 1] = [f for f in files if (f.file_name, i) not in removed]
        for f in after:
            if f.level == 0:
                self.level0.append(f)
            else:
                self.levels[f.level - 1].append(f)
        self.level0.sort(key=lambda f: (f.max_sequence_number, f.file_name), reverse=True)
        for files in self.levels:
            files.sort(key=lambda f: self.key_of(f.min_key))

    def sorted_runs(self) -> list[LevelSortedRun]:
        runs = [LevelSortedRun(0, SortedRun((f,))) for f in self.level0]
        runs += [LevelSortedRun(i, SortedRun(tuple(files)))
                 for i, files in enumerate(self.levels, start=1) if files]
        return runs

    def number_of_sorted_runs(self) -> int:
        return len(self.level0) + sum(1 for files in self.levels if files)

    def non_empty_highest_level(self) -> int:
        for i in range(len(self.levels), 0, -1):
            if self.levels[i - 1]:
                return i
        return 0 if self.level0 else -1

    def all_files(self) -> list[DataFileMeta]:
        return self.level0 + [f for files in self.levels for f in files]

    def max_sequence_number(self) -> int:
        return max((f.max_sequence_number for f in self.all_files()), default=-1)
