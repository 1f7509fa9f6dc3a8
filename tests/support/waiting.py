"""``wait_until``: the one polling loop of the tests."""

from __future__ import annotations

import time
from typing import Callable, Optional


def wait_until(predicate: Callable[[], object], timeout: float, what: str,
               detail: Optional[Callable[[], str]] = None, interval: float = 0.5):
    """Calls ``predicate()`` every ``interval`` seconds until it returns a true value, and returns
    that value; after ``timeout`` seconds fails with "timed out waiting for <what>" (plus
    ``detail()``, e.g. a job's output, when given)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            message = f"timed out waiting for {what}"
            raise AssertionError(f"{message}\n{detail()}" if detail else message)
        time.sleep(interval)
