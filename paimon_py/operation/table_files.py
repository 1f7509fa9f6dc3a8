"""``TableFiles``: a table's metadata read tolerantly, and the path of every file it names.

Used by snapshot expiration and orphan-file cleanup, which must cope with files already gone.
"""

from __future__ import annotations

import logging
import os

from paimon_py.manifest.avro import decode_records
from paimon_py.manifest.manifest_entry import FileKind, ManifestEntry, merge_entries
from paimon_py.manifest.manifest_list import ManifestFileMeta
from paimon_py.snapshot.snapshot import Snapshot

LOG = logging.getLogger(__name__)


class TableFiles:
    """Reads a table's metadata tolerantly and maps entries to file paths (expiration, orphan cleanup)."""

    def __init__(self, table):
        self.table = table
        self.file_io = table.file_io
        self.table_path = table.table_path
        self.scan = table.new_scan()
        self.path_factory = self.scan.manifest_list.path_factory
        self.partition_computer = table.partition_computer
        self.index_in_data_dir = (table.options.options.get("index-file-in-data-file-dir", "false")
                                  .strip().lower() == "true")
        self._partition_paths: dict[bytes, str] = {}

    # ---- paths ------------------------------------------------------------------------------

    def manifest_path(self, name: str) -> str:
        return self.path_factory.manifest_path(name)

    def statistics_path(self, name: str) -> str:
        return f"{self.table_path}/statistics/{name}"

    def partition_path(self, partition: bytes) -> str:
        if partition not in self._partition_paths:
            self._partition_paths[partition] = self.partition_computer.path(
                self.scan.partition_of(partition))
        return self._partition_paths[partition]

    def bucket_dir(self, partition: bytes, bucket: int) -> str:
        return self.path_factory.bucket_path(self.partition_path(partition), bucket)

    def data_file_path(self, entry: ManifestEntry) -> str:
        if entry.file.external_path:
            return entry.file.external_path
        return f"{self.bucket_dir(entry.partition, entry.bucket)}/{entry.file.file_name}"

    def extra_file_paths(self, entry: ManifestEntry) -> list[str]:
        """Sidecar files (file indexes) live next to their data file."""
        directory = os.path.dirname(self.data_file_path(entry))
        return [f"{directory}/{name}" for name in entry.file.extra_files]

    def index_file_path(self, record: dict) -> str:
        if record.get("_EXTERNAL_PATH"):
            return record["_EXTERNAL_PATH"]
        if self.index_in_data_dir:
            return f"{self.bucket_dir(record['_PARTITION'], record['_BUCKET'])}/{record['_FILE_NAME']}"
        return f"{self.table_path}/index/{record['_FILE_NAME']}"

    # ---- reading ----------------------------------------------------------------------------

    def read_manifest_list(self, name: str | None, tolerant: bool) -> list[ManifestFileMeta]:
        if name is None:
            return []
        try:
            return self.scan.manifest_list.read(name)
        except FileNotFoundError:
            if not tolerant:
                raise
            LOG.info("Manifest list %s is gone; treating it as empty.", name)
            return []

    def read_manifest(self, name: str, tolerant: bool) -> list[ManifestEntry]:
        try:
            return self.scan.manifest_file.read(name)
        except FileNotFoundError:
            if not tolerant:
                raise
            LOG.info("Manifest %s is gone; treating it as empty.", name)
            return []

    def read_index_manifest(self, name: str | None, tolerant: bool) -> list[dict]:
        if name is None:
            return []
        try:
            return decode_records(self.file_io.read_bytes(self.manifest_path(name)))
        except FileNotFoundError:
            if not tolerant:
                raise
            return []

    def data_manifests(self, snapshot: Snapshot, tolerant: bool) -> list[ManifestFileMeta]:
        return (self.read_manifest_list(snapshot.base_manifest_list, tolerant)
                + self.read_manifest_list(snapshot.delta_manifest_list, tolerant))

    def live_data_files(self, snapshot: Snapshot) -> set[tuple[bytes, int, str]]:
        """(partition, bucket, file name) of every file live in ``snapshot``; raises if unreadable."""
        entries: list[ManifestEntry] = []
        for meta in self.data_manifests(snapshot, tolerant=False):
            entries.extend(self.read_manifest(meta.file_name, tolerant=False))
        return {(e.partition, e.bucket, e.file.file_name)
                for e in merge_entries(entries).values() if e.kind == FileKind.ADD}

    def metadata_names(self, snapshot: Snapshot) -> set[str]:
        """Names of the manifest lists, manifests, index manifest, index files and statistics
        file that reading ``snapshot`` needs (Java ``manifestSkippingSet``); raises if unreadable."""
        names = {snapshot.base_manifest_list, snapshot.delta_manifest_list}
        names.update(m.file_name for m in self.data_manifests(snapshot, tolerant=False))
        if snapshot.index_manifest is not None:
            names.add(snapshot.index_manifest)
            names.update(r["_FILE_NAME"] for r in self.read_index_manifest(snapshot.index_manifest,
                                                                         tolerant=False))
        if snapshot.statistics is not None:
            names.add(snapshot.statistics)
        return names

    # ---- deleting ---------------------------------------------------------------------------

    def delete(self, path: str) -> None:
        self.file_io.delete(path)

    def try_delete_empty_dir(self, path: str) -> bool:
        """Remove ``path`` if it is an empty directory (local filesystems only)."""
        if not self.file_io.is_local:
            return False
        try:
            os.rmdir(path)
            return True
        except OSError:
            return False
