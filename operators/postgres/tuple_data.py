"""``decode_columns``: the TupleData of many pgoutput messages, column by column, in C.

The numpy walk over a run's tuples that this replaces, with the Python strings it handed on, cost
~1.75 s per 1M changes; ``tuple_data.c`` walks the messages of a run once to size each column and
once to copy its text into Arrow buffers (offsets, bytes, validity), so no value becomes a Python
object. The library is compiled with the system's C
compiler on first use (``scripts/bootstrap.sh`` does it once) into ``build/`` beside this file,
named by a hash of its source and flags, under a file lock and renamed into place atomically, so
concurrent workers compile it once and a changed source is recompiled.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Optional

import numpy as np
import pyarrow as pa

SOURCE = Path(__file__).with_name("tuple_data.c")
BUILD_DIR = Path(__file__).with_name("build")
CFLAGS = ["-O2", "-shared", "-fPIC", "-std=c99"]


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
    stopped = None if stops is None else _address(stops)
    if library.tuple_data_sizes(_address(buf), _address(tuples), _address(ends), count, columns, _address(totals),
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
    library.tuple_data_columns(_address(buf), _address(tuples), count, columns, _address(offsets), _address(data),
                               _address(data_starts), _address(validity), _address(unchanged))
    arrays = [pa.Array.from_buffers(pa.string(), count, [pa.py_buffer(validity[c]), pa.py_buffer(offsets[c]),
                                                         pa.py_buffer(data[data_starts[c]:data_starts[c + 1]])])
              for c in range(columns)]
    return arrays, list(unchanged)


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


@lru_cache(maxsize=None)
def _library() -> ctypes.CDLL:
    # PyDLL keeps the GIL during the (short) calls: released, it is won back only after the stream's
    # reading thread has run for the interpreter's switch interval.
    library = ctypes.PyDLL(str(build()))
    library.tuple_data_sizes.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                         ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p]
    library.tuple_data_sizes.restype = ctypes.c_int
    library.tuple_data_columns.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32,
                                           *[ctypes.c_void_p] * 5]
    library.tuple_data_columns.restype = None
    return library


def build() -> Path:
    """The compiled library's path, compiling it first when it is missing or its source changed."""
    source = SOURCE.read_bytes()
    digest = hashlib.sha1(source + " ".join(CFLAGS).encode()).hexdigest()[:12]
    target = BUILD_DIR / f"tuple_data-{digest}.so"
    if target.exists():
        return target
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    with open(BUILD_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            _compile(target)
    return target


def _compile(target: Path) -> None:
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise RuntimeError("no C compiler found (cc or gcc; install gcc, e.g. apt-get install gcc, or set CC): "
                           f"it compiles the pgoutput decoder {SOURCE}")
    fd, temporary = tempfile.mkstemp(suffix=".so", dir=BUILD_DIR)
    os.close(fd)
    try:
        done = subprocess.run([compiler, *CFLAGS, "-o", temporary, str(SOURCE)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"compiling {SOURCE} failed: {done.stderr.strip()}")
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


if __name__ == "__main__":
    print(build())
