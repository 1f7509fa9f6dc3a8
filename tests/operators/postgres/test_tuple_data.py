"""``tuple_data.decode_columns`` (the C decoder of a run's TupleData) against the one-message
decoder ``pgoutput.decode``: the same values and unchanged-TOAST marks for well-formed messages,
and None (never a crash, never a wrong value) for messages cut short, grown or corrupted."""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from operators.postgres import pgoutput, tuple_data

TOAST = pgoutput.UNCHANGED_TOAST

values = st.one_of(st.none(), st.just(TOAST), st.text(max_size=40))


def insert(row: list) -> bytes:
    out = b"I" + struct.pack(">I", 7) + b"N" + struct.pack(">h", len(row))
    for v in row:
        if v is None:
            out += b"n"
        elif v is TOAST:
            out += b"u"
        else:
            out += b"t" + struct.pack(">i", len(v.encode())) + v.encode()
    return out


def decode(payloads: list[bytes], columns: int):
    """``decode_columns`` over ``payloads`` joined as ``MessageFrame`` joins them (padded)."""
    lengths = np.array([len(p) for p in payloads], np.int64)
    ends = np.cumsum(lengths)
    buf = np.frombuffer(b"".join(payloads) + bytes(8), np.uint8)
    return tuple_data.decode_columns(buf, ends - lengths + 6, ends, columns)


def reference(payloads: list[bytes], columns: int):
    """Per column the values and unchanged rows that decoding one by one gives; None where that
    fails or gives another column count."""
    try:
        rows = [pgoutput.decode(p).new for p in payloads]
    except (ValueError, UnicodeDecodeError):
        return None
    if any(len(r) != columns for r in rows):
        return None
    return ([[None if r[c] is TOAST else r[c] for r in rows] for c in range(columns)],
            [[i for i, r in enumerate(rows) if r[c] is TOAST] for c in range(columns)])


def as_lists(decoded):
    arrays, unchanged = decoded
    for array in arrays:
        array.validate(full=True)
    return [a.to_pylist() for a in arrays], [np.flatnonzero(u).tolist() for u in unchanged]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 6).flatmap(lambda n: st.lists(st.lists(values, min_size=n, max_size=n), min_size=1, max_size=30)
                                 .map(lambda rows: (n, rows))))
def test_well_formed_runs_decode_as_one_by_one(case):
    columns, rows = case
    payloads = [insert(r) for r in rows]
    assert as_lists(decode(payloads, columns)) == reference(payloads, columns)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(values, min_size=3, max_size=3), min_size=1, max_size=8), st.data())
def test_damaged_messages_give_none_or_the_right_values(rows, data):
    """A byte changed, bytes cut off or appended: the decoder stays inside each message and either
    refuses the run or decodes what one by one decodes (a changed byte may still be a valid
    message)."""
    payloads = [insert(r) for r in rows]
    m = data.draw(st.integers(0, len(payloads) - 1))
    damaged = bytearray(payloads[m])
    how = data.draw(st.sampled_from(["change", "cut", "append"]))
    if how == "change":
        at = data.draw(st.integers(6, len(damaged) - 1))
        damaged[at] = data.draw(st.integers(0, 255))
    elif how == "cut":
        del damaged[data.draw(st.integers(6, len(damaged) - 1)):]
    else:
        damaged += data.draw(st.binary(min_size=1, max_size=5))
    payloads[m] = bytes(damaged)
    got = decode(payloads, 3)
    expected = reference(payloads, 3)
    if got is None:
        return
    try:
        got = as_lists(got)
    except Exception:  # bytes that are not UTF-8: the caller's validate refuses the run
        return
    assert got == expected


def test_a_binary_value_or_another_column_count_is_refused():
    good = insert(["1", "x"])
    binary = b"I" + struct.pack(">I", 7) + b"N" + struct.pack(">h", 2) + b"t" + struct.pack(">i", 1) + b"1b" \
        + struct.pack(">i", 1) + b"\x01"
    assert decode([good, binary], 2) is None
    assert decode([good, insert(["1", "x", "y"])], 2) is None
    assert decode([good], 3) is None


def test_stops_say_where_each_tuple_ends():
    """With ``stops`` a tuple may end before its message does (an update's old tuple, then 'N')."""
    payloads = [insert(["1", None]) + b"N??", insert([TOAST, "é"]) + b"N"]
    lengths = np.array([len(p) for p in payloads], np.int64)
    ends = np.cumsum(lengths)
    buf = np.frombuffer(b"".join(payloads) + bytes(8), np.uint8)
    stops = np.empty(2, np.int64)
    arrays, unchanged = tuple_data.decode_columns(buf, ends - lengths + 6, ends, 2, stops)
    assert stops.tolist() == [ends[0] - 3, ends[1] - 1]
    assert [a.to_pylist() for a in arrays] == [["1", None], [None, "é"]]
    assert [u.tolist() for u in unchanged] == [[0, 1], [0, 0]]
    assert tuple_data.decode_columns(buf, ends - lengths + 6, ends, 2) is None  # without stops: trailing bytes

