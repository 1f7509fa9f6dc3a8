"""``CopyColumns``: how a snapshot reads a table's columns with ``COPY ... (FORMAT binary)``, and
``decode``, which turns what that COPY sends into Arrow columns in C (``binary_copy.c``).

A column whose values have a binary form the decoder takes into the column's Arrow type exactly
(integers, floats, booleans, text, bytea, numeric, timestamps, dates) arrives typed; any other
column arrives as a string column of its text form (its type's output function, through
``format('%s', ...)``: a cast to text is not always that, e.g. ``true::text`` is 'true', not 't'),
the same text pgoutput sends, for the text converters (``types.py``). Key columns are read natively only when
their values' text is their Python value's ``str`` (integers, text), so a chunk's last key is
known as text without another query. Against a CSV COPY parsed by pyarrow and converted from text
this saves the server ~25% of its work and the client the parse and the conversions (measured: 1M
rows of the snapshot benchmark's table, 0.50 -> 0.37 s drained, 0.20 -> ~0.03 s to Arrow).

A value the decoder does not take exactly (a numeric that needs rounding to the column's scale or
has too many digits, NaN, an infinite date or timestamp) makes ``decode`` return None: the caller
reads those rows as text, whose converters round, or refuse with their error.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

import numpy as np
import pyarrow as pa

from operators.postgres import native
from operators.postgres.native import address
from paimon_py.types import DataType, to_arrow_type

INT2, INT4, INT8, FLOAT4, FLOAT8, BOOL, BYTES, NUMERIC, TIMESTAMP_US, TIMESTAMP_MS, DATE = range(1, 12)
"""The decoder's kinds of column (``binary_copy.c``); BYTES also for columns read as text."""

_OK, _MALFORMED, _TEXT = 0, -1, -2

_NATIVE: dict[str, tuple[int, ...]] = {
    "int2": (INT2,), "int4": (INT4,), "int8": (INT8,), "float4": (FLOAT4,), "float8": (FLOAT8,),
    "bool": (BOOL,), "text": (BYTES,), "varchar": (BYTES,), "bpchar": (BYTES,), "bytea": (BYTES,),
    "numeric": (NUMERIC,), "timestamp": (TIMESTAMP_US, TIMESTAMP_MS), "timestamptz": (TIMESTAMP_US, TIMESTAMP_MS),
    "date": (DATE,),
}
"""PostgreSQL types (``pg_catalog``) with a binary form the decoder takes, and the kinds they may become."""

_FIXED_TARGETS = {INT2: pa.int16(), INT4: pa.int32(), INT8: pa.int64(), FLOAT4: pa.float32(), FLOAT8: pa.float64(),
                  BOOL: pa.bool_(), DATE: pa.date32()}
"""The Arrow type each fixed-width kind is decoded into."""

_KEY_NAMES = frozenset({"int2", "int4", "int8", "text", "varchar", "bpchar"})
"""Types whose values' text is their Python value's ``str``: read natively also as key columns."""


@dataclass(frozen=True)
class CopyColumn:
    name: str
    kind: int
    arrow_type: pa.DataType
    """The column's Arrow type as decoded: the Paimon type's, or string for a column read as text."""
    as_text: bool
    """Read as its text form: a string column for the text converters."""

    @property
    def select(self) -> str:
        """The column in the COPY's select list (``num_nulls``: a row value whose fields are all
        NULL is not NULL itself)."""
        quoted = '"' + self.name.replace('"', '""') + '"'
        return f"CASE WHEN num_nulls({quoted}) = 0 THEN format('%s', {quoted}) END" if self.as_text else quoted


@dataclass(frozen=True)
class CopyColumns:
    columns: tuple[CopyColumn, ...]

    @staticmethod
    def of(names: Sequence[str], pg_types: Sequence, type_modifiers: Sequence[int],
           data_types: Sequence[DataType], keys: Sequence[str]) -> "CopyColumns":
        """The columns ``names`` of PostgreSQL types ``pg_types`` (``types.PgType``) written as
        ``data_types``; ``keys``: the primary key's columns."""
        return CopyColumns(tuple(_column(name, pg_type, typmod, data_type, name in keys)
                                 for name, pg_type, typmod, data_type
                                 in zip(names, pg_types, type_modifiers, data_types)))

    def select_list(self) -> str:
        return ", ".join(c.select for c in self.columns)


