"""Allocators that reuse freed batches without faulting their pages in again, and give back what
is free beyond a bound.

The batches cross the Beam boundary as multi-MiB ``bytes`` objects, copied several times a hop
(pickling, Beam's output buffer, its protobuf messages), allocated and freed by many threads.
glibc serves a request above its mmap threshold with a fresh mapping, unmapped when freed: each
copy then faults every page in anew. With a 1 MiB threshold, a 3,000,000-row snapshot took 2.7M
page faults and 7 s of system CPU in the job's Python process (of 14 s); with batches inside the
arenas 1.0M and 3 s, the job 23% faster. Inside the arenas freed space is kept, though: glibc's
own rule (the threshold rises after the first large free, up to 32 MiB, and sixteen arenas)
had kept 676 MiB free at a 5,000,000-row snapshot's peak. So the threshold is fixed at 32 MiB,
two arenas bound the spread, and ``release_free_memory``, called after every batch by the reader
and the writers, hands back all free pages once more than ``ARENA_FREE_LIMIT`` is free.
pyarrow's jemalloc pool returns freed pages at once instead of after its decay time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Optional

import pyarrow as pa

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
"""glibc's ``mallopt`` parameters (malloc.h)."""

MMAP_THRESHOLD = 32 << 20
ARENA_MAX = 2
ARENA_FREE_LIMIT = 256 << 20
"""Free bytes the arenas may keep for reuse before ``release_free_memory`` returns them."""


class MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (2.33 and later)."""
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                     "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _glibc() -> Optional[ctypes.CDLL]:
    """This process's glibc with ``mallinfo2``'s result type, or None for another libc."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is None or not all(hasattr(libc, f) for f in ("mallopt", "malloc_trim", "mallinfo2")):
        return None
    libc.mallinfo2.restype = MallInfo2
    return libc


_LIBC = _glibc()


def bound_allocators() -> None:
    """Sets the allocators of this process as the module docstring says (idempotent; a libc
    other than glibc 2.33+, or a pool other than jemalloc, is left as it is)."""
    if _LIBC is not None:
        _LIBC.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        _LIBC.mallopt(M_ARENA_MAX, ARENA_MAX)
    if pa.default_memory_pool().backend_name == "jemalloc":
        pa.jemalloc_set_decay_ms(0)


def release_free_memory() -> None:
    """Returns glibc's free pages to the system when its arenas hold more than
    ``ARENA_FREE_LIMIT`` free (a few microseconds when they do not)."""
    if _LIBC is not None and _LIBC.mallinfo2().fordblks > ARENA_FREE_LIMIT:
        _LIBC.malloc_trim(0)
