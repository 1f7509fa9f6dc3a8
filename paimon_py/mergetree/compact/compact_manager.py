"""``MergeTreeCompactManager``: runs at most one compaction of a bucket at a time, off the write path.

Compactions run on a shared thread pool (pyarrow releases the GIL, so they overlap with writing).
Results are applied to ``Levels`` in the writer's thread when collected, so ``Levels`` is only
ever touched by one thread.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future

from paimon_py.deletionvectors.maintainer import DeletionVectorsMaintainer
from paimon_py.mergetree.changelog import FullCompactionChangelog, LookupChangelog
from paimon_py.mergetree.compact.merge_tree_compact_task import CompactResult, MergeTreeCompactTask
from paimon_py.mergetree.compact.universal_compaction import CompactUnit, UniversalCompaction
from paimon_py.mergetree.deletion_lookup import DeletionLookup
from paimon_py.mergetree.key_value_io import BucketFiles
from paimon_py.mergetree.levels import Levels


class MergeTreeCompactManager:
    def __init__(self, executor: Executor, levels: Levels, strategy: UniversalCompaction,
                 bucket_files: BucketFiles, min_file_size: int, stop_trigger: int,
                 changelog_producer: str = "none", force_level0: bool = False,
                 dv_maintainer: DeletionVectorsMaintainer | None = None):
        """``dv_maintainer``: deletion-vector mode (compactions drop retractions and delete the
        rows their level-0 records supersede above them)."""
        self.executor = executor
        self.levels = levels
        self.strategy = strategy
        self.bucket_files = bucket_files
        self.min_file_size = min_file_size
        self.stop_trigger = stop_trigger
        self.changelog_producer = changelog_producer
        self.force_level0 = force_level0
        self.dv_maintainer = dv_maintainer
        self._running: Future | None = None

    @property
    def is_running(self) -> bool:
        return self._running is not None

    def should_wait_for_compaction(self) -> bool:
        """Write stall: too many sorted runs to take more data before compaction catches up."""
        return self.levels.number_of_sorted_runs() > self.stop_trigger

    def trigger(self, full: bool = False) -> bool:
        """Start a compaction if none is running and the strategy picks one; True if started."""
        if self._running is not None:
            return False
        runs = self.levels.sorted_runs()
        if full:
            unit = self.strategy.pick_full(self.levels.num_levels, runs)
        else:
            unit = self.strategy.pick(self.levels.num_levels, runs)
            if unit is None and self.force_level0:
                unit = self.strategy.force_pick_level0(self.levels.num_levels, runs)
        if unit is None:
            return False
        self._running = self.executor.submit(self._task(unit).run)
        return True

    def _task(self, unit: CompactUnit) -> MergeTreeCompactTask:
        # Retractions may be dropped only when nothing older lies below the output level.
        # With deletion vectors, older rows above are deleted instead (readers do not merge).
        drop_delete = unit.output_level != 0 and (
            unit.output_level >= self.levels.non_empty_highest_level() or self.dv_maintainer is not None)
        return MergeTreeCompactTask(self.bucket_files, self.levels.key_of, self.min_file_size,
                                    drop_delete, unit, self._changelog(), self._deletion_lookup(unit))

    def _deletion_lookup(self, unit: CompactUnit) -> DeletionLookup | None:
        if self.dv_maintainer is None:
            return None
        higher = [f for files in self.levels.levels[unit.output_level:] for f in files]
        return DeletionLookup(self.bucket_files, self.dv_maintainer, higher)

    def _changelog(self):
        """The changelog producer for a task, bound to the levels as they are now."""
        if self.changelog_producer == "lookup":
            return LookupChangelog(self.bucket_files, [f for files in self.levels.levels for f in files])
        if self.changelog_producer == "full-compaction":
            return FullCompactionChangelog(self.bucket_files, list(self.levels.levels[-1]),
                                           self.levels.max_level)
        return None

    def collect(self, blocking: bool) -> CompactResult | None:
        """The finished compaction's result (applied to the levels), or None."""
        if self._running is None or (not blocking and not self._running.done()):
            return None
        future, self._running = self._running, None
        result = future.result()
        self.levels.update(result.before, result.after)
        if self.dv_maintainer is not None:
            kept = {f.file_name for f in result.after}
            self.dv_maintainer.apply([f.file_name for f in result.before if f.file_name not in kept],
                                     result.deletions)
        return result
