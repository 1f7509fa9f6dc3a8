"""Order-independent checksums of Arrow tables, vectorised (numpy over the Arrow buffers; no
Python per row), for comparing a source table with its lake table.

Every value gets a 64-bit hash: fixed-width values from their bytes (numpy views of the data
buffer; floats with -0.0 and NaN made canonical), strings and binary values by a polynomial
hash over the data buffer between their offsets (prefix sums of ``byte * P^i``, brought to a
common base with powers of ``P``'s inverse modulo 2^64, in blocks of 4 Mi bytes that bound the
temporary arrays), lists and maps the same way over their elements' hashes, structs by folding
their fields. NULL has a hash of its own, so NULL, ``''`` and ``0`` differ. A row's hash folds
its columns' hashes in column order; a table's checksum is the row count and the sum of its row
hashes modulo 2^64 (order-independent, duplicates count).

``TableDigest`` gathers that batch by batch, with a checksum per column and, for the rows'
differences, each row's hash beside its key (``compare`` joins both sides' with pyarrow; a table
without a key is compared as a multiset of row hashes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

P = np.uint64(0x100000001B3)
"""Odd, so invertible modulo 2^64."""
P_INVERSE = np.uint64(pow(int(P), -1, 1 << 64))
SEED = np.uint64(0x9E3779B97F4A7C15)
NULL_HASH = np.uint64(0x5BD1E9955BD1E995)
SEQUENCE_BLOCK = 1 << 22
ROW_HASH = "_row_hash"
KEY_HASH = "_key_hash"


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit affects every output bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def column_hashes(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """One uint64 hash per value (``NULL_HASH`` for NULL)."""
    if isinstance(array, pa.ChunkedArray):
        parts = [column_hashes(chunk) for chunk in array.chunks]
        return np.concatenate(parts) if parts else np.empty(0, np.uint64)
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_null(array.type) or len(array) == 0:
        return np.full(len(array), NULL_HASH, np.uint64)
    hashes = mix(_value_hashes(array) + SEED)
    if array.null_count:
        hashes[array.is_null().to_numpy(zero_copy_only=False)] = NULL_HASH
    return hashes


def _value_hashes(array: pa.Array) -> np.ndarray:
    t = array.type
    if pa.types.is_boolean(t):
        return array.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint64)
    if pa.types.is_string(t) or pa.types.is_binary(t) or pa.types.is_large_string(t) or pa.types.is_large_binary(t):
        offsets = _offsets(array, np.int64 if pa.types.is_large_string(t) or pa.types.is_large_binary(t) else np.int32)
        data = np.frombuffer(array.buffers()[2], np.uint8) if array.buffers()[2] is not None else np.empty(0, np.uint8)
        return sequence_hashes(data, offsets)
    if pa.types.is_fixed_size_binary(t):
        width = t.byte_width
        data = np.frombuffer(array.buffers()[1], np.uint8)[array.offset * width:(array.offset + len(array)) * width]
        return sequence_hashes(data, np.arange(len(array) + 1, dtype=np.int64) * width)
    if pa.types.is_map(t) or pa.types.is_list(t) or pa.types.is_large_list(t):
        offsets = _offsets(array, np.int64 if pa.types.is_large_list(t) else np.int32)
        used = (offsets[0], offsets[-1] - offsets[0])  # the children of a sliced array are not sliced
        if pa.types.is_map(t):
            elements = mix(column_hashes(array.keys.slice(*used)) * P + column_hashes(array.items.slice(*used)))
        else:
            elements = column_hashes(array.values.slice(*used))
        return sequence_hashes(elements, offsets - offsets[0])
    if pa.types.is_fixed_size_list(t):
        return sequence_hashes(column_hashes(array.flatten()), np.arange(len(array) + 1, dtype=np.int64) * t.list_size)
    if pa.types.is_struct(t):
        folded = np.full(len(array), SEED, np.uint64)
        for child in array.flatten():
            folded = mix(folded * P + column_hashes(child))
        return folded
    return _fixed_width_hashes(array)


def _offsets(array: pa.Array, dtype) -> np.ndarray:
    """The value offsets of a (sliced) variable-width array, as int64."""
    raw = np.frombuffer(array.buffers()[1], dtype)
    return raw[array.offset:array.offset + len(array) + 1].astype(np.int64)


def _fixed_width_hashes(array: pa.Array) -> np.ndarray:
    """Integers, floats, decimals, dates, times, timestamps, durations: from their bytes."""
    t = array.type
    try:
        width = t.bit_width // 8
    except ValueError:
        raise TypeError(f"cannot checksum Arrow type {t}") from None
    if pa.types.is_floating(t):
        values = array.fill_null(0).to_numpy(zero_copy_only=False) + 0.0  # -0.0 -> 0.0
        values[np.isnan(values)] = np.nan
        return values.view(f"u{width}").astype(np.uint64)
    data = np.frombuffer(array.buffers()[1], np.uint8)[array.offset * width:(array.offset + len(array)) * width]
    if width <= 8:
        return data.view(f"<u{width}").astype(np.uint64)
    words = data.view("<u8").reshape(len(array), width // 8)
    folded = np.full(len(array), SEED, np.uint64)
    for i in range(words.shape[1]):
        folded = mix(folded * P + words[:, i])
    return folded


def sequence_hashes(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Polynomial hash ``sum(values[j] * P^(j - start))`` of each run ``offsets[i]:offsets[i+1]``
    (``values``: bytes or uint64 hashes), mixed with the run's length; in blocks of about
    ``SEQUENCE_BLOCK`` values, which bounds the temporary arrays."""
    out = np.empty(len(offsets) - 1, np.uint64)
    first = 0
    while first < len(out):
        limit = int(np.searchsorted(offsets, offsets[first] + SEQUENCE_BLOCK, side="right")) - 1
        last = min(max(limit, first + 1), len(out))
        out[first:last] = _block_hashes(values[offsets[first]:offsets[last]], offsets[first:last + 1] - offsets[first])
        first = last
    return out


