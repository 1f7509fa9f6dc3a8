"""Reading and writing Avro object container files for manifests (fastavro)."""

from __future__ import annotations

import io
from typing import Iterable

import fastavro

_CODECS = {"zstd": "zstandard", "none": "null", "null": "null", "deflate": "deflate",
           "snappy": "snappy", "bzip2": "bzip2", "xz": "xz"}


def avro_codec(manifest_compression: str) -> str:
    """Avro codec name for Paimon's ``manifest.compression`` option value."""
    return _CODECS[manifest_compression]


def encode_records(schema: dict, records: Iterable[dict], codec: str) -> bytes:
    buffer = io.BytesIO()
    fastavro.writer(buffer, fastavro.parse_schema(schema), records, codec=codec)
    return buffer.getvalue()


def decode_records(data: bytes) -> list[dict]:
    return list(fastavro.reader(io.BytesIO(data)))
