"""Where a CDC source stands, and where the lake says it stands.

A reader sends its ``SourcePosition`` at every ``B(n)`` (envelope kind ``P``) to the committer.
The committer writes it into the ``properties`` of every snapshot it commits for checkpoint
``n`` and, once everything up to ``n`` is in the lake, publishes it in a small file under the
warehouse (``PositionStore``). The reader acknowledges to the database only what was published
(so the database keeps everything the lake does not hold yet) and a job started again without
any Flink state resumes from it: from the published position, and per table from a later one
in that table's latest snapshot (a crash between two tables' commits of one checkpoint).

Reader and committer find the store the same way, through the catalog they open from the job's
catalog options (``PositionStore.of``): the same FileIO (local disk or an object store such as
S3, with the catalog's credentials) and the same directory under the warehouse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

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


@dataclass(frozen=True)
class PendingPosition:
    """A source position taken at checkpoint ``checkpoint_id``'s barrier, on its way to the
    committer, which holds it until that checkpoint completes."""

    checkpoint_id: int
    position: SourcePosition


def property_key(source: str) -> str:
    return PROPERTY_PREFIX + source


def latest(*positions: Optional[SourcePosition]) -> Optional[SourcePosition]:
    present = [p for p in positions if p is not None]
    return max(present, key=lambda p: p.seq) if present else None


POSITIONS_DIRECTORY = ".cdc-positions"
"""Under the warehouse; a directory no Paimon catalog lists (not ``*.db``)."""


class PositionStore:
    """The published (fully committed) position of each source: one JSON file per source in
    ``<warehouse>/.cdc-positions/``, read and written through the catalog's ``FileIO``."""

    def __init__(self, file_io, directory: str):
        """``file_io``: a paimon_py ``FileIO``; ``directory``: a path on its filesystem."""
        self.file_io = file_io
        self.directory = directory

    @staticmethod
    def of(catalog) -> "PositionStore":
        """The store of a paimon_py catalog's warehouse: the one place its location is derived."""
        return PositionStore(catalog.file_io, f"{catalog.warehouse}/{POSITIONS_DIRECTORY}")

    def path(self, source: str) -> str:
        return f"{self.directory}/{source.replace('/', '_').replace(':', '_')}.json"

    def load(self, source: str) -> Optional[SourcePosition]:
        try:
            return SourcePosition.from_json(self.file_io.read_text(self.path(source)))
        except FileNotFoundError:
            return None

    def published(self) -> list["PublishedPosition"]:
        """Every source's published position, by source id."""
        found = []
        for name in self.file_io.list_names(self.directory):
            if name.endswith(".json"):
                path = f"{self.directory}/{name}"
                info = self.file_io.filesystem.get_file_info(path)
                found.append(PublishedPosition(SourcePosition.from_json(self.file_io.read_text(path)), info.mtime))
        return sorted(found, key=lambda p: p.position.source)

    def publish(self, position: SourcePosition) -> None:
        """Replaces the source's file atomically: on a local filesystem written aside, synced
        and renamed over it; on an object store in one upload, visible only once complete."""
        self.file_io.write_text(self.path(position.source), position.to_json())


@dataclass(frozen=True)
class PublishedPosition:
    position: SourcePosition
    published_at: Optional[datetime]
    """When its file was last written (None where the filesystem does not say)."""


def table_position(table, source: str) -> Optional[SourcePosition]:
    """The position in the newest snapshot of ``table`` (a paimon_py FileStoreTable) that
    carries one for ``source``."""
    key = property_key(source)
    for snapshot in table.snapshot_manager.snapshots_backwards():
        if snapshot.properties and key in snapshot.properties:
            return SourcePosition.from_json(snapshot.properties[key])
    return None
