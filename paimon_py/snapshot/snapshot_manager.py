"""``SnapshotManager``: finds, reads and creates snapshot files and the LATEST/EARLIEST hints."""

from __future__ import annotations

import re
from typing import Iterator

from paimon_py.fs.file_io import FileIO
from paimon_py.snapshot.snapshot import Snapshot

SNAPSHOT_PREFIX = "snapshot-"
_SNAPSHOT_NAME = re.compile(r"snapshot-(\d+)$")


class SnapshotManager:
    """Snapshots of one table, following Paimon's hint-file rules (format §3)."""

    def __init__(self, file_io: FileIO, table_path: str):
        self.file_io = file_io
        self.table_path = table_path
        self.snapshot_dir = f"{table_path}/snapshot"

    def __call__(self) -> "SnapshotManager":
        """Itself: pypaimon's ``table.snapshot_manager()`` is a method, paimon_py's an attribute."""
        return self

    def get_latest_snapshot(self) -> Snapshot | None:
        """pypaimon's name for :meth:`latest_snapshot`."""
        return self.latest_snapshot()

    def get_snapshot_by_id(self, snapshot_id: int) -> Snapshot | None:
        """The snapshot, or None if it does not exist (pypaimon's lookup)."""
        return self.snapshot(snapshot_id) if self.snapshot_exists(snapshot_id) else None

    def snapshot_path(self, snapshot_id: int) -> str:
        return f"{self.snapshot_dir}/{SNAPSHOT_PREFIX}{snapshot_id}"

    def snapshot_exists(self, snapshot_id: int) -> bool:
        return self.file_io.exists(self.snapshot_path(snapshot_id))

    def snapshot(self, snapshot_id: int) -> Snapshot:
        path = self.snapshot_path(snapshot_id)
        try:
            return self.file_io.read_parsed(path, "snapshot file", lambda data: Snapshot.from_json(data.decode()))
        except FileNotFoundError:
            raise FileNotFoundError(f"Snapshot {snapshot_id} does not exist (no file {path}); "
                                    f"it may have expired.") from None

    def list_ids(self) -> list[int]:
        ids = []
        for name in self.file_io.list_names(self.snapshot_dir):
            match = _SNAPSHOT_NAME.match(name)
            if match:
                ids.append(int(match.group(1)))
        return sorted(ids)

    def latest_snapshot_id(self) -> int | None:
        hint = self._read_hint("LATEST")
        if hint is not None and hint > 0 and not self.snapshot_exists(hint + 1):
            return hint
        ids = self.list_ids()
        return ids[-1] if ids else None

    def earliest_snapshot_id(self) -> int | None:
        hint = self._read_hint("EARLIEST")
        if hint is not None and self.snapshot_exists(hint):
            return hint
        ids = self.list_ids()
        return ids[0] if ids else None

    def latest_snapshot(self) -> Snapshot | None:
        latest = self.latest_snapshot_id()
        return None if latest is None else self.snapshot(latest)

    def snapshots_backwards(self, from_id: int | None = None) -> Iterator[Snapshot]:
        """Snapshots from ``from_id`` (default: latest) down to the earliest one that exists."""
        latest = self.latest_snapshot_id() if from_id is None else from_id
        earliest = self.earliest_snapshot_id()
        if latest is None or earliest is None:
            return
        for snapshot_id in range(latest, earliest - 1, -1):
            if self.snapshot_exists(snapshot_id):
                yield self.snapshot(snapshot_id)

    def try_create(self, snapshot: Snapshot) -> bool:
        """Write snapshot-<id> only if absent; on success move the LATEST hint to it."""
        if not self.file_io.try_create(self.snapshot_path(snapshot.id), snapshot.to_json().encode()):
            return False
        self.write_hint("LATEST", snapshot.id)
        return True

    def write_hint(self, name: str, snapshot_id: int) -> None:
        self.file_io.write_text(f"{self.snapshot_dir}/{name}", str(snapshot_id))

    def _read_hint(self, name: str) -> int | None:
        path = f"{self.snapshot_dir}/{name}"
        for _ in range(3):
            try:
                return int(self.file_io.read_text(path).strip())
            except FileNotFoundError:
                return None
            except ValueError:
                continue
        return None
