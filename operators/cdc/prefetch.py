"""``Prefetcher``: reads a change stream's connection on a thread of its own, ahead of the reader.

A reader steps only when its tick comes; between steps (its output handed to Flink, a bundle
finishing, a checkpoint) nobody reads the socket, its buffer fills, and the server stops sending:
the walsender or the binlog dump waits on the job, and its own decoding falls behind. The
prefetcher keeps reading into a queue bounded in bytes, so the server streams on meanwhile.

Only raw messages are queued; positions stay the reader's, taken from what it has decoded.
What is queued and not yet taken is simply read again after a restart (the server resends from
the committed position). A ``mark`` read on the thread after each read (PostgreSQL: the stream's
sent position) is handed over only once the queue is empty, so it never runs ahead of a message
the reader has not taken. An error on the thread reaches the reader after the messages read before it.

The runtime's ``StepAhead`` reads a snapshot's steps ahead with it too: a finite producer (``done``)
bounded in items (``size_of`` 1) rather than bytes.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Callable, Generic, Optional, TypeVar

T = TypeVar("T")

READ_WAIT_S = 0.1
"""How long one read waits for data: the thread looks at ``close`` this often."""


class Prefetcher(Generic[T]):
    """Calls ``read(timeout)`` (-> items) on a thread named ``name`` until closed or ``done()``,
    keeping at most about ``capacity`` (the sum of ``size_of`` each item: bytes, or a count) queued."""

    def __init__(self, read: Callable[[float], list[T]], size_of: Callable[[T], int], capacity: int, name: str,
                 mark: Callable[[], Optional[int]] = lambda: None, done: Callable[[], bool] = lambda: False) -> None:
        self._read = read
        self._size_of = size_of
        self._capacity = capacity
        self._read_mark = mark
        self._done = done
        self._queue: deque[T] = deque()
        self._bytes = 0
        self._latest_mark: Optional[int] = None
        self._error: Optional[BaseException] = None
        self._closed = False
        self._ended = False
        self._changed = threading.Condition()
        self.mark: Optional[int] = None
        """The mark as of the last ``take`` that emptied the queue."""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._done() and self._room():
                items = self._read(READ_WAIT_S)
                mark = self._read_mark()
                with self._changed:
                    self._queue.extend(items)
                    self._bytes += sum(map(self._size_of, items))
                    self._latest_mark = mark
                    self._changed.notify_all()
        except BaseException as e:  # noqa: BLE001 - handed to the reader, which raises it
            with self._changed:
                self._error = e
        finally:
            with self._changed:
                self._ended = True
                self._changed.notify_all()

    def _room(self) -> bool:
        """Waits while the queue is full; False once closed."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or self._bytes < self._capacity)
            return not self._closed

    def take(self, max_items: int, wait_s: float) -> list[T]:
        """Up to ``max_items`` queued items, in order, waiting up to ``wait_s`` for the first;
        raises the thread's error once everything read before it has been taken."""
        with self._changed:
            if not self._queue and self._error is None:
                self._changed.wait_for(lambda: self._queue or self._error is not None or self._ended, wait_s)
            count = min(max_items, len(self._queue))
            items = [self._queue.popleft() for _ in range(count)]
            self._bytes -= sum(map(self._size_of, items))
            self._changed.notify_all()
            if self._queue:
                return items
            if self._error is not None and not items:
                error, self._error = self._error, None
                raise error
            self.mark = self._latest_mark
            return items

    @property
    def finished(self) -> bool:
        """The thread has ended (done, closed or failed) and all it read, its error too, was taken."""
        with self._changed:
            return self._ended and not self._queue and self._error is None

    def close(self, wait_s: Optional[float] = None) -> None:
        """Stops the thread after the read under way (streams' reads end within ``READ_WAIT_S``)
        and waits for it, at most ``wait_s`` if given; the connection is the caller's. Items read
        and not taken can still be taken."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join(wait_s)
