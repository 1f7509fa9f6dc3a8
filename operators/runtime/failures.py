"""``FailurePlan``: exceptions injected at named points of the pipeline, each at most once per
run (a marker file remembers that it fired, across restarts). Used by the exactly-once tests.

A point is ``<operator>:<where>:<n>`` and fires the first time that place is reached with a
number of at least ``n``: ``reader:after-emit:30`` (after emitting position 30 or later),
``writer:before-flush:3`` / ``writer:after-flush:3`` (at barrier 3 or later),
``committer:after-commit:2`` (snapshots written for checkpoint 2 or later, state not yet cleared),
``schema:before-apply:4`` (before applying the first schema event of 4 or more columns),
``split-reader:after-read:2`` (after a snapshot split reader subtask emitted its second split).
"""

from __future__ import annotations

import os


class InjectedFailure(RuntimeError):
    """A failure injected on purpose by a test."""


class FailurePlan:
    def __init__(self, points: list[str] | None = None, marker_dir: str | None = None):
        self.points = [_parse(p) for p in points or []]
        self.marker_dir = marker_dir

    def check(self, operator: str, where: str, n: int) -> None:
        if self.marker_dir is None:
            return
        for point_operator, point_where, threshold in self.points:
            if (point_operator, point_where) == (operator, where) and n >= threshold:
                self._fire_once(f"{operator}:{where}:{threshold}", n)

    def _fire_once(self, point: str, n: int) -> None:
        os.makedirs(self.marker_dir, exist_ok=True)
        marker = os.path.join(self.marker_dir, point.replace(":", "_"))
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.close(fd)
        raise InjectedFailure(f"injected failure at {point} (reached at {n})")


def _parse(point: str) -> tuple[str, str, int]:
    parts = point.split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        raise ValueError(f"Failure point {point!r} must look like operator:where:number.")
    return parts[0], parts[1], int(parts[2])
