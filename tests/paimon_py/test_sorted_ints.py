"""``SortedRunMap``: the dynamic-bucket assigner's hash -> bucket map as sorted runs."""

import numpy as np

from paimon_py.index import sorted_ints
from paimon_py.index.sorted_ints import ABSENT, SortedRunMap


def _batches(rng, count: int, size: int):
    keys = rng.choice(np.arange(-2 ** 31, 2 ** 31 - 1, 997, dtype=np.int64), count * size, replace=False)
    for batch in np.split(keys.astype(np.int32), count):
        yield np.sort(batch), (batch.astype(np.int64) % 7).astype(np.int16)[np.argsort(batch)]


def test_runs_answer_as_a_dict_would_and_merges_stay_within_max_run(monkeypatch):
    monkeypatch.setattr(sorted_ints, "MAX_RUN", 4_000)
    rng = np.random.default_rng(11)
    first_keys, first_values = np.array([-5, 3, 8], np.int32), np.array([1, 2, 3], np.int16)
    runs = SortedRunMap(first_keys, first_values)
    expected = dict(zip(first_keys.tolist(), first_values.tolist()))
    for keys, values in _batches(rng, 60, 300):
        runs.insert(keys, values)
        expected.update(zip(keys.tolist(), values.tolist()))
    probes = np.concatenate([np.fromiter(expected, np.int32), np.array([4, 2 ** 31 - 1, -2 ** 31], np.int32)])
    assert runs.look_up(probes).tolist() == [expected.get(p, ABSENT) for p in probes.tolist()]
    assert len(runs) == len(expected) and runs.keys().tolist() == sorted(expected)
    assert all(len(keys) <= 4_000 for keys, _ in runs.runs[1:])
    assert len(runs.runs) <= 18_003 // 4_000 + 8, [len(k) for k, _ in runs.runs]


def test_an_empty_map_finds_nothing():
    runs = SortedRunMap(np.empty(0, np.int32), np.empty(0, np.int16))
    assert runs.look_up(np.array([1, 2], np.int32)).tolist() == [ABSENT, ABSENT] and len(runs) == 0
    runs.insert(np.empty(0, np.int32), np.empty(0, np.int16))
    assert runs.runs == []


def test_insert_merges_as_a_sort_would_and_keeps_the_dtypes():
    rng = np.random.default_rng(5)
    keys = rng.choice(np.arange(-10_000, 10_000, dtype=np.int32), 3_000, replace=False)
    old, new = np.sort(keys[:2_000]), np.sort(keys[2_000:])
    assert sorted_ints.insert(old, new).tolist() == sorted(keys.tolist())
    assert sorted_ints.insert(old, new).dtype == np.int32
    merged, values = sorted_ints.insert_items(old, np.zeros(len(old), np.int16), new, np.ones(len(new), np.int16))
    assert merged.tolist() == sorted(keys.tolist()) and values.dtype == np.int16
    assert values.tolist() == [int(k in set(new.tolist())) for k in merged.tolist()]
    assert sorted_ints.insert(np.empty(0, np.int32), new).tolist() == new.tolist()
    assert sorted_ints.insert(old, np.empty(0, np.int32)).tolist() == old.tolist()
