"""``ManifestList`` and ``ManifestFileMeta``: the Avro list of manifests a snapshot points at (format §4.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from paimon_py.fs.file_io import FileIO
from paimon_py.io.path_factory import FileStorePathFactory
from paimon_py.manifest.avro import decode_records, encode_records
from paimon_py.manifest.manifest_entry import check_manifest_version
from paimon_py.stats.simple_stats import SimpleStats, stats_avro_schema


@dataclass(frozen=True)
class ManifestFileMeta:
    file_name: str
    file_size: int
    num_added_files: int
    num_deleted_files: int
    partition_stats: SimpleStats
    schema_id: int
    min_bucket: int | None = None
    max_bucket: int | None = None
    min_level: int | None = None
    max_level: int | None = None
    min_row_id: int | None = None
    max_row_id: int | None = None

    def to_avro(self) -> dict:
        return {"_VERSION": 2, "_FILE_NAME": self.file_name, "_FILE_SIZE": self.file_size,
                "_NUM_ADDED_FILES": self.num_added_files,
                "_NUM_DELETED_FILES": self.num_deleted_files,
                "_PARTITION_STATS": self.partition_stats.to_avro(), "_SCHEMA_ID": self.schema_id,
                "_MIN_BUCKET": self.min_bucket, "_MAX_BUCKET": self.max_bucket,
                "_MIN_LEVEL": self.min_level, "_MAX_LEVEL": self.max_level,
                "_MIN_ROW_ID": self.min_row_id, "_MAX_ROW_ID": self.max_row_id}

    @staticmethod
    def from_avro(r: dict) -> "ManifestFileMeta":
        check_manifest_version(r["_VERSION"])
        return ManifestFileMeta(
            r["_FILE_NAME"], r["_FILE_SIZE"], r["_NUM_ADDED_FILES"], r["_NUM_DELETED_FILES"],
            SimpleStats.from_avro(r["_PARTITION_STATS"]), r["_SCHEMA_ID"],
            r.get("_MIN_BUCKET"), r.get("_MAX_BUCKET"), r.get("_MIN_LEVEL"), r.get("_MAX_LEVEL"),
            r.get("_MIN_ROW_ID"), r.get("_MAX_ROW_ID"))


MANIFEST_FILE_META_AVRO_SCHEMA = {
    "type": "record", "name": "record", "namespace": "org.apache.paimon.avro.generated",
    "fields": [
        {"name": "_VERSION", "type": "int"},
        {"name": "_FILE_NAME", "type": "string"},
        {"name": "_FILE_SIZE", "type": "long"},
        {"name": "_NUM_ADDED_FILES", "type": "long"},
        {"name": "_NUM_DELETED_FILES", "type": "long"},
        {"name": "_PARTITION_STATS", "type": stats_avro_schema("record__PARTITION_STATS")},
        {"name": "_SCHEMA_ID", "type": "long"},
        {"name": "_MIN_BUCKET", "type": ["null", "int"], "default": None},
        {"name": "_MAX_BUCKET", "type": ["null", "int"], "default": None},
        {"name": "_MIN_LEVEL", "type": ["null", "int"], "default": None},
        {"name": "_MAX_LEVEL", "type": ["null", "int"], "default": None},
        {"name": "_MIN_ROW_ID", "type": ["null", "long"], "default": None},
        {"name": "_MAX_ROW_ID", "type": ["null", "long"], "default": None},
    ]}


class ManifestList:
    """Writes and reads manifest list files; returns exact sizes for the snapshot."""

    def __init__(self, file_io: FileIO, path_factory: FileStorePathFactory, codec: str):
        self.file_io = file_io
        self.path_factory = path_factory
        self.codec = codec

    def write(self, metas: Sequence[ManifestFileMeta]) -> tuple[str, int]:
        name = self.path_factory.new_manifest_list()
        data = encode_records(MANIFEST_FILE_META_AVRO_SCHEMA, (m.to_avro() for m in metas), self.codec)
        self.file_io.write_bytes(self.path_factory.manifest_path(name), data)
        return name, len(data)

    def read(self, name: str) -> list[ManifestFileMeta]:
        return self.file_io.read_parsed(self.path_factory.manifest_path(name), "manifest list",
                                        lambda data: [ManifestFileMeta.from_avro(r) for r in decode_records(data)])
