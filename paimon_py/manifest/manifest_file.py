"""``ManifestFile``: Avro files of manifest entries, rolled at ``manifest.target-file-size``."""

from __future__ import annotations

from typing import Sequence

from paimon_py.data.binary_row import BinaryRow
from paimon_py.fs.file_io import FileIO
from paimon_py.io.path_factory import FileStorePathFactory
from paimon_py.manifest.avro import decode_records, encode_records
from paimon_py.manifest.manifest_entry import (MANIFEST_ENTRY_AVRO_SCHEMA, FileKind,
                                               ManifestEntry)
from paimon_py.manifest.manifest_list import ManifestFileMeta
from paimon_py.stats.simple_stats import SimpleStats
from paimon_py.types import DataType


class ManifestFile:
    """Writes and reads manifest files of one table."""

    def __init__(self, file_io: FileIO, path_factory: FileStorePathFactory,
                 partition_types: Sequence[DataType], codec: str, target_file_size: int,
                 schema_id: int):
        self.file_io = file_io
        self.path_factory = path_factory
        self.partition_types = list(partition_types)
        self.codec = codec
        self.target_file_size = target_file_size
        self.schema_id = schema_id

    def read(self, file_name: str) -> list[ManifestEntry]:
        return self.file_io.read_parsed(self.path_factory.manifest_path(file_name), "manifest file",
                                        lambda data: [ManifestEntry.from_avro(r) for r in decode_records(data)])

    def write(self, entries: Sequence[ManifestEntry]) -> list[ManifestFileMeta]:
        """Write entries into one or more manifest files of about the target size."""
        metas: list[ManifestFileMeta] = []
        chunk = self._rows_per_file(entries)
        for start in range(0, len(entries), chunk):
            metas.append(self._write_one(entries[start:start + chunk]))
        return metas

    def _rows_per_file(self, entries: Sequence[ManifestEntry]) -> int:
        # An entry takes a few hundred bytes before compression and rarely under 200 after it,
        # so this keeps files at or below the target size.
        return max(1, self.target_file_size // 200)

    def _write_one(self, entries: Sequence[ManifestEntry]) -> ManifestFileMeta:
        name = self.path_factory.new_manifest_file()
        data = encode_records(MANIFEST_ENTRY_AVRO_SCHEMA, (e.to_avro() for e in entries), self.codec)
        self.file_io.write_bytes(self.path_factory.manifest_path(name), data)
        buckets = [e.bucket for e in entries]
        levels = [e.file.level for e in entries]
        row_ids = [e.file.first_row_id for e in entries]
        has_row_ids = bool(entries) and all(r is not None for r in row_ids)
        return ManifestFileMeta(
            file_name=name, file_size=len(data),
            num_added_files=sum(1 for e in entries if e.kind == FileKind.ADD),
            num_deleted_files=sum(1 for e in entries if e.kind == FileKind.DELETE),
            partition_stats=self._partition_stats(entries),
            schema_id=max((e.file.schema_id for e in entries), default=self.schema_id),
            min_bucket=min(buckets, default=None), max_bucket=max(buckets, default=None),
            min_level=min(levels, default=None), max_level=max(levels, default=None),
            min_row_id=min(row_ids) if has_row_ids else None,
            max_row_id=max(e.file.first_row_id + e.file.row_count - 1 for e in entries)
            if has_row_ids else None,
        )

    def _partition_stats(self, entries: Sequence[ManifestEntry]) -> SimpleStats:
        types = self.partition_types
        rows = [BinaryRow.deserialize(p, types) for p in {e.partition for e in entries}]
        mins, maxs, nulls = [], [], []
        for i in range(len(types)):
            values = [row[i] for row in rows if row[i] is not None]
            mins.append(min(values) if values else None)
            maxs.append(max(values) if values else None)
            nulls.append(len(rows) - len(values))
        return SimpleStats.of(mins, maxs, nulls, types)
