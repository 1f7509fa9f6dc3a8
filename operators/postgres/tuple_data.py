"""``decode_columns``: the TupleData of many pgoutput messages, column by column, in C.

The numpy walk over a run's tuples that this replaces, with the Python strings it handed on, cost
~1.75 s per 1M changes; ``tuple_data.c`` walks the messages of a run once to size each column and
once to copy its text into Arrow buffers (offsets, bytes, validity), so no value becomes a Python
object. The library is compiled on first use (``native.py``).
"""

from __future__ import annotations

import ctypes
from functools import lru_cache
from typing import Optional

import numpy as np
import pyarrow as pa

from operators.postgres import native
from operators.postgres.native import address


def decode_columns(buf: np.ndarray, tuples: np.ndarray, ends: np.ndarray, columns: int,
                   stops: Optional[np.ndarray] = None) -> Optional[tuple[list[pa.StringArray], list[np.ndarray]]]:
    """The text values of messages whose TupleData starts at ``buf[tuples[m]]`` and ends at
    ``ends[m]`` (``buf``: uint8; ``tuples``, ``ends``: int64), ``columns`` values each: per column
    an Arrow string array (null for NULL and for an unchanged TOASTed value; the bytes are not yet
    checked as UTF-8) and a uint8 array marking the unchanged TOASTed values. With ``stops`` (an
    int64 array as long as ``tuples``) a TupleData may end before ``ends[m]`` and ``stops[m]``
    receives where it ends. None when a message is not as expected (another column count, a
    binary value, a short or long tuple) or a column's text exceeds 2 GiB."""
    library = _library()
    count = len(tuples)
    buf, tuples, ends = (np.ascontiguousarray(a, t) for a, t in ((buf, np.uint8), (tuples, np.int64), (ends, np.int64)))
    totals = np.zeros(columns, np.int64)
    stopped = None if stops is None else address(stops)
    if library.tuple_data_sizes(address(buf), address(tuples), address(ends), count, columns, address(totals),
                                stopped) != 0:
        return None
    if columns and int(totals.max()) >= 1 << 31:
        return None
    data_starts = np.zeros(columns + 1, np.int64)
    np.cumsum(totals, out=data_starts[1:])
    offsets = np.empty((columns, count + 1), np.int32)
    data = np.empty(int(data_starts[-1]), np.uint8)
    validity = np.zeros((columns, (count + 7) // 8), np.uint8)
    unchanged = np.empty((columns, count), np.uint8)
    library.tuple_data_columns(address(buf), address(tuples), count, columns, address(offsets), address(data),
                               address(data_starts), address(validity), address(unchanged))
    arrays = [pa.Array.from_buffers(pa.string(), count, [pa.py_buffer(validity[c]), pa.py_buffer(offsets[c]),
                                                         pa.py_buffer(data[data_starts[c]:data_starts[c + 1]])])
              for c in range(columns)]
    return arrays, list(unchanged)



@lru_cache(maxsize=None)
def _library() -> ctypes.CDLL:
    # PyDLL keeps the GIL during the (short) calls: released, it is won back only after the stream's
    # reading thread has run for the interpreter's switch interval.
    library = ctypes.PyDLL(str(native.build("tuple_data")))
    library.tuple_data_sizes.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                         ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p]
    library.tuple_data_sizes.restype = ctypes.c_int
    library.tuple_data_columns.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32,
                                           *[ctypes.c_void_p] * 5]
    library.tuple_data_columns.restype = None
    return library
