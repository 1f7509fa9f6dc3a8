"""``StepAhead``: a source's next snapshot steps, read on a thread of their own while the reader
waits for its ticks.

A Python operator's output waits in the JVM until its bundle ends, and the JVM hands it to the
writers only as fast as they take it; meanwhile no tick reaches the reader. So a reader that read
a chunk only when a tick came sat idle about half of a snapshot (measured: 7.4 s of gaps in a
13.3 s MariaDB snapshot of 5,000,000 rows), and the database, the reader and the writers took
turns instead of working together. Read ahead, the next chunks' queries, transfers and parsing
run in those gaps; up to ``depth`` steps wait, so a bundle's ticks find their chunks read.

Exactly-once is unchanged: each step's events are handed over at a tick, in order, with the
source's state and progress as they were right after that step (``StepRead``), which is what the
reader checkpoints and sends at barriers; a restore reads the steps again. The reader touches the
source itself only when nothing is ahead (``active`` False).
"""

from __future__ import annotations

import copy
import queue
import threading
import time
from dataclasses import dataclass
from typing import Optional

from operators.cdc.source import ChangeSource, Event, SourceProgress

POLL_S = 0.05
"""How often a reader waiting for a step looks whether the thread still reads."""

CLOSE_WAIT_S = 10.0
"""How long closing waits for a step under way (a query of a server that stopped answering would
otherwise hold the operator's close, and with it the task's cancellation)."""


@dataclass
class StepRead:
    """One step read ahead, and the source as it was right after it."""
    events: list[Event]
    state: dict
    progress: SourceProgress
    snapshot_done: bool


class StepAhead:
    def __init__(self, depth: int):
        self.steps: queue.Queue = queue.Queue(maxsize=depth)
        self.thread: Optional[threading.Thread] = None
        self.stopping = threading.Event()

    @property
    def active(self) -> bool:
        """Whether steps are being read or wait to be taken (the source is not the reader's)."""
        return (self.thread is not None and self.thread.is_alive()) or not self.steps.empty()

    def run(self, source: ChangeSource) -> None:
        """Reads steps of ``source`` ahead until its snapshot is done (if not already doing so)."""
        if self.thread is None or not self.thread.is_alive():
            self.stopping.clear()
            self.thread = threading.Thread(target=self._read, args=(source,), name="step-ahead", daemon=True)
            self.thread.start()

    def take(self) -> Optional[StepRead]:
        """The next step read ahead (waiting for it), None when none is being read or waits; the
        thread's error is raised here."""
        while self.active:
            try:
                item = self.steps.get(timeout=POLL_S)
            except queue.Empty:
                continue
            if isinstance(item, BaseException):
                raise item
            return item
        return None

    def stop(self) -> list[StepRead]:
        """Stops reading ahead after the step under way; the steps read and not taken."""
        self.stopping.set()
        left = []
        while (item := self.take()) is not None:
            left.append(item)
        return left

    def close(self, wait_s: float = CLOSE_WAIT_S) -> None:
        """Stops reading ahead; what was read is dropped (the job ends), errors too. (A step
        waiting for room in the queue gets it: only the reader's taking ends the thread.) A step
        that does not end within ``wait_s`` is left behind (a daemon thread on a connection the
        source's own close ends)."""
        self.stopping.set()
        if self.thread is not None:
            deadline = time.monotonic() + wait_s
            while self.thread.is_alive() and time.monotonic() < deadline:
                try:
                    self.steps.get(timeout=POLL_S)
                except queue.Empty:
                    pass
            self.thread = None

    def _read(self, source: ChangeSource) -> None:
        try:
            while not self.stopping.is_set() and not source.snapshot_done:
                events = source.step()
                self.steps.put(StepRead(events, copy.deepcopy(source.state), source.progress(), source.snapshot_done))
        except BaseException as error:  # handed to the reader, which fails the job with it
            self.steps.put(error)
