"""Sets and maps of int32 key hashes as sorted numpy arrays: vectorised look-ups
(``searchsorted``) and inserts that copy memory once per batch, not per key."""

from __future__ import annotations

import numpy as np

ABSENT = -1
"""The value :func:`look_up` gives a key that is not there."""


def look_up(keys: np.ndarray, values: np.ndarray, probes: np.ndarray) -> np.ndarray:
    """The value of every probe in the map ``keys`` (sorted, unique) -> ``values``; ``ABSENT``
    where it has none."""
    if not len(keys):
        return np.full(len(probes), ABSENT, np.int32)
    at = np.minimum(np.searchsorted(keys, probes), len(keys) - 1)
    return np.where(keys[at] == probes, values[at], ABSENT).astype(np.int32)


def contains(keys: np.ndarray, probes: np.ndarray) -> np.ndarray:
    """Whether every probe is in ``keys`` (sorted, unique)."""
    if not len(keys):
        return np.zeros(len(probes), bool)
    at = np.minimum(np.searchsorted(keys, probes), len(keys) - 1)
    return keys[at] == probes


def insert(keys: np.ndarray, new_keys: np.ndarray) -> np.ndarray:
    """``keys`` with ``new_keys`` (sorted, unique, none in ``keys``) merged in."""
    return np.insert(keys, np.searchsorted(keys, new_keys), new_keys)


def insert_items(keys: np.ndarray, values: np.ndarray, new_keys: np.ndarray,
                 new_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The map with ``new_keys`` (sorted, unique, none in ``keys``) -> ``new_values`` added."""
    at = np.searchsorted(keys, new_keys)
    return np.insert(keys, at, new_keys), np.insert(values, at, new_values)
