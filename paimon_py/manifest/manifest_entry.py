"""``ManifestEntry``: one ADD or DELETE of a data file in a manifest (format §4.2, §4.6)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Iterable

from paimon_py.exceptions import FileDeletionConflict, TableFormatError
from paimon_py.io.data_file_meta import DATA_FILE_META_AVRO_SCHEMA, DataFileMeta

MANIFEST_VERSION = 2


class FileKind(IntEnum):
    ADD = 0
    DELETE = 1


@dataclass(frozen=True)
class ManifestEntry:
    kind: FileKind
    partition: bytes
    bucket: int
    total_buckets: int
    file: DataFileMeta

    def identifier(self) -> tuple:
        """File identity used when merging entries (format §4.6)."""
        f = self.file
        return (self.partition, self.bucket, f.level, f.file_name, f.extra_files,
                f.embedded_index, f.external_path)

    def to_avro(self) -> dict:
        return {"_VERSION": MANIFEST_VERSION, "_KIND": int(self.kind), "_PARTITION": self.partition,
                "_BUCKET": self.bucket, "_TOTAL_BUCKETS": self.total_buckets,
                "_FILE": self.file.to_avro()}

    @staticmethod
    def from_avro(record: dict) -> "ManifestEntry":
        check_manifest_version(record["_VERSION"])
        return ManifestEntry(FileKind(record["_KIND"]), record["_PARTITION"], record["_BUCKET"],
                             record["_TOTAL_BUCKETS"], DataFileMeta.from_avro(record["_FILE"]))


def check_manifest_version(version: int) -> None:
    if version == 1:
        raise TableFormatError("The table was written by a Paimon version older than 0.5 "
                               "(manifest _VERSION 1); recreate the table with a newer Paimon.")
    if version != MANIFEST_VERSION:
        raise TableFormatError(f"Unsupported manifest _VERSION {version}; expected {MANIFEST_VERSION}.")


def merge_entries(entries: Iterable[ManifestEntry]) -> dict[tuple, ManifestEntry]:
    """Live files after applying entries in order: DELETE removes the matching ADD.

    Returns ADD entries keyed by identifier, plus DELETE entries whose ADD was not among the
    inputs (the caller decides whether those are conflicts or refer to older manifests).
    """
    merged: dict[tuple, ManifestEntry] = {}
    for entry in entries:
        key = entry.identifier()
        if entry.kind == FileKind.ADD:
            if key in merged:
                raise TableFormatError(f"Trying to add file {entry.file.file_name} which is already added.")
            merged[key] = entry
        elif key in merged and merged[key].kind == FileKind.ADD:
            del merged[key]
        else:
            merged[key] = entry
    return merged


def live_files(entries: Iterable[ManifestEntry]) -> list[ManifestEntry]:
    """ADD entries still live once every DELETE has been applied; an unmatched DELETE is a conflict."""
    merged = merge_entries(entries)
    stray = [e for e in merged.values() if e.kind == FileKind.DELETE]
    if stray:
        raise FileDeletionConflict(
            f"File deletion conflicts detected! Give up committing. {len(stray)} file(s) to delete "
            f"are not live, e.g. {stray[0].file.file_name} (bucket {stray[0].bucket}).")
    return list(merged.values())


MANIFEST_ENTRY_AVRO_SCHEMA = {
    "type": "record", "name": "record", "namespace": "org.apache.paimon.avro.generated",
    "fields": [
        {"name": "_VERSION", "type": "int"},
        {"name": "_KIND", "type": "int"},
        {"name": "_PARTITION", "type": "bytes"},
        {"name": "_BUCKET", "type": "int"},
        {"name": "_TOTAL_BUCKETS", "type": "int"},
        {"name": "_FILE", "type": DATA_FILE_META_AVRO_SCHEMA},
    ]}