def _block_hashes(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    count = len(values)
    powers = np.cumprod(np.full(count + 1, P, np.uint64)) * P_INVERSE  # P^0 .. P^count
    inverse = np.cumprod(np.full(count + 1, P_INVERSE, np.uint64)) * P
    prefix = np.zeros(count + 1, np.uint64)
    np.cumsum(values.astype(np.uint64) * powers[:count], out=prefix[1:])
    starts, ends = offsets[:-1], offsets[1:]
    sums = (prefix[ends] - prefix[starts]) * inverse[starts]
    return mix(sums ^ mix((ends - starts).astype(np.uint64) + SEED))


def row_hashes(table: pa.Table, columns: Sequence[str]) -> np.ndarray:
    """One uint64 per row over ``columns``, in that order."""
    folded = np.full(table.num_rows, SEED, np.uint64)
    for name in columns:
        folded = mix(folded * P + column_hashes(table.column(name)))
    return folded


def wrapping_sum(hashes: np.ndarray) -> int:
    return int(np.sum(hashes, dtype=np.uint64))


@dataclass
class TableDigest:
    """Row count, checksum (sum of row hashes mod 2^64) and a checksum per column of the rows
    added so far; ``index`` keeps each row's hash beside its key columns (``keys`` empty: the row
    hashes alone, compared as a multiset)."""

    columns: tuple[str, ...]
    keys: tuple[str, ...] = ()
    count: int = 0
    checksum: int = 0
    column_checksums: dict[str, int] = field(default_factory=dict)
    parts: list[pa.Table] = field(default_factory=list)

    def add(self, rows: pa.Table) -> None:
        hashes = {name: column_hashes(rows.column(name)) for name in self.columns}
        folded = np.full(rows.num_rows, SEED, np.uint64)
        for name in self.columns:
            folded = mix(folded * P + hashes[name])
            self.column_checksums[name] = (self.column_checksums.get(name, 0) + wrapping_sum(hashes[name])) % (1 << 64)
        self.count += rows.num_rows
        self.checksum = (self.checksum + wrapping_sum(folded)) % (1 << 64)
        index = {k: rows.column(k) for k in self.keys}
        if self.keys:
            index[KEY_HASH] = pa.array(row_hashes(rows, self.keys))
        index[ROW_HASH] = pa.array(folded)
        self.parts.append(pa.table(index))

    def index(self) -> pa.Table:
        if self.parts:
            return pa.concat_tables(self.parts, promote_options="permissive")
        return pa.table({ROW_HASH: pa.array([], pa.uint64())})


SOURCE_HASH, LAKE_HASH, SURPLUS = "_source_hash", "_lake_hash", "_surplus"


@dataclass
class DigestDifference:
    """How two digests of the same columns differ: ``rows`` holds one signature per differing key
    (its key columns, ``_key_hash``, and both sides' row hashes, 0 where a side lacks the key) or,
    for a table without a key, per differing row hash (``_row_hash``, and ``_surplus``: its count
    in the source minus its count in the lake)."""

    columns: list[str]
    """Columns whose checksums differ."""
    keys: tuple[str, ...]
    rows: pa.Table

    @property
    def only_in_source(self) -> int:
        """Rows (keys, for a keyed table) the lake lacks."""
        if self.keys:
            return self.rows.num_rows - _count_nonzero(self.rows[LAKE_HASH])
        return pc.sum(pc.max_element_wise(self.rows[SURPLUS], 0)).as_py() or 0

    @property
    def only_in_lake(self) -> int:
        if self.keys:
            return self.rows.num_rows - _count_nonzero(self.rows[SOURCE_HASH])
        return pc.sum(pc.max_element_wise(pc.negate(self.rows[SURPLUS]), 0)).as_py() or 0

    @property
    def changed(self) -> int:
        """Keys on both sides with different values (keyed tables)."""
        return self.rows.num_rows - self.only_in_source - self.only_in_lake if self.keys else 0

    def first_keys(self, limit: int) -> list[dict[str, Any]]:
        """The first differing keys in key order."""
        if not self.keys:
            return []
        order = pc.sort_indices(self.rows, [(k, "ascending") for k in self.keys])[:limit]
        return self.rows.select(list(self.keys)).take(order).to_pylist()

    def also_in(self, later: "DigestDifference") -> Optional["DigestDifference"]:
        """The differences ``later`` (a later read of both sides) shows again, the same on both
        sides: those a live workload did not cause; None when there are none."""
        signature = [KEY_HASH, SOURCE_HASH, LAKE_HASH] if self.keys else [ROW_HASH, SURPLUS]
        kept = later.rows.join(self.rows.select(signature), signature, join_type="left semi")
        columns = [c for c in later.columns if c in self.columns]
        return DigestDifference(columns, self.keys, kept) if kept.num_rows else None


def _count_nonzero(hashes: pa.ChunkedArray) -> int:
    return pc.sum(pc.not_equal(hashes, pa.scalar(0, pa.uint64()))).as_py() or 0


def compare(source: TableDigest, lake: TableDigest) -> Optional[DigestDifference]:
    """None when both digests are equal, else what differs."""
    if (source.count, source.checksum) == (lake.count, lake.checksum):
        return None
    columns = [c for c in source.columns if source.column_checksums.get(c, 0) != lake.column_checksums.get(c, 0)]
    return DigestDifference(columns, source.keys, _keyed_rows(source, lake) if source.keys
                            else _multiset_rows(source, lake))


def _keyed_rows(source: TableDigest, lake: TableDigest) -> pa.Table:
    right = lake.index()
    right = right.rename_columns([f"{n}_lake" if n != KEY_HASH else n for n in right.column_names])
    joined = source.index().join(right, KEY_HASH, join_type="full outer")
    source_hash, lake_hash = pc.fill_null(joined[ROW_HASH], 0), pc.fill_null(joined[f"{ROW_HASH}_lake"], 0)
    columns = {k: pc.coalesce(joined[k], joined[f"{k}_lake"].cast(joined[k].type)) for k in source.keys}
    rows = pa.table({**columns, KEY_HASH: joined[KEY_HASH], SOURCE_HASH: source_hash, LAKE_HASH: lake_hash})
    return rows.filter(pc.not_equal(source_hash, lake_hash))


def _multiset_rows(source: TableDigest, lake: TableDigest) -> pa.Table:
    def counts(digest: TableDigest) -> pa.Table:
        return digest.index().group_by(ROW_HASH).aggregate([(ROW_HASH, "count")])
    joined = counts(source).join(counts(lake).rename_columns([ROW_HASH, "lake_count"]), ROW_HASH,
                                 join_type="full outer")
    surplus = pc.subtract(pc.fill_null(joined[f"{ROW_HASH}_count"], 0), pc.fill_null(joined["lake_count"], 0))
    rows = pa.table({ROW_HASH: joined[ROW_HASH], SURPLUS: surplus})
    return rows.filter(pc.not_equal(surplus, 0))
