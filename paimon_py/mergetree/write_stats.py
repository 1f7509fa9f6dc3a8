"""``WriteStats``: what a table's writer did and holds, for monitoring (a Flink job publishes it as metrics)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class WriteStats:
    rows_written: int = 0
    """Rows handed to the bucket writers (after ``ignore-delete`` and the like)."""
    flushes: int = 0
    """Write buffers written out as files (level-0 files of primary-key tables, data files of append tables)."""
    spills: int = 0
    """Write buffers spilled to local disk (``write-buffer-spillable``)."""
    compactions: int = 0
    compaction_ms: int = 0
    """Time spent in finished compactions, in total."""
    buffer_bytes: int = 0
    """Bytes held in write buffers now."""
    max_sorted_runs: int = 0
    """The most sorted runs of any one bucket now (compaction keeps it near ``num-sorted-run.compaction-trigger``)."""

    def plus(self, other: "WriteStats") -> "WriteStats":
        """Totals and buffer bytes added, the most sorted runs of both."""
        return WriteStats(self.rows_written + other.rows_written, self.flushes + other.flushes,
                          self.spills + other.spills, self.compactions + other.compactions,
                          self.compaction_ms + other.compaction_ms, self.buffer_bytes + other.buffer_bytes,
                          max(self.max_sorted_runs, other.max_sorted_runs))
