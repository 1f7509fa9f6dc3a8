"""``TableProgress``: which streamed changes a chunked snapshot already holds (no server)."""

from __future__ import annotations

import datetime
import decimal

import pyarrow as pa

from operators.mysql.snapshot_progress import TableProgress, decode_key, encode_key, order_safe


def _progress(order_safe_keys: bool = True) -> TableProgress:
    """Chunks (..10] at (1, 100), (10..20] at (1, 200), (20..) at (2, 50)."""
    progress = TableProgress(order_safe=order_safe_keys)
    progress.add_chunk((10,), (1, 100))
    progress.add_chunk((20,), (1, 200))
    progress.add_chunk(None, (2, 50))
    return progress


def test_a_change_is_in_the_lake_when_it_ends_at_or_before_its_chunks_position():
    p = _progress()
    assert p.done
    assert p.in_lake((5,), (1, 100)) and not p.in_lake((5,), (1, 101))
    assert p.in_lake((10,), (1, 100)) and not p.in_lake((10,), (1, 150))
    assert p.in_lake((11,), (1, 150)) and not p.in_lake((11,), (1, 201))
    assert p.in_lake((999,), (1, 300)) and p.in_lake((999,), (2, 50)) and not p.in_lake((999,), (2, 51))


def test_after_the_last_chunk_every_change_is_new_and_the_table_is_settled():
    p = _progress()
    assert not p.settled((2, 50)) and p.settled((2, 51))
    assert not any(p.in_lake((k,), (3, 4)) for k in (1, 15, 50))


def test_text_keys_replay_everything_after_the_first_chunk():
    p = _progress(order_safe_keys=False)
    assert p.in_lake(("x",), (1, 100)) and not p.in_lake(("x",), (1, 101))


def test_a_later_lake_position_skips_what_it_covers():
    p = _progress()
    p.skip_until = (3, 10)
    assert p.in_lake((999,), (3, 10)) and not p.in_lake((999,), (3, 11))


def test_state_round_trips_through_json_with_typed_keys():
    p = TableProgress(order_safe=True)
    key = (decimal.Decimal("1.50"), b"\x00\xff", datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
           datetime.date(2024, 1, 2), datetime.timedelta(hours=-1, microseconds=250), 7, "s")
    p.add_chunk(key, (4, 5))
    again = TableProgress.from_json(p.to_json())
    assert again == p and again.after == key
    assert decode_key(encode_key(key)) == key


def test_keys_are_order_safe_unless_they_are_text():
    assert order_safe([pa.int64(), pa.decimal128(10, 2), pa.timestamp("us"), pa.binary()])
    assert not order_safe([pa.int64(), pa.string()])
