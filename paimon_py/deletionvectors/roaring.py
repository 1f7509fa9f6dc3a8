"""RoaringBitmap's portable serialization of 32-bit values (format §10), with numpy.

Layout (all little-endian): a cookie, then per container its 16-bit key (the values' high 16
bits) and cardinality - 1, then (when present) each container's byte offset, then the containers.
Cookie 12346 + a 32-bit container count: no run containers, offsets present. Cookie 12347 with
(count - 1) in the high 16 bits: a bitset marks run containers; offsets only from 4 containers on.
Containers: array (up to 4096 sorted uint16), bitmap (8192 bytes, bit i = value i), run
(run count, then (start, length - 1) pairs). Writing uses array and bitmap containers only.
"""

from __future__ import annotations

import struct

import numpy as np

from paimon_py.exceptions import TableFormatError

COOKIE_NO_RUN = 12346
COOKIE_RUN = 12347
NO_OFFSET_THRESHOLD = 4
ARRAY_MAX = 4096
BITMAP_BYTES = 8192


def serialize(values: np.ndarray) -> bytes:
    """Portable serialization of sorted, distinct ``values`` (uint32)."""
    values = np.asarray(values, dtype=np.uint32)
    keys, starts, counts = np.unique(values >> 16, return_index=True, return_counts=True)
    bodies = [_container(values[s:s + c] & 0xFFFF) for s, c in zip(starts, counts)]
    header_size = 8 + 8 * len(keys)
    offsets = header_size + np.cumsum([0] + [len(b) for b in bodies])[:len(bodies)]
    header = np.empty((len(keys), 2), dtype="<u2")
    header[:, 0], header[:, 1] = keys, counts - 1
    return b"".join([struct.pack("<II", COOKIE_NO_RUN, len(keys)), header.tobytes(),
                     offsets.astype("<u4").tobytes(), *bodies])


def _container(low: np.ndarray) -> bytes:
    if len(low) <= ARRAY_MAX:
        return low.astype("<u2").tobytes()
    bits = np.zeros(65536, dtype=bool)
    bits[low] = True
    return np.packbits(bits, bitorder="little").tobytes()


def deserialize(data: bytes | memoryview) -> np.ndarray:
    """The sorted values (uint32) of a portable serialization; raises on a malformed one."""
    data = memoryview(data)
    cookie = struct.unpack_from("<I", data, 0)[0]
    if cookie & 0xFFFF == COOKIE_RUN:
        size, position = (cookie >> 16) + 1, 4
        run_flags = np.unpackbits(np.frombuffer(data, np.uint8, (size + 7) // 8, position),
                                  bitorder="little")[:size].astype(bool)
        position += (size + 7) // 8
        has_offsets = size >= NO_OFFSET_THRESHOLD
    elif cookie == COOKIE_NO_RUN:
        size, position = struct.unpack_from("<I", data, 4)[0], 8
        run_flags, has_offsets = np.zeros(size, dtype=bool), True
    else:
        raise TableFormatError(f"Not a portable RoaringBitmap (cookie {cookie}).")
    header = np.frombuffer(data, "<u2", 2 * size, position).reshape(size, 2).astype(np.uint32)
    position += 4 * size + (4 * size if has_offsets else 0)
    parts = []
    for (key, card_minus_1), is_run in zip(header, run_flags):
        low, position = _read_container(data, position, int(card_minus_1) + 1, bool(is_run))
        parts.append((key << 16) | low)
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.uint32)


def _read_container(data: memoryview, position: int, cardinality: int, is_run: bool) -> tuple[np.ndarray, int]:
    """One container's low 16 bits (uint32) and the position after it."""
    if is_run:
        runs = struct.unpack_from("<H", data, position)[0]
        pairs = np.frombuffer(data, "<u2", 2 * runs, position + 2).reshape(runs, 2).astype(np.int64)
        lengths = pairs[:, 1] + 1
        first = np.repeat(pairs[:, 0] - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        return (first + np.arange(lengths.sum())).astype(np.uint32), position + 2 + 4 * runs
    if cardinality > ARRAY_MAX:
        bits = np.unpackbits(np.frombuffer(data, np.uint8, BITMAP_BYTES, position), bitorder="little")
        return np.flatnonzero(bits).astype(np.uint32), position + BITMAP_BYTES
    low = np.frombuffer(data, "<u2", cardinality, position).astype(np.uint32)
    return low, position + 2 * cardinality
