"""``FileStoreScan``: the live data files of a snapshot, read from its manifests (format §4.6)."""

from __future__ import annotations

from typing import Callable

from paimon_py.data.binary_row import BinaryRow
from paimon_py.manifest.manifest_entry import FileKind, ManifestEntry, live_files, merge_entries
from paimon_py.manifest.manifest_file import ManifestFile
from paimon_py.manifest.manifest_list import ManifestFileMeta, ManifestList
from paimon_py.snapshot.snapshot import Snapshot
from paimon_py.types import DataType

PartitionPredicate = Callable[[tuple], bool]


class FileStoreScan:
    """Reads manifest lists and manifests; decodes partitions once per distinct value."""

    def __init__(self, manifest_list: ManifestList, manifest_file: ManifestFile,
                 partition_types: list[DataType], snapshot_manager=None):
        self.manifest_list = manifest_list
        self.manifest_file = manifest_file
        self.partition_types = partition_types
        self.snapshot_manager = snapshot_manager
        self._partitions: dict[bytes, tuple] = {}
        self._cache: tuple[int, dict[tuple, ManifestEntry]] | None = None

    def partition_of(self, partition: bytes) -> tuple:
        if partition not in self._partitions:
            self._partitions[partition] = BinaryRow.deserialize(partition, self.partition_types)
        return self._partitions[partition]

    def data_manifests(self, snapshot: Snapshot) -> list[ManifestFileMeta]:
        return (self.manifest_list.read(snapshot.base_manifest_list)
                + self.manifest_list.read(snapshot.delta_manifest_list))

    def live_entries(self, snapshot: Snapshot | None,
                     partition_filter: PartitionPredicate | None = None) -> list[ManifestEntry]:
        """ADD entries of every file live in ``snapshot``, optionally for some partitions only.

        The last result is kept; asked for a newer snapshot (a committer's next commit), only
        the delta manifests of the snapshots in between are read.
        """
        if snapshot is None:
            return []
        live = self._cached_live(snapshot)
        if live is None:
            live = {e.identifier(): e for e in live_files(self.read_entries(self.data_manifests(snapshot)))}
        self._cache = (snapshot.id, live)
        entries = list(live.values())
        if partition_filter is not None:
            entries = [e for e in entries if partition_filter(self.partition_of(e.partition))]
        return entries

    def pruned_live_entries(self, snapshot: Snapshot | None,
                            manifest_filter: Callable[[ManifestFileMeta], bool],
                            entry_filter: Callable[[ManifestEntry], bool]) -> list[ManifestEntry]:
        """Live ADD entries of the manifests and entries the filters keep (not cached).

        A pruned manifest may hold the ADD of a file whose DELETE another manifest keeps, so
        unmatched DELETEs are dropped here rather than reported as conflicts.
        """
        if snapshot is None:
            return []
        manifests = [m for m in self.data_manifests(snapshot) if manifest_filter(m)]
        merged = merge_entries(e for e in self.read_entries(manifests) if entry_filter(e))
        return [e for e in merged.values() if e.kind == FileKind.ADD]

    def _cached_live(self, snapshot: Snapshot) -> dict[tuple, ManifestEntry] | None:
        if self._cache is None or self._cache[0] > snapshot.id or self.snapshot_manager is None:
            return None
        cached_id, live = self._cache
        if cached_id == snapshot.id:
            return live
        live = dict(live)
        for snapshot_id in range(cached_id + 1, snapshot.id + 1):
            if not self.snapshot_manager.snapshot_exists(snapshot_id):
                return None
            for entry in self.delta_entries(self.snapshot_manager.snapshot(snapshot_id)):
                key = entry.identifier()
                if entry.kind == FileKind.ADD:
                    live[key] = entry
                elif live.pop(key, None) is None:
                    return None
        return live

    def delta_entries(self, snapshot: Snapshot) -> list[ManifestEntry]:
        return self.read_entries(self.manifest_list.read(snapshot.delta_manifest_list))

    def read_entries(self, manifests: list[ManifestFileMeta]) -> list[ManifestEntry]:
        entries: list[ManifestEntry] = []
        for meta in manifests:
            entries.extend(self.manifest_file.read(meta.file_name))
        return entries
