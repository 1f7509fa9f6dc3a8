"""The reader's hand-over of snapshot splits (``SourceReader._hand_over_splits``), over a source
that hands out numbered chunks as splits or reads them itself: round robin over the split readers'
keys, at most two per split reader in flight, the reader reading chunks itself while none may be
handed over, and streaming only once none is left and none is in flight (each split reader then
gets an empty split)."""

from __future__ import annotations

from typing import Optional

from operators.runtime.bridge import KEY, PAYLOAD, SPLIT, KIND
from operators.runtime.source_reader import SourceReader
from operators.runtime.splits_in_flight import SplitsInFlight


class NumberedSplits:
    """The part of a ``ParallelSnapshotSource`` the hand-over uses: ``count`` chunks 0, 1, ...,
    handed over as splits or read by the source itself (as the event ``("read", chunk)``)."""

    def __init__(self, count: int):
        self.left = list(range(count))
        self.streaming = False

    def next_splits(self, limit: Optional[int]) -> list[int]:
        taken, self.left = (self.left, []) if limit is None else (self.left[:limit], self.left[limit:])
        return taken

    def read_chunk(self) -> Optional[list[tuple[str, int]]]:
        if not self.left:
            return None
        return [("read", self.left.pop(0))]

    def splits_read(self) -> None:
        self.streaming = True


def reader(source: NumberedSplits) -> SourceReader:
    made = SourceReader(None, {}, "test", 0.05, split_keys=("k0", "k1"))
    made.source, made.splits_emitted, made.in_flight = source, 0, SplitsInFlight(4)
    return made


def hand_over(made: SourceReader, all_left: bool = False) -> list[tuple[str, int]]:
    """The splits one tick hands over, then the chunk it read itself, if any."""
    ticked = made._hand_over_splits(all_left)
    out = []
    while True:
        try:
            out.append(next(ticked))
        except StopIteration as done:
            read = done.value
            break
    assert all(e[KIND] == SPLIT for e in out)
    return [(e[KEY], e[PAYLOAD]) for e in out] + read


def test_splits_go_round_robin_within_the_limit_and_stream_after_the_last_is_read():
    source = NumberedSplits(6)
    made = reader(source)
    assert hand_over(made) == [("k0", 0), ("k1", 1), ("k0", 2), ("k1", 3)]
    made.in_flight.barrier(1)
    made.in_flight.completed(1)
    assert hand_over(made) == [("k0", 4), ("k1", 5)]
    assert hand_over(made) == [] and not source.streaming  # none left, two in flight
    made.in_flight.barrier(2)
    assert hand_over(made) == [] and not source.streaming  # their checkpoint has not completed
    made.in_flight.completed(2)
    assert hand_over(made) == [("k0", None), ("k1", None)] and source.streaming  # the split readers' cue to close


def test_the_reader_reads_chunks_itself_while_no_split_may_be_handed_over():
    source = NumberedSplits(9)
    made = reader(source)
    assert len(hand_over(made)) == 4
    assert hand_over(made) == [("read", 4)]  # four in flight (a long checkpoint interval)
    assert hand_over(made) == [("read", 5)]
    made.in_flight.barrier(1)
    made.in_flight.completed(1)
    assert hand_over(made) == [("k0", 6), ("k1", 7), ("k0", 8)]
    assert hand_over(made) == [] and not source.streaming  # none left, three in flight
    made.in_flight.barrier(2)
    made.in_flight.completed(2)
    assert hand_over(made) == [("k0", None), ("k1", None)] and source.streaming


def test_a_bounded_jobs_last_tick_hands_over_all_that_is_left():
    source = NumberedSplits(9)
    made = reader(source)
    assert len(hand_over(made)) == 4
    assert [split for _, split in hand_over(made, all_left=True)] == [4, 5, 6, 7, 8]
    assert not source.streaming
