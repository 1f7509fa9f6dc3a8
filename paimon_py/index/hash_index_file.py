"""HASH index files ``index/index-<uuid>-<n>`` (format §10): the int32 key hashes of one
(partition, bucket) of a dynamic-bucket table, big-endian, no header; ``row_count`` = hashes.

The hash is Java's ``BinaryRow.hashCode()`` of the trimmed primary key (format §5), the one a
fixed-bucket table takes its bucket from (``paimon_py.bucket.key_hashes``).
"""

from __future__ import annotations

import numpy as np

from paimon_py.exceptions import TableFormatError
from paimon_py.fs.file_io import FileIO
from paimon_py.io.path_factory import FileStorePathFactory
from paimon_py.manifest.index_manifest import HASH_INDEX, IndexFileMeta

_BIG_ENDIAN_INT32 = np.dtype(">i4")


class HashIndexFile:
    """Writes and reads the HASH index files of one table."""

    def __init__(self, file_io: FileIO, path_factory: FileStorePathFactory):
        self.file_io = file_io
        self.path_factory = path_factory

    def write(self, hashes: np.ndarray) -> IndexFileMeta:
        """One new index file holding ``hashes`` (int32, any order)."""
        content = np.asarray(hashes, dtype=np.int32).astype(_BIG_ENDIAN_INT32).tobytes()
        name = self.path_factory.new_index_file()
        self.file_io.write_bytes(self.path_factory.index_file_path(name), content)
        return IndexFileMeta(HASH_INDEX, name, len(content), len(hashes))

    def read(self, meta: IndexFileMeta) -> np.ndarray:
        """The hashes of an index file (native int32)."""
        content = self.file_io.read_bytes(meta.external_path or self.path_factory.index_file_path(meta.file_name))
        if len(content) % 4:
            raise TableFormatError(f"HASH index file {meta.file_name} has {len(content)} bytes, not a "
                                   f"multiple of 4.")
        return np.frombuffer(content, dtype=_BIG_ENDIAN_INT32).astype(np.int32)