def _column(name: str, pg_type, type_modifier: int, data_type: DataType, key: bool) -> CopyColumn:
    resolved, _ = pg_type.resolve(type_modifier)
    target = to_arrow_type(data_type)
    native_kinds = _NATIVE.get(resolved.name, ()) if resolved.namespace == "pg_catalog" else ()
    if key and resolved.name not in _KEY_NAMES:
        native_kinds = ()
    kind = next((k for k in native_kinds if _takes(k, target, resolved.name)), None)
    if kind is None:
        return CopyColumn(name, BYTES, pa.string(), True)
    return CopyColumn(name, kind, target, False)


def _takes(kind: int, target: pa.DataType, type_name: str) -> bool:
    """Whether the decoder writes ``kind`` values of PostgreSQL type ``type_name`` as ``target`` values."""
    if kind in _FIXED_TARGETS:
        return target == _FIXED_TARGETS[kind]
    if kind == BYTES:
        return target == (pa.binary() if type_name == "bytea" else pa.string())
    if kind == NUMERIC:
        return pa.types.is_decimal128(target)
    if kind in (TIMESTAMP_US, TIMESTAMP_MS):
        return pa.types.is_timestamp(target) and target.unit == ("us" if kind == TIMESTAMP_US else "ms") \
            and target.tz in (None, "UTC")
    return False


def decode(data: pa.Buffer, copy: CopyColumns) -> Optional[pa.Table]:
    """The rows of a binary COPY of ``copy``'s select list as an Arrow table (a column per column
    of ``copy``, named as it); None when a value must be read as text (see the module docstring)."""
    library = _library()
    columns = copy.columns
    count = len(columns)
    kinds = np.array([c.kind for c in columns], np.int32)
    totals = np.zeros(count, np.int64)
    rows = ctypes.c_int64()
    base = data.address
    if library.binary_copy_sizes(base, data.size, count, address(kinds), address(totals), ctypes.byref(rows)) != _OK:
        raise ValueError("malformed binary COPY data")
    if count and int(totals.max()) >= 1 << 31:
        return None  # a column's bytes beyond 32-bit offsets: the text path's error
    n = rows.value
    values = [_values_buffer(c, n, int(totals[i])) for i, c in enumerate(columns)]
    offsets = [np.empty(n + 1, np.int32) if c.kind == BYTES else None for c in columns]
    validity = [np.zeros((n + 7) // 8, np.uint8) for _ in columns]
    null_counts = np.zeros(count, np.int64)
    precisions = np.array([getattr(c.arrow_type, "precision", 0) for c in columns], np.int32)
    scales = np.array([getattr(c.arrow_type, "scale", 0) for c in columns], np.int32)
    status = library.binary_copy_decode(
        base, data.size, count, address(kinds), address(precisions), address(scales),
        _pointers(values), _pointers(offsets), _pointers(validity), address(null_counts))
    if status == _TEXT:
        return None
    if status != _OK:
        raise ValueError("malformed binary COPY data")
    arrays = [_array(c, n, int(null_counts[i]), validity[i], offsets[i], values[i]) for i, c in enumerate(columns)]
    return pa.Table.from_arrays(arrays, names=[c.name for c in columns])


def _values_buffer(column: CopyColumn, rows: int, total: int) -> np.ndarray:
    if column.kind == BYTES:
        return np.empty(max(total, 1), np.uint8)
    if column.kind == BOOL:
        return np.zeros((rows + 7) // 8, np.uint8)
    width = 16 if column.kind == NUMERIC else column.arrow_type.bit_width // 8
    return np.empty(max(rows * width, 1), np.uint8)


def _array(column: CopyColumn, rows: int, nulls: int, validity: np.ndarray, offsets: Optional[np.ndarray],
           values: np.ndarray) -> pa.Array:
    bitmap = pa.py_buffer(validity) if nulls else None
    if offsets is not None:
        data = values[:offsets[-1]]
        return pa.Array.from_buffers(column.arrow_type, rows, [bitmap, pa.py_buffer(offsets), pa.py_buffer(data)],
                                     nulls)
    return pa.Array.from_buffers(column.arrow_type, rows, [bitmap, pa.py_buffer(values)], nulls)



def _pointers(arrays: Sequence[Optional[np.ndarray]]) -> ctypes.Array:
    return (ctypes.c_void_p * max(len(arrays), 1))(*[None if a is None else address(a) for a in arrays])


@lru_cache(maxsize=None)
def _library() -> ctypes.CDLL:
    # CDLL (not PyDLL): the decode releases the interpreter lock
    library = ctypes.CDLL(str(native.build("binary_copy")))
    library.binary_copy_sizes.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32, ctypes.c_void_p,
                                          ctypes.c_void_p, ctypes.c_void_p]
    library.binary_copy_sizes.restype = ctypes.c_int
    library.binary_copy_decode.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32, *[ctypes.c_void_p] * 7]
    library.binary_copy_decode.restype = ctypes.c_int
    return library
