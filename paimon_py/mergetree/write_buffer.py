"""``WriteBuffer``: the memory budget (``write-buffer-size``) shared by all bucket writers of a writer.

Each bucket writer keeps its unflushed records as Arrow tables and reports their size here.
When the total exceeds the budget, the largest buffers are released (spilled to local disk, or
flushed to level-0 files) until the total is back under half the budget, so memory stays
bounded whatever the input.
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

    def ensure_budget(self) -> None:
        used = self.used_bytes()
        if used <= self.budget_bytes:
            return
        for writer in sorted(self.writers, key=lambda w: w.buffered_bytes(), reverse=True):
            if used <= self.budget_bytes // 2:
                break
            size = writer.buffered_bytes()
            writer.release_memory()
            used -= size
