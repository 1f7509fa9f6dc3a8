"""Bucket hashing (format reference §5): Murmur3 over the bucket-key BinaryRow.

``bucket = abs(hash % N)`` (Java's truncating remainder), where ``hash`` is Paimon's
``MurmurHashUtils.hashBytesByWords`` (seed 42) of the key row's bytes without the arity prefix.

:func:`bucket_ids` and :func:`key_hashes` build the BinaryRow bytes of all rows at once with
numpy, straight from the Arrow buffers, and run the Murmur rounds column-wise over rows
(numpy ``uint32`` arithmetic wraps like Java ``int``). They give the same result as hashing
``BinaryRow.encode`` row by row, Java's null-value var-part reservations included.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, Sequence

import numpy as np
import pyarrow as pa

from paimon_py.data.binary_row import (
    HEADER_SIZE_IN_BITS,
    MAX_COMPACT_DECIMAL_PRECISION,
    MAX_COMPACT_TIMESTAMP_PRECISION,
    MAX_INLINE_LENGTH,
    BinaryRow,
    null_bits_width,
    null_reserved_bytes,
)
from paimon_py.exceptions import UnsupportedFeatureError
from paimon_py.types import (
    BigIntType,
    BinaryType,
    BooleanType,
    CharType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntType,
    LocalZonedTimestampType,
    SmallIntType,
    TimestampType,
    TimeType,
    TinyIntType,
    VarBinaryType,
    VarCharType,
    to_arrow_type,
)

DEFAULT_SEED = 42
_BATCH_ROWS = 1 << 16  # rows hashed at once; bounds the temporary arrays
_C1 = 0xCC9E2D51
_C2 = 0x1B873593
_M32 = 0xFFFFFFFF


# ---------------------------------------------------------------------------------------------
# Scalar Murmur3
# ---------------------------------------------------------------------------------------------


def _rotl32(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


def _fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    return h ^ (h >> 16)


def _to_int32(h: int) -> int:
    return h - (1 << 32) if h & 0x80000000 else h


def murmur3_32(data: bytes, seed: int = DEFAULT_SEED) -> int:
    """Paimon's ``hashBytesByWords``: little-endian 4-byte words (a tail is not hashed), final
    mix with the byte length; returned as a signed int32."""
    h = seed & _M32
    for (word,) in struct.iter_unpack("<I", data[: len(data) & ~3]):
        k = _rotl32((word * _C1) & _M32, 15) * _C2 & _M32
        h = (_rotl32(h ^ k, 13) * 5 + 0xE6546B64) & _M32
    return _to_int32(_fmix32(h ^ len(data)))


def hash_code(values: Sequence[Any], types: Sequence[DataType]) -> int:
    """Hash of one key row (Java ``BinaryRow.hashCode()``)."""
    return murmur3_32(BinaryRow.encode(values, types))


def bucket_of(hash_value: int, num_buckets: int) -> int:
    """``Math.abs(hash % numBuckets)`` with Java's truncating remainder."""
    return abs(hash_value) % num_buckets


# ---------------------------------------------------------------------------------------------
# Vectorised hashing
# ---------------------------------------------------------------------------------------------


def bucket_ids(
    table: pa.Table | pa.RecordBatch,
    key_names: Sequence[str],
    key_types: Sequence[DataType],
    num_buckets: int,
) -> np.ndarray:
    """Bucket of every row (int32 array) for the bucket-key columns ``key_names``."""
    if num_buckets <= 0:
        raise ValueError(f"fixed bucket mode needs num_buckets > 0, got {num_buckets}")
    hashes = key_hashes(table, key_names, key_types)
    return np.abs(np.fmod(hashes, np.int32(num_buckets)))  # fmod truncates, as Java's %


def key_hashes(
    table: pa.Table | pa.RecordBatch, key_names: Sequence[str], key_types: Sequence[DataType]
) -> np.ndarray:
    """Java ``BinaryRow.hashCode()`` of every row's key (int32 array)."""
    if len(key_names) != len(key_types):
        raise ValueError(f"{len(key_names)} key names for {len(key_types)} key types")
    columns = [_column(table, name, t) for name, t in zip(key_names, key_types)]
    hashes = np.zeros(table.num_rows, np.uint32)
    for start in range(0, table.num_rows, _BATCH_ROWS):
        size = min(_BATCH_ROWS, table.num_rows - start)
        rows = _RowsBuilder(size, len(key_types))
        for i, (column, t) in enumerate(zip(columns, key_types)):
            rows.add(i, column.slice(start, size), t)
        hashes[start : start + size] = _murmur_rows(*rows.finish())
    return hashes.view(np.int32)


