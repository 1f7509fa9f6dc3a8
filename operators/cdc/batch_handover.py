"""In-process hand-over of change batches between the Python operators of a local run.

A local run (``python jobs/<job>.py``, PyFlink's loopback mode) runs every Python operator as a
thread of the job's own process. A ``ChangeBatch`` crossing from one operator to the next was
still pickled, copied through Beam's data plane into the JVM, through Flink's network stack and
back into the same process: ~0.6 µs a row of Python and ~0.7 µs of JVM CPU, as much as reading
the row from PostgreSQL and writing it to Paimon together (a 3M-row snapshot probe, 2026-12-04).

Enabled by the local run's driver (``enable``), pickling a batch puts it in this process's
registry and sends only its number; unpickling takes it out again. Flink still carries, keys,
orders and checkpoints the elements (a few bytes each now); only their bytes stay in the process.
An element reaches one consumer once (keyed exchanges, no broadcast), so each batch is taken
once. A cluster's Python workers are processes of their own: there it stays off, and a number
that reaches another process is an error, never a wrong batch.

Memory: Flink's network buffers bound the bytes in flight no longer (an element is a few bytes),
so ``register`` waits while the registry holds ``CAPACITY_BYTES`` or more, at most ``WAIT_S``: a
bundle's output leaves the worker only when the bundle ends, so a wait may be for batches the
waiting operator itself has just emitted, and must end. Batches of elements a failover dropped
are removed when the next attempt's operators open (``opened``).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Optional

CAPACITY_BYTES = 64 << 20
"""Batch bytes the registry holds before ``register`` waits (about as much as Flink's network
buffers of a local run held before: 16 MiB per TaskManager, plus a reader's bundle)."""

WAIT_S = 1.0
"""The longest ``register`` waits for room."""


@dataclass
class _Entry:
    batch: Any
    size: int
    attempt: int


class _Registry:
    def __init__(self) -> None:
        self.enabled = False
        self.entries: dict[int, _Entry] = {}
        self.bytes = 0
        self.next_number = 0
        self.attempt = 0
        self.changed = threading.Condition()

    def register(self, batch: Any, size: int) -> int:
        with self.changed:
            self.changed.wait_for(lambda: not self.entries or self.bytes < CAPACITY_BYTES, WAIT_S)
            number, self.next_number = self.next_number, self.next_number + 1
            self.entries[number] = _Entry(batch, size, self.attempt)
            self.bytes += size
            return number

    def take(self, number: int) -> Any:
        with self.changed:
            entry = self.entries.pop(number, None)
            if entry is None:
                raise LookupError(f"change batch {number} is not in this process's hand-over registry "
                                  f"(taken twice, or dropped by a failover)")
            self.bytes -= entry.size
            self.changed.notify_all()
            return entry.batch

    def opened(self, attempt: int) -> None:
        with self.changed:
            if attempt <= self.attempt:
                return
            self.attempt = attempt
            for number in [n for n, e in self.entries.items() if e.attempt < attempt]:
                self.bytes -= self.entries.pop(number).size
            self.changed.notify_all()


_REGISTRY = _Registry()


def enable() -> None:
    """Hands batches over in this process from now on; only where every Python operator runs as
    a thread of this process (a local run in loopback mode)."""
    _REGISTRY.enabled = True


def register(batch: Any, size: int) -> Optional[tuple[int, int]]:
    """What a pickled ``batch`` of ``size`` bytes carries instead of its bytes: (process id, number);
    None when the hand-over is off."""
    if not _REGISTRY.enabled:
        return None
    return os.getpid(), _REGISTRY.register(batch, size)


def take(pid: int, number: int) -> Any:
    """The batch registered as ``number`` in process ``pid`` (which must be this one)."""
    if pid != os.getpid():
        raise RuntimeError(f"a change batch handed over in process {pid} reached process {os.getpid()}: the "
                           f"in-process hand-over is only for local runs, whose Python operators share one process")
    return _REGISTRY.take(number)


def opened(attempt: int) -> None:
    """An operator of execution attempt ``attempt`` opened: batches registered by earlier attempts
    (whose elements a failover dropped) are removed."""
    _REGISTRY.opened(attempt)


def held_bytes() -> int:
    """Bytes of the batches registered and not yet taken."""
    return _REGISTRY.bytes
