"""``StepAhead``: steps read on a thread come back in order, each with the source's state, progress
and phase right after it; the queue bounds how far it reads; stop hands back what was read; an
error reaches the reader."""

from __future__ import annotations

import threading
import time

import pytest

from operators.cdc.source import SourceProgress
from operators.runtime.step_ahead import StepAhead


class CountingSource:
    """A snapshot of ``chunks`` steps (step i returns [i]); ``fail_at``: the step that raises."""

    def __init__(self, chunks: int, fail_at: int = -1):
        self.state = {"next": 0, "read": []}
        self.chunks = chunks
        self.fail_at = fail_at
        self.steps_started = 0

    @property
    def snapshot_done(self) -> bool:
        return self.state["next"] >= self.chunks

    def step(self, poll_wait_s: float = 0.0) -> list:
        self.steps_started += 1
        i = self.state["next"]
        if i == self.fail_at:
            raise RuntimeError(f"chunk {i} failed")
        self.state["next"] = i + 1
        self.state["read"].append(i)
        return [i]

    def progress(self) -> SourceProgress:
        return SourceProgress(self.snapshot_done)


def wait_until(condition, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_steps_come_in_order_with_the_state_after_each():
    source = CountingSource(6)
    ahead = StepAhead(depth=2)
    ahead.run(source)
    reads = []
    while (read := ahead.take()) is not None:
        reads.append(read)
    assert [r.events for r in reads] == [[i] for i in range(6)]
    assert [r.state["next"] for r in reads] == list(range(1, 7))
    assert [r.state["read"] for r in reads] == [list(range(i + 1)) for i in range(6)]  # copies, not the live state
    assert [r.snapshot_done for r in reads] == [False] * 5 + [True]
    assert reads[-1].progress.streaming and not reads[0].progress.streaming
    assert not ahead.active
    ahead.close()


def test_reads_at_most_depth_steps_ahead():
    source = CountingSource(100)
    ahead = StepAhead(depth=3)
    ahead.run(source)
    wait_until(lambda: source.steps_started == 3)  # 3 queued, then the thread waits for room
    time.sleep(0.05)
    assert source.steps_started == 3 and source.state["next"] == 3
    assert ahead.take().events == [0]
    wait_until(lambda: source.steps_started == 4)
    ahead.close()
    assert not ahead.active


def test_stop_returns_what_was_read_and_hands_the_source_back():
    source = CountingSource(100)
    ahead = StepAhead(depth=4)
    ahead.run(source)
    wait_until(lambda: source.steps_started == 4)
    assert ahead.take().events == [0]
    left = ahead.stop()
    assert [r.events[0] for r in left] == list(range(1, source.state["next"]))  # nothing read is lost
    assert not ahead.active
    assert source.step() == [source.state["next"] - 1]  # the source is the caller's again


def test_an_error_of_a_step_reaches_the_reader_after_the_steps_before_it():
    source = CountingSource(10, fail_at=2)
    ahead = StepAhead(depth=4)
    ahead.run(source)
    assert ahead.take().events == [0]
    assert ahead.take().events == [1]
    with pytest.raises(RuntimeError, match="chunk 2 failed"):
        ahead.take()
    assert ahead.take() is None
    ahead.close()


def test_nothing_is_read_once_the_snapshot_is_done():
    source = CountingSource(0)
    ahead = StepAhead(depth=4)
    ahead.run(source)
    assert ahead.take() is None
    assert source.steps_started == 0


def test_close_ends_a_thread_waiting_for_room():
    source = CountingSource(100)
    ahead = StepAhead(depth=1)
    ahead.run(source)
    wait_until(lambda: source.steps_started == 1)  # one queued, the thread waits for room
    ahead.close()
    assert not ahead.active and ahead.prefetcher is None


def test_close_leaves_a_step_that_does_not_end_behind():
    release = threading.Event()

    class StuckSource(CountingSource):
        def step(self, poll_wait_s: float = 0.0) -> list:
            self.steps_started += 1
            release.wait()
            return []

    source = StuckSource(10)
    ahead = StepAhead(depth=2)
    ahead.run(source)
    wait_until(lambda: source.steps_started == 1)
    started = time.monotonic()
    ahead.close(wait_s=0.2)
    assert time.monotonic() - started < 2 and ahead.prefetcher is None
    release.set()
