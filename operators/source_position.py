"""Where a CDC source stands, and where the lake says it stands.

A reader sends its ``SourcePosition`` at every ``B(n)`` (envelope kind ``P``) to the committer.
The committer writes it into the ``properties`` of every snapshot it commits for checkpoint
``n`` and, once everything up to ``n`` is in the lake, publishes it in a small file under the
warehouse (``PositionStore``). The reader acknowledges to the database only what was published
(so the database keeps everything the lake does not hold yet) and a job started again without
any Flink state resumes from it: from the published position, and per table from a later one
in that table's latest snapshot (a crash between two tables' commits of one checkpoint).
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

POSITION = "P"
"""Envelope kind of a source position (payload: a ``SourcePosition``)."""

PROPERTY_PREFIX = "cdc.position."


@dataclass(frozen=True)
class SourcePosition:
    source: str
    """Stable id of the source, e.g. ``postgres/<host>:<port>/<database>/<slot>``."""
    seq: int
    """Increases with every position the source ever sends (also across restarts)."""
    state: dict[str, Any] = field(default_factory=dict)
    """Source-specific, JSON-serialisable (for PostgreSQL: the LSN and snapshot progress)."""

    def to_json(self) -> str:
        return json.dumps({"source": self.source, "seq": self.seq, "state": self.state},
                          sort_keys=True)

    @staticmethod
    def from_json(text: str) -> "SourcePosition":
        data = json.loads(text)
        return SourcePosition(data["source"], int(data["seq"]), data.get("state") or {})

    @property
    def property_key(self) -> str:
        return property_key(self.source)


def property_key(source: str) -> str:
    return PROPERTY_PREFIX + source


def latest(*positions: Optional[SourcePosition]) -> Optional[SourcePosition]:
    present = [p for p in positions if p is not None]
    return max(present, key=lambda p: p.seq) if present else None


class PositionStore:
    """The published (fully committed) position of each source: one JSON file per source in
    ``<warehouse>/.cdc-positions/`` (a directory no Paimon catalog lists: not ``*.db``)."""

    def __init__(self, warehouse: str):
        self.directory = os.path.join(warehouse, ".cdc-positions")

    def _path(self, source: str) -> str:
        return os.path.join(self.directory, source.replace("/", "_").replace(":", "_") + ".json")

    def load(self, source: str) -> Optional[SourcePosition]:
        try:
            with open(self._path(source)) as f:
                return SourcePosition.from_json(f.read())
        except FileNotFoundError:
            return None

    def publish(self, position: SourcePosition) -> None:
        """Replaces the source's file atomically (write aside, then rename)."""
        os.makedirs(self.directory, exist_ok=True)
        path = self._path(position.source)
        temp = f"{path}.{uuid.uuid4().hex}.tmp"
        with open(temp, "w") as f:
            f.write(position.to_json())
        os.replace(temp, path)


def table_position(table, source: str) -> Optional[SourcePosition]:
    """The position in the newest snapshot of ``table`` (a paimon_py FileStoreTable) that
    carries one for ``source``."""
    key = property_key(source)
    for snapshot in table.snapshot_manager.snapshots_backwards():
        if snapshot.properties and key in snapshot.properties:
            return SourcePosition.from_json(snapshot.properties[key])
    return None