def _column(table: pa.Table | pa.RecordBatch, name: str, t: DataType) -> pa.Array:
    column = table.column(name)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    target = to_arrow_type(t)
    return column if column.type == target else column.cast(target)


class _RowsBuilder:
    """Accumulates the BinaryRow bytes of ``n`` rows of ``arity`` fields, column by column.

    The fixed part is an ``(n, words)`` uint64 matrix; var-part chunks are recorded with their
    position relative to the end of the fixed part and laid out in :meth:`finish`."""

    def __init__(self, n: int, arity: int) -> None:
        self.header_words = null_bits_width(arity) // 8
        self.fixed = np.zeros((n, self.header_words + arity), np.uint64)
        self.fixed_bytes = 8 * self.fixed.shape[1]
        self.var_lengths = np.zeros(n, np.int64)
        self.uniform_chunks: list[tuple[np.ndarray, np.ndarray]] = []
        self.segments: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, i: int, arr: pa.Array, t: DataType) -> None:
        nulls = _null_mask(arr)
        slot = self.header_words + i
        self.fixed[:, slot] = _slot_writer(t)(self, arr, t, nulls)
        if arr.null_count:
            bit = i + HEADER_SIZE_IN_BITS
            self.fixed[nulls, bit // 64] |= np.uint64(1 << (bit % 64))
            self.fixed[nulls, slot] &= _null_slot_mask(t)

    def add_uniform_chunk(self, chunk: np.ndarray) -> np.ndarray:
        """Append an ``(n, k)`` uint8 chunk (k a multiple of 8) to every row; returns the
        chunk's offsets from the start of each row."""
        relative = self.var_lengths.copy()
        self.uniform_chunks.append((relative, chunk))
        self.var_lengths += chunk.shape[1]
        return relative + self.fixed_bytes

    def add_segments(self, rows: np.ndarray, data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Append ``data[starts[j]:starts[j]+lengths[j]]`` (zero-padded to 8) to row ``rows[j]``;
        returns the segments' offsets from the start of their rows."""
        relative = self.var_lengths[rows]
        self.segments.append((rows, relative, data, starts, lengths))
        self.var_lengths[rows] += (lengths + 7) & ~7
        return relative + self.fixed_bytes

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """All rows concatenated (uint8, each row 8-aligned) and the row byte lengths."""
        lengths = self.var_lengths + self.fixed_bytes
        if not self.segments:
            parts = [self.fixed.view(np.uint8)] + [chunk for _, chunk in self.uniform_chunks]
            return np.ascontiguousarray(np.concatenate(parts, axis=1)).reshape(-1), lengths
        row_words = np.concatenate([[0], np.cumsum(lengths)[:-1]]) // 8
        flat = np.zeros(int(lengths.sum()) // 8, np.uint64)
        _scatter_rows(flat, row_words, self.fixed)
        var_words = row_words + self.fixed.shape[1]
        for relative, chunk in self.uniform_chunks:
            _scatter_rows(flat, var_words + relative // 8, np.ascontiguousarray(chunk).view("<u8"))
        for rows, relative, data, starts, seg_lengths in self.segments:
            _copy_segments(flat, var_words[rows] + relative // 8, data, starts, seg_lengths)
        return flat.view(np.uint8), lengths


def _scatter_rows(flat: np.ndarray, first_words: np.ndarray, matrix: np.ndarray) -> None:
    """Write row ``r`` of a uint64 matrix at word ``first_words[r]`` of ``flat``."""
    flat[first_words[:, None] + np.arange(matrix.shape[1])] = matrix


def _copy_segments(
    flat: np.ndarray, dest_words: np.ndarray, data: np.ndarray, src: np.ndarray, lengths: np.ndarray
) -> None:
    """Copy byte segments of ``data`` to word positions of ``flat``, 8 bytes at a time (the
    source is read through an unaligned uint64 view), zeroing the bytes past each segment."""
    n_words = (lengths + 7) // 8
    total = int(n_words.sum())
    within = np.arange(total) - np.repeat(np.cumsum(n_words) - n_words, n_words)
    padded = np.concatenate([data, np.zeros(8, np.uint8)])
    words_at = np.ndarray((len(padded) - 7,), "<u8", padded, strides=(1,))
    values = words_at[np.repeat(src, n_words) + 8 * within]
    remaining = np.repeat(lengths, n_words) - 8 * within
    partial = remaining < 8
    values[partial] &= (np.uint64(1) << (8 * remaining[partial]).astype(np.uint64)) - np.uint64(1)
    flat[np.repeat(dest_words, n_words) + within] = values


def _null_mask(arr: pa.Array) -> np.ndarray:
    if arr.null_count == 0:
        return np.zeros(len(arr), bool)
    return arr.is_null().to_numpy(zero_copy_only=False)


def _null_slot_mask(t: DataType) -> np.uint64:
    """Part of the slot kept for nulls: the offset of Java's reserved var bytes, else none."""
    return np.uint64(0xFFFFFFFF00000000 if null_reserved_bytes(t) else 0)


# ---------------------------------------------------------------------------------------------
# Column -> slot values
# ---------------------------------------------------------------------------------------------


_SlotFn = Callable[["_RowsBuilder", pa.Array, Any, np.ndarray], np.ndarray]
"""Computes the uint64 slot of every row of a column (null rows are masked by the caller)."""


def _values(arr: pa.Array, dtype: str, width: int = 1) -> np.ndarray:
    """The values buffer of a fixed-width array as ``dtype`` (``width`` items per value)."""
    buffer = arr.buffers()[1]
    values = np.frombuffer(buffer, dtype, count=(arr.offset + len(arr)) * width)
    return values[arr.offset * width :]


def _slot_bool(rows: _RowsBuilder, arr: pa.Array, t: Any, nulls: np.ndarray) -> np.ndarray:
    bits = np.frombuffer(arr.buffers()[1], np.uint8)
    return np.unpackbits(bits, bitorder="little")[arr.offset : arr.offset + len(arr)].astype(np.uint64)


def _slot_int(unsigned: str) -> _SlotFn:
    def slot(rows: _RowsBuilder, arr: pa.Array, t: Any, nulls: np.ndarray) -> np.ndarray:
        return _values(arr, unsigned).astype(np.uint64)

    return slot


def _slot_time(rows: _RowsBuilder, arr: pa.Array, t: Any, nulls: np.ndarray) -> np.ndarray:
    if arr.type == pa.time32("ms"):
        return _values(arr, "<u4").astype(np.uint64)
    return (_values(arr, "<i8") // 1000).astype(np.uint32).astype(np.uint64)


def _slot_decimal(rows: _RowsBuilder, arr: pa.Array, t: Any, nulls: np.ndarray) -> np.ndarray:
    words = _values(arr, "<u8", 2).reshape(-1, 2)
    if t.precision <= MAX_COMPACT_DECIMAL_PRECISION:
        return words[:, 0].copy()
    be_bytes, lengths = _java_unscaled_bytes(words)
    be_bytes[nulls] = 0
    lengths[nulls] = 0
    offsets = rows.add_uniform_chunk(be_bytes)
    return (offsets.astype(np.uint64) << np.uint64(32)) | lengths.astype(np.uint64)


_BIT_LENGTH = np.array([int(i).bit_length() for i in range(256)], np.int64)


def _java_unscaled_bytes(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``BigInteger.toByteArray()`` of 128-bit two's complement values (little-endian word
    pairs), left-aligned in 16-byte rows; and its byte lengths."""
    le = np.ascontiguousarray(words).view(np.uint8).reshape(-1, 16)
    negative = le[:, 15] >= 0x80
    magnitude = np.where(negative[:, None], ~le, le)
    nonzero = magnitude != 0
    top = 15 - np.argmax(nonzero[:, ::-1], axis=1)
    bit_length = np.where(nonzero.any(axis=1), top * 8 + _BIT_LENGTH[magnitude[np.arange(len(le)), top]], 0)
    lengths = bit_length // 8 + 1
    be = le[:, ::-1]
    j = np.arange(16)
    source = np.clip(16 - lengths[:, None] + j, 0, 15)
    out = np.where(j < lengths[:, None], np.take_along_axis(be, source, axis=1), 0).astype(np.uint8)
    return out, lengths


_NANOS_PER_UNIT = {"ms": 1_000_000, "us": 1000, "ns": 1}  # the units to_arrow_type uses


def _slot_timestamp(rows: _RowsBuilder, arr: pa.Array, t: Any, nulls: np.ndarray) -> np.ndarray:
    nanos_per_unit = _NANOS_PER_UNIT[arr.type.unit]
    millis, sub = np.divmod(_values(arr, "<i8"), 1_000_000 // nanos_per_unit)
    nano_of_milli = sub * nanos_per_unit
    if t.precision <= MAX_COMPACT_TIMESTAMP_PRECISION:
        return millis.view(np.uint64)
    chunk = np.where(nulls, 0, millis).astype("<i8").view(np.uint8).reshape(-1, 8)
    offsets = rows.add_uniform_chunk(chunk)
    return (offsets.astype(np.uint64) << np.uint64(32)) | nano_of_milli.astype(np.uint64)


def _slot_var_bytes(rows: _RowsBuilder, arr: pa.Array, t: Any, nulls: np.ndarray) -> np.ndarray:
    """Strings/binaries: up to 7 bytes inline (slot byte 7 = 0x80 | length), longer ones in
    the var part (slot = offset << 32 | length)."""
    value_offsets = np.frombuffer(arr.buffers()[1], "<i4")[arr.offset : arr.offset + len(arr) + 1]
    data_buffer = arr.buffers()[2]
    data = np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    starts = value_offsets[:-1].astype(np.int64)
    lengths = np.where(nulls, 0, np.diff(value_offsets)).astype(np.int64)
    padded = np.concatenate([data, np.zeros(8, np.uint8)])
    j = np.arange(8)
    inline = np.where(j < lengths[:, None], padded[starts[:, None] + j], 0)
    inline[:, 7] = 0x80 | lengths.clip(max=MAX_INLINE_LENGTH)
    slots = np.ascontiguousarray(inline.astype(np.uint8)).view("<u8").reshape(-1).copy()
    long_rows = np.flatnonzero(lengths > MAX_INLINE_LENGTH)
    if len(long_rows):
        offsets = rows.add_segments(long_rows, data, starts[long_rows], lengths[long_rows])
        slots[long_rows] = (offsets.astype(np.uint64) << np.uint64(32)) | lengths[long_rows].astype(np.uint64)
    return slots


_SLOT_WRITERS: dict[type, _SlotFn] = {
    BooleanType: _slot_bool,
    TinyIntType: _slot_int("<u1"),
    SmallIntType: _slot_int("<u2"),
    IntType: _slot_int("<u4"),
    DateType: _slot_int("<u4"),
    FloatType: _slot_int("<u4"),
    BigIntType: _slot_int("<u8"),
    DoubleType: _slot_int("<u8"),
    TimeType: _slot_time,
    DecimalType: _slot_decimal,
    TimestampType: _slot_timestamp,
    LocalZonedTimestampType: _slot_timestamp,
    CharType: _slot_var_bytes,
    VarCharType: _slot_var_bytes,
    BinaryType: _slot_var_bytes,
    VarBinaryType: _slot_var_bytes,
}


def _slot_writer(t: DataType) -> _SlotFn:
    writer = _SLOT_WRITERS.get(type(t))
    if writer is None:
        raise UnsupportedFeatureError(f"bucket keys of type {t} are not supported")
    return writer


# ---------------------------------------------------------------------------------------------
# Vectorised Murmur3 over rows
# ---------------------------------------------------------------------------------------------


def _mix(h: np.ndarray, k: np.ndarray) -> np.ndarray:
    """One Murmur3 round over every row: ``h`` (updated in place and returned) with word ``k``."""
    k = k * np.uint32(_C1)
    spill = k >> np.uint32(17)
    k <<= np.uint32(15)
    k |= spill
    k *= np.uint32(_C2)
    h ^= k
    np.right_shift(h, np.uint32(19), out=spill)
    h <<= np.uint32(13)
    h |= spill
    h *= np.uint32(5)
    h += np.uint32(0xE6546B64)
    return h


def _after_zero_words(count: int) -> int:
    """The hash state after ``count`` zero words from the seed (a key row's header without nulls)."""
    h = DEFAULT_SEED
    for _ in range(count):
        h = (_rotl32(h, 13) * 5 + 0xE6546B64) & _M32
    return h


def _fmix(h: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    h = h ^ lengths.astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _murmur_rows(flat: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``hashBytesByWords`` of every row of ``flat`` (rows concatenated, byte ``lengths``)."""
    n = len(lengths)
    words = flat.view("<u4")
    if n and (lengths == lengths[0]).all():
        matrix = words.reshape(n, -1)
        first = _leading_zero_columns(matrix)
        h = np.full(n, _after_zero_words(first), np.uint32)
        for j in range(first, matrix.shape[1]):
            _mix(h, matrix[:, j])
        return _fmix(h, lengths)
    h = np.full(n, DEFAULT_SEED, np.uint32)
    return _murmur_ragged(words, lengths, h) if n else h


def _leading_zero_columns(matrix: np.ndarray) -> int:
    """Leading word columns that are zero in every row (the header of key rows without nulls):
    their rounds give every row the same state, computed once."""
    count = 0
    while count < matrix.shape[1] and not matrix[:, count].any():
        count += 1
    return count


def _murmur_ragged(words: np.ndarray, lengths: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Rows of different lengths: process rows longest first, so that at word ``j`` the rows
    still being hashed are a prefix of that order."""
    n_words = lengths // 4
    order = np.argsort(-n_words, kind="stable")
    first_word = (np.cumsum(lengths) - lengths)[order] // 4
    sorted_words = n_words[order]
    active_counts = np.searchsorted(-sorted_words, -np.arange(sorted_words[0]), side="left")
    hs = h[order]
    for j, count in enumerate(active_counts):
        _mix(hs[:count], words[first_word[:count] + j])  # in place
    h[order] = hs
    return _fmix(h, lengths)
