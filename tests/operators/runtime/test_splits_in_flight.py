"""``SplitsInFlight``: a split is in flight from its emission until a checkpoint whose barrier
followed it completes."""

from operators.runtime.splits_in_flight import SplitsInFlight


def test_splits_leave_flight_with_the_checkpoint_after_them():
    flight = SplitsInFlight(limit=4)
    flight.emitted(3)
    assert (flight.count, flight.room) == (3, 1)
    flight.barrier(7)
    flight.emitted(1)
    assert flight.room == 0
    flight.completed(6)  # an earlier checkpoint: its barrier came before every split
    assert flight.count == 4
    flight.completed(7)
    assert (flight.count, flight.room) == (1, 3)  # the one emitted after barrier 7
    flight.barrier(8)
    flight.barrier(9)  # nothing new since 8
    flight.completed(9)  # subsumes 8 (aborted, or its notice skipped)
    assert flight.count == 0


def test_a_barrier_without_splits_before_it_holds_nothing():
    flight = SplitsInFlight(limit=2)
    flight.barrier(1)
    assert flight.before_barrier == {}
    flight.emitted(5)  # a bounded job's last tick hands over all that is left
    assert (flight.count, flight.room) == (5, 0)
