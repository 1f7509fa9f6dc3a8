"""Allocators that give memory back: the Python process of a job keeps only what it uses.

Measured on a 5,000,000-row snapshot (benchmarks/results/job_memory.md): glibc malloc held 676 MiB
free inside its arenas at the client's peak (818 MiB of arenas, 141 MiB in use). The batches
cross the Beam boundary as multi-MiB ``bytes`` objects, allocated and freed by a hundred threads;
glibc raises its mmap threshold after the first large free (up to 32 MiB), so later batches land
in per-thread arenas and their freed space is kept. A fixed 1 MiB threshold keeps every large
buffer in its own mapping, returned when freed, and two arenas bound the spread of the small
ones. pyarrow's jemalloc pool returns freed pages at once instead of after its decay time.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import pyarrow as pa

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
"""glibc's ``mallopt`` parameters (malloc.h)."""

MMAP_THRESHOLD = 1 << 20
ARENA_MAX = 2


def bound_allocators() -> None:
    """Sets the allocators of this process as the module docstring says (idempotent; a libc
    other than glibc, or a pool other than jemalloc, is left as it is)."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is not None and hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version"):
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_ARENA_MAX, ARENA_MAX)
    if pa.default_memory_pool().backend_name == "jemalloc":
        pa.jemalloc_set_decay_ms(0)
