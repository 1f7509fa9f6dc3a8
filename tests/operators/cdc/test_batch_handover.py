"""The in-process hand-over of change batches (``operators/cdc/batch_handover.py``): pickled as a
number while on, with their bytes while off; taken once; bounded; a failover's leftovers removed."""

from __future__ import annotations

import os
import pickle
import threading
import time

import pyarrow as pa
import pytest

from operators.cdc import batch_handover
from operators.cdc.change_batch import ROW_KIND, ChangeBatch


@pytest.fixture
def registry(monkeypatch):
    """A registry of this test's own, switched on."""
    monkeypatch.setattr(batch_handover, "_REGISTRY", batch_handover._Registry())
    batch_handover.enable()
    return batch_handover._REGISTRY


def batch(rows: int = 1000) -> ChangeBatch:
    return ChangeBatch.of("db.t", pa.table({"id": pa.array(range(rows), pa.int64()),
                                            ROW_KIND: pa.array([0] * rows, pa.int8())}))


def test_while_off_a_batch_is_pickled_with_its_bytes(monkeypatch):
    monkeypatch.setattr(batch_handover, "_REGISTRY", batch_handover._Registry())
    original = batch()
    data = pickle.dumps(original)
    assert len(data) > original.size
    copy = pickle.loads(data)
    assert copy is not original and copy == original
    assert copy.rows().equals(original.rows())


def test_while_on_only_a_number_crosses_and_the_batch_is_taken_once(registry):
    original = batch(100_000)
    data = pickle.dumps(original)
    assert len(data) < 200
    assert batch_handover.held_bytes() == original.size
    assert pickle.loads(data) is original
    assert batch_handover.held_bytes() == 0
    with pytest.raises(LookupError, match="not in this process's hand-over registry"):
        pickle.loads(data)


def test_a_number_from_another_process_is_refused(registry):
    with pytest.raises(RuntimeError, match="only for local runs"):
        batch_handover.take(os.getpid() + 1, 0)


def test_register_waits_for_room_and_is_woken_by_a_take(registry, monkeypatch):
    first = batch()
    monkeypatch.setattr(batch_handover, "CAPACITY_BYTES", first.size)
    monkeypatch.setattr(batch_handover, "WAIT_S", 30.0)
    data = pickle.dumps(first)  # an empty registry takes a batch of any size
    taker = threading.Timer(0.3, lambda: pickle.loads(data))
    started = time.monotonic()
    taker.start()
    pickle.dumps(batch())
    waited = time.monotonic() - started
    taker.join()
    assert 0.2 < waited < 10


def test_a_wait_for_room_ends_after_wait_s(registry, monkeypatch):
    """The batches waited for may sit in the waiting operator's own unfinished bundle."""
    monkeypatch.setattr(batch_handover, "CAPACITY_BYTES", 1)
    monkeypatch.setattr(batch_handover, "WAIT_S", 0.2)
    pickle.dumps(batch())
    started = time.monotonic()
    data = pickle.dumps(batch())
    assert 0.15 < time.monotonic() - started < 5
    assert pickle.loads(data).num_rows == 1000


def test_a_later_attempt_removes_what_earlier_attempts_left(registry):
    lost = [pickle.dumps(batch()) for _ in range(3)]
    batch_handover.opened(1)
    assert batch_handover.held_bytes() == 0
    kept = pickle.dumps(batch())
    batch_handover.opened(1)  # another operator of the same attempt
    batch_handover.opened(0)  # a late one of the earlier attempt
    assert pickle.loads(kept).num_rows == 1000
    with pytest.raises(LookupError):
        pickle.loads(lost[0])
