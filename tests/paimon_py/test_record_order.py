"""``RecordOrder.sort``: rows already in key order come back as they are; its key-only fast path
gives exactly the two-key order, or is not taken; ``stable_order`` (packed or not) is numpy's stable
argsort;
and the bounded merge's single-integer-key cut agrees with the general one."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from paimon_py.io.key_value import SEQUENCE_NUMBER
from paimon_py.mergetree import sort_merge
from paimon_py.mergetree.record_order import RecordOrder, stable_order

ORDER = RecordOrder(("k",))
records = st.lists(st.tuples(st.integers(-5, 5), st.integers(0, 30)), max_size=60)


def table(rows: list[tuple[int, int]]) -> pa.Table:
    return pa.table({"k": pa.array([k for k, _ in rows], pa.int64()),
                     SEQUENCE_NUMBER: pa.array([s for _, s in rows], pa.int64()),
                     "row": pa.array(range(len(rows)), pa.int32())})


@settings(max_examples=200, deadline=None)
@given(records)
def test_sort_orders_by_key_then_sequence_whatever_the_input_order(rows):
    result = ORDER.sort(table(rows))
    got = list(zip(result.column("k").to_pylist(), result.column(SEQUENCE_NUMBER).to_pylist()))
    assert got == sorted(rows)


def test_key_only_order_is_taken_for_rows_in_sequence_order_and_refused_otherwise():
    in_sequence = table([(3, 1), (1, 2), (3, 3), (2, 4), (1, 5)])
    assert ORDER._key_only_order(in_sequence) is not None
    out_of_sequence = table([(3, 5), (1, 2), (3, 3)])
    assert ORDER._key_only_order(out_of_sequence) is None
    assert ORDER.sort(out_of_sequence).column(SEQUENCE_NUMBER).to_pylist() == [2, 3, 5]


def test_rows_already_in_key_order_are_returned_as_they_are():
    """Strictly increasing integer keys (a snapshot read in key order) need no sort and no copy,
    whatever the sequence fields; equal or falling neighbours take the sort."""
    increasing = table([(1, 9), (2, 3), (5, 1)])
    assert ORDER.sort(increasing) is increasing
    assert RecordOrder(("k",), ("row",)).sort(increasing) is increasing
    for rows in ([(1, 2), (1, 1), (5, 3)], [(2, 1), (1, 2)]):
        unsorted = table(rows)
        result = ORDER.sort(unsorted)
        assert result is not unsorted and list(zip(result.column("k").to_pylist(),
                                                   result.column(SEQUENCE_NUMBER).to_pylist())) == sorted(rows)


def test_key_only_order_leaves_other_keys_to_the_full_sort():
    strings = pa.table({"k": ["b", "a"], SEQUENCE_NUMBER: pa.array([1, 2], pa.int64())})
    assert ORDER._key_only_order(strings) is None
    assert RecordOrder(("k",), ("s",))._key_only_order(table([(2, 1), (1, 2)])) is None
    assert RecordOrder(("k", "j"))._key_only_order(table([(2, 1), (1, 2)])) is None
    assert ORDER.sort(strings).column("k").to_pylist() == ["a", "b"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-50, 50), max_size=40, unique=True), st.integers(-60, 60))
def test_count_at_most_of_an_integer_key_agrees_with_the_general_cut(keys, bound):
    sorted_keys = pa.table({"k": pa.array(sorted(keys), pa.int64())})
    expected = sum(1 for k in keys if k <= bound)
    assert sort_merge._count_at_most(sorted_keys, ["k"], (bound,)) == expected
    as_strings = pa.table({"k": pa.array([f"{k + 100:04d}" for k in sorted(keys)], pa.string())})
    assert sort_merge._count_at_most(as_strings, ["k"], (f"{bound + 100:04d}",)) == expected


def test_concatenated_runs_oldest_first_take_the_key_only_order():
    rng = np.random.default_rng(3)
    runs = [np.sort(rng.choice(1000, 300, replace=False)) for _ in range(3)]
    sequence = np.concatenate([np.arange(300) + 1000 * i for i in range(3)])
    concatenated = pa.table({"k": np.concatenate(runs), SEQUENCE_NUMBER: sequence})
    assert ORDER._key_only_order(concatenated) is not None
    newest_first = pa.table({"k": np.concatenate(runs[::-1]), SEQUENCE_NUMBER: sequence[::-1].copy()})
    result = ORDER.sort(newest_first)
    keys, seqs = result.column("k").to_numpy(), result.column(SEQUENCE_NUMBER).to_numpy()
    assert np.all((keys[1:] > keys[:-1]) | ((keys[1:] == keys[:-1]) & (seqs[1:] > seqs[:-1])))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=400), st.integers(1, 40),
       st.sampled_from([np.int64, np.int32, np.int16]))
def test_stable_order_is_the_stable_argsort(values, span, dtype):
    """Small spans (most lists: many descents, so the keys are packed beside row numbers), wide
    spans (the stable sort) and narrower integer types."""
    info = np.iinfo(dtype)
    keys = np.array([v % span for v in values] if span < 40 else values, np.int64)
    keys = np.clip(keys, info.min, info.max).astype(dtype)
    order, sorted_keys = stable_order(keys)
    expected = np.argsort(keys, kind="stable")
    assert order.tolist() == expected.tolist()
    assert sorted_keys.tolist() == keys[expected].tolist()


def test_many_random_keys_are_sorted_packed_and_stay_stable():
    """Beyond the extremes of int64 once shifted (span near 2**47 for 131,072 rows) and ties."""
    rng = np.random.default_rng(11)
    for low, span in ((-(2**63), 2**40), (2**63 - 2**46, 2**46 - 1), (0, 7)):
        keys = low + rng.integers(0, span, 100_000, dtype=np.int64)
        order, sorted_keys = stable_order(keys)
        expected = np.argsort(keys, kind="stable")
        assert np.array_equal(order, expected) and np.array_equal(sorted_keys, keys[expected])


def test_sort_of_a_large_unordered_buffer_orders_by_key_then_sequence():
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 500, 5_000)
    sequence = rng.permutation(5_000)
    result = ORDER.sort(table(list(zip(keys.tolist(), sequence.tolist()))))
    got = list(zip(result.column("k").to_pylist(), result.column(SEQUENCE_NUMBER).to_pylist()))
    assert got == sorted(zip(keys.tolist(), sequence.tolist()))
