"""Deletion-vector index files ``index/index-<uuid>-<n>`` (format §10).

Layout: one version byte (1), then per data file ``[int32 size][int32 magic][roaring bitmap]
[int32 CRC32 of magic and bitmap]``, all big-endian except the bitmap (portable, little-endian);
``size`` counts the magic and the bitmap. A ``DeletionVectorMeta`` points at the size field.
Positions are 0-based rows of the data file; a vector is a sorted numpy array of them (uint32).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from paimon_py.deletionvectors import roaring
from paimon_py.exceptions import TableFormatError, UnsupportedFeatureError
from paimon_py.fs.file_io import FileIO
from paimon_py.io.path_factory import FileStorePathFactory
from paimon_py.manifest.index_manifest import (DELETION_VECTORS_INDEX, DeletionVectorMeta, IndexFileMeta,
                                               IndexManifestEntry)

VERSION = 1
MAGIC = 1581511376
MAGIC_64 = 1681511377


@dataclass(frozen=True)
class DeletionFile:
    """One data file's deletion vector: the index file and the range in it."""

    path: str
    offset: int
    length: int
    cardinality: int | None


def serialize_vector(positions: np.ndarray) -> bytes:
    """Magic and bitmap (what ``size`` and the checksum cover)."""
    return struct.pack(">i", MAGIC) + roaring.serialize(positions)


def deserialize_vector(data: bytes | memoryview) -> np.ndarray:
    magic = struct.unpack_from(">i", data, 0)[0]
    if magic == MAGIC_64:
        raise UnsupportedFeatureError("64-bit deletion vectors (deletion-vectors.bitmap64=true) are "
                                      "not supported by paimon_py; use 32-bit deletion vectors.")
    if magic != MAGIC:
        raise TableFormatError(f"Invalid deletion vector magic number {magic}; expected {MAGIC}.")
    return roaring.deserialize(memoryview(data)[4:])


class DeletionVectorsIndexFile:
    """Writes and reads the deletion-vector index files of one table."""

    def __init__(self, file_io: FileIO, path_factory: FileStorePathFactory):
        self.file_io = file_io
        self.path_factory = path_factory

    def path(self, meta: IndexFileMeta) -> str:
        return meta.external_path or self.path_factory.index_file_path(meta.file_name)

    def write(self, vectors: Mapping[str, np.ndarray]) -> IndexFileMeta:
        """One index file holding every given vector (one bucket's), in the given order."""
        parts, metas, offset = [bytes([VERSION])], [], 1
        for file_name, positions in vectors.items():
            data = serialize_vector(positions)
            metas.append(DeletionVectorMeta(file_name, offset, len(data), len(positions)))
            parts += [struct.pack(">i", len(data)), data, struct.pack(">I", zlib.crc32(data))]
            offset += len(data) + 8
        name = self.path_factory.new_index_file()
        content = b"".join(parts)
        self.file_io.write_bytes(self.path_factory.index_file_path(name), content)
        return IndexFileMeta(DELETION_VECTORS_INDEX, name, len(content), len(metas), tuple(metas))

    def read_all(self, meta: IndexFileMeta) -> dict[str, np.ndarray]:
        """Every vector of an index file, by data file name."""
        content = memoryview(self.file_io.read_bytes(self.path(meta)))
        if content[0] != VERSION:
            raise TableFormatError(f"Deletion vector index file {meta.file_name} has version "
                                   f"{content[0]}; expected {VERSION}.")
        return {d.data_file_name: _vector_at(content, d.offset, d.length, meta.file_name)
                for d in meta.dv_ranges or ()}

    def deletion_files(self, entries: Sequence[IndexManifestEntry]) -> dict[tuple[bytes, int, str], DeletionFile]:
        """(partition, bucket, data file name) -> its deletion vector, from an index manifest."""
        result = {}
        for entry in entries:
            meta = entry.index_file
            if meta.index_type == DELETION_VECTORS_INDEX:
                path = self.path(meta)
                for d in meta.dv_ranges or ():
                    result[(entry.partition, entry.bucket, d.data_file_name)] = DeletionFile(
                        path, d.offset, d.length, d.cardinality)
        return result

    def read(self, deletion_file: DeletionFile) -> np.ndarray:
        """One vector, reading only its range."""
        with self.file_io.open_input(deletion_file.path) as stream:
            stream.seek(deletion_file.offset)
            blob = stream.read(deletion_file.length + 8)
        return _vector_at(memoryview(blob), 0, deletion_file.length, deletion_file.path)


def _vector_at(content: memoryview, offset: int, length: int, where: str) -> np.ndarray:
    size = struct.unpack_from(">i", content, offset)[0]
    if size != length:
        raise TableFormatError(f"Deletion vector in {where} at {offset} has size {size}; the index "
                               f"says {length}.")
    data = content[offset + 4:offset + 4 + length]
    checksum = struct.unpack_from(">I", content, offset + 4 + length)[0]
    if checksum != zlib.crc32(data):
        raise TableFormatError(f"Deletion vector in {where} at {offset} fails its CRC32 check.")
    return deserialize_vector(data)
