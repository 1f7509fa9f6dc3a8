"""``WriteBuffer``: the memory budget (``write-buffer-size``) shared by all bucket writers of a writer.

Each bucket writer keeps its unflushed records as Arrow tables (sequence numbers included) and
reports their size here. Before a batch is buffered, and again after, buffers are released when
the total would exceed the budget: the largest first (spilled to local disk, or flushed to
level-0 files) until the total is back under half the budget, so the buffered bytes stay within
the budget whatever the input (a single batch larger than the budget aside).
"""

from __future__ import annotations

from typing import Protocol


class Flushable(Protocol):
    def buffered_bytes(self) -> int: ...

    def release_memory(self) -> None: ...


class WriteBuffer:
    def __init__(self, budget_bytes: int):
        self.budget_bytes = budget_bytes
        self.writers: list[Flushable] = []

    def register(self, writer: Flushable) -> None:
        self.writers.append(writer)

    def used_bytes(self) -> int:
        return sum(w.buffered_bytes() for w in self.writers)

    def ensure_budget(self, incoming: int = 0) -> None:
        """Releases buffers until ``incoming`` more bytes fit (``incoming``: a batch about to be
        buffered)."""
        used = self.used_bytes()
        if used + incoming <= self.budget_bytes:
            return
        for writer in sorted(self.writers, key=lambda w: w.buffered_bytes(), reverse=True):
            if used + incoming <= self.budget_bytes // 2:
                break
            size = writer.buffered_bytes()
            writer.release_memory()
            used -= size
