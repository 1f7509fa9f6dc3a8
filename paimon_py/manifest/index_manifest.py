"""Index manifests (format §10): the full set of a snapshot's index files, one Avro record each.

``IndexManifestFile.combine`` applies a commit's index changes as Java's
``IndexManifestFileHandler`` does for bucketed tables: per (partition, bucket, index type) a new
file replaces the previous one, a DELETE removes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from paimon_py.exceptions import TableFormatError
from paimon_py.fs.file_io import FileIO
from paimon_py.io.path_factory import FileStorePathFactory
from paimon_py.manifest.avro import decode_records, encode_records
from paimon_py.manifest.manifest_entry import FileKind

INDEX_MANIFEST_VERSION = 1
DELETION_VECTORS_INDEX = "DELETION_VECTORS"
HASH_INDEX = "HASH"


@dataclass(frozen=True)
class DeletionVectorMeta:
    """Where one data file's deletion vector lies in an index file (offset of its size field)."""

    data_file_name: str
    offset: int
    length: int
    cardinality: int | None


@dataclass(frozen=True)
class IndexFileMeta:
    index_type: str
    file_name: str
    file_size: int
    row_count: int
    """Hashes of a HASH index; deletion vectors of a DELETION_VECTORS index."""
    dv_ranges: tuple[DeletionVectorMeta, ...] | None = None
    external_path: str | None = None


@dataclass(frozen=True)
class IndexManifestEntry:
    kind: FileKind
    partition: bytes
    bucket: int
    index_file: IndexFileMeta

    def to_avro(self) -> dict:
        f = self.index_file
        ranges = None if f.dv_ranges is None else [
            {"f0": d.data_file_name, "f1": d.offset, "f2": d.length, "_CARDINALITY": d.cardinality}
            for d in f.dv_ranges]
        return {"_VERSION": INDEX_MANIFEST_VERSION, "_KIND": int(self.kind), "_PARTITION": self.partition,
                "_BUCKET": self.bucket, "_INDEX_TYPE": f.index_type, "_FILE_NAME": f.file_name,
                "_FILE_SIZE": f.file_size, "_ROW_COUNT": f.row_count, "_DELETIONS_VECTORS_RANGES": ranges}

    @staticmethod
    def from_avro(r: dict) -> "IndexManifestEntry":
        if r["_VERSION"] != INDEX_MANIFEST_VERSION:
            raise TableFormatError(f"Unsupported index manifest _VERSION {r['_VERSION']}; "
                                   f"expected {INDEX_MANIFEST_VERSION}.")
        ranges = r.get("_DELETIONS_VECTORS_RANGES")
        dv_ranges = None if ranges is None else tuple(
            DeletionVectorMeta(d["f0"], d["f1"], d["f2"], d.get("_CARDINALITY")) for d in ranges)
        index_file = IndexFileMeta(r["_INDEX_TYPE"], r["_FILE_NAME"], r["_FILE_SIZE"], r["_ROW_COUNT"],
                                   dv_ranges, r.get("_EXTERNAL_PATH"))
        return IndexManifestEntry(FileKind(r["_KIND"]), r["_PARTITION"], r["_BUCKET"], index_file)

    def bucket_key(self) -> tuple[bytes, int, str]:
        return self.partition, self.bucket, self.index_file.index_type


_DV_META_SCHEMA = {
    "type": "record", "name": "record__DELETIONS_VECTORS_RANGES",
    "fields": [{"name": "f0", "type": "string"}, {"name": "f1", "type": "int"},
               {"name": "f2", "type": "int"},
               {"name": "_CARDINALITY", "type": ["null", "long"], "default": None}]}

INDEX_MANIFEST_AVRO_SCHEMA = {
    "type": "record", "name": "record", "namespace": "org.apache.paimon.avro.generated",
    "fields": [
        {"name": "_VERSION", "type": "int"},
        {"name": "_KIND", "type": "int"},
        {"name": "_PARTITION", "type": "bytes"},
        {"name": "_BUCKET", "type": "int"},
        {"name": "_INDEX_TYPE", "type": "string"},
        {"name": "_FILE_NAME", "type": "string"},
        {"name": "_FILE_SIZE", "type": "long"},
        {"name": "_ROW_COUNT", "type": "long"},
        {"name": "_DELETIONS_VECTORS_RANGES", "type": ["null", {"type": "array", "items": _DV_META_SCHEMA}],
         "default": None},
    ]}
"""Java 1.0's fields (``IndexManifestEntry.SCHEMA`` with ``_VERSION``); readers match fields by name."""


class IndexManifestFile:
    """Reads and writes the index manifests of one table (in ``manifest/``)."""

    def __init__(self, file_io: FileIO, path_factory: FileStorePathFactory, codec: str):
        self.file_io = file_io
        self.path_factory = path_factory
        self.codec = codec

    def read(self, name: str | None) -> list[IndexManifestEntry]:
        if name is None:
            return []
        return self.file_io.read_parsed(self.path_factory.manifest_path(name), "index manifest",
                                        lambda data: [IndexManifestEntry.from_avro(r) for r in decode_records(data)])

    def write(self, entries: Sequence[IndexManifestEntry]) -> str:
        name = self.path_factory.new_index_manifest()
        data = encode_records(INDEX_MANIFEST_AVRO_SCHEMA, (e.to_avro() for e in entries), self.codec)
        self.file_io.write_bytes(self.path_factory.manifest_path(name), data)
        return name

    def combine(self, previous: str | None, changes: Sequence[IndexManifestEntry]) -> str:
        """A new index manifest: ``previous`` with ``changes`` applied (DELETEs first, then ADDs)."""
        entries = {e.bucket_key(): e for e in self.read(previous)}
        for entry in changes:
            if entry.kind == FileKind.DELETE:
                entries.pop(entry.bucket_key(), None)
        for entry in changes:
            if entry.kind == FileKind.ADD:
                entries[entry.bucket_key()] = entry
        return self.write(list(entries.values()))
