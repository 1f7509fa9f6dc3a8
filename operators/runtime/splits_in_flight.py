"""``SplitsInFlight``: the snapshot splits a reader has handed to the split readers and does not
yet know to be read.

Barriers are aligned, so a split reader reads every split emitted before checkpoint n's barrier
before it passes the barrier: once n completes, those splits are read into the job (their rows
are in the writers, before n's barrier). The reader emits a split only while fewer than ``limit``
are in flight, which bounds the work queued in front of a barrier (a checkpoint waits for at most
``limit`` splits), and it starts streaming only when none is.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SplitsInFlight:
    limit: int
    since_barrier: int = 0
    """Emitted after the last barrier."""
    before_barrier: dict[int, int] = field(default_factory=dict)
    """Checkpoint id -> splits emitted before its barrier (and after the one before), while it is not complete."""

    @property
    def count(self) -> int:
        return self.since_barrier + sum(self.before_barrier.values())

    @property
    def room(self) -> int:
        return max(0, self.limit - self.count)

    def emitted(self, splits: int) -> None:
        self.since_barrier += splits

    def barrier(self, checkpoint_id: int) -> None:
        if self.since_barrier:
            self.before_barrier[checkpoint_id] = self.since_barrier
            self.since_barrier = 0

    def completed(self, checkpoint_id: int) -> None:
        """Checkpoint ``checkpoint_id`` completed (it subsumes earlier ones, also aborted ones)."""
        for n in [n for n in self.before_barrier if n <= checkpoint_id]:
            del self.before_barrier[n]
