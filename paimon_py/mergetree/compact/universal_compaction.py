"""``UniversalCompaction``: Paimon's (and RocksDB's) universal compaction strategy.

Sorted runs come newest first. In order, the strategy tries:
1. size amplification: if all runs but the oldest are larger than
   ``compaction.max-size-amplification-percent`` of the oldest, compact everything;
2. size ratio: starting from the newest run, take the next run while the candidates' size times
   (100 + ``compaction.size-ratio``)% is not smaller than it;
3. run count: above ``num-sorted-run.compaction-trigger`` runs, compact the newest
   (count - trigger + 1) runs (plus what the size ratio adds).
The output goes to the level just below the first run left out (never level 0), or to the
highest level when every run is compacted. ``pick_full`` is the forced full compaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from paimon_py.io.data_file_meta import DataFileMeta
from paimon_py.mergetree.levels import LevelSortedRun


@dataclass(frozen=True)
class CompactUnit:
    output_level: int
    files: tuple[DataFileMeta, ...]


class UniversalCompaction:
    def __init__(self, max_size_amp: int, size_ratio: int, num_run_compaction_trigger: int):
        self.max_size_amp = max_size_amp
        self.size_ratio = size_ratio
        self.trigger = num_run_compaction_trigger

    def pick(self, num_levels: int, runs: list[LevelSortedRun]) -> CompactUnit | None:
        max_level = num_levels - 1
        if len(runs) < self.trigger:
            return None
        if self._size_amplified(runs):
            return _unit(max_level, runs)
        unit = self._pick_for_size_ratio(max_level, runs, 1)
        if unit is None and len(runs) > self.trigger:
            unit = self._pick_for_size_ratio(max_level, runs, len(runs) - self.trigger + 1)
        return unit

    def pick_full(self, num_levels: int, runs: list[LevelSortedRun]) -> CompactUnit | None:
        """Everything into the highest level (nothing to do if that is already the only run)."""
        if not runs or (len(runs) == 1 and runs[0].level == num_levels - 1):
            return None
        return _unit(num_levels - 1, runs)

    def force_pick_level0(self, num_levels: int, runs: list[LevelSortedRun]) -> CompactUnit | None:
        """All level-0 runs (and what the size ratio adds): used by the ``lookup`` producer so
        every commit's records get their changelog."""
        count = 0
        while count < len(runs) and runs[count].level == 0:
            count += 1
        if count == 0:
            return None
        return self._pick_for_size_ratio(num_levels - 1, runs, count, force=True)

    def _size_amplified(self, runs: list[LevelSortedRun]) -> bool:
        candidate_size = sum(r.run.total_size for r in runs[:-1])
        return candidate_size * 100 > self.max_size_amp * runs[-1].run.total_size

    def _pick_for_size_ratio(self, max_level: int, runs: list[LevelSortedRun],
                             count: int, force: bool = False) -> CompactUnit | None:
        size = sum(r.run.total_size for r in runs[:count])
        triggered = force or count > 1
        for run in runs[count:]:
            if size * (100.0 + self.size_ratio) / 100.0 < run.run.total_size:
                if not triggered or run.level > 1:
                    break
            size += run.run.total_size
            count += 1
            triggered = True
        return self._create_unit(runs, max_level, count) if triggered else None

    @staticmethod
    def _create_unit(runs: list[LevelSortedRun], max_level: int, count: int) -> CompactUnit:
        output_level = max_level if count == len(runs) else max(0, runs[count].level - 1)
        if output_level == 0:
            for run in runs[count:]:
                count += 1
                if run.level != 0:
                    output_level = run.level
                    break
        if count == len(runs):
            output_level = max_level
        return _unit(output_level, runs[:count])


def _unit(output_level: int, runs: list[LevelSortedRun]) -> CompactUnit:
    return CompactUnit(output_level, tuple(f for r in runs for f in r.run.files))
