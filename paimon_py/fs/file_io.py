"""``FileIO``: the file operations the table format needs, over any ``pyarrow.fs`` filesystem.

Local paths, ``file://``, ``s3://``, ``gs://`` and ``hdfs://`` URIs all resolve through
``pyarrow.fs.FileSystem.from_uri``. Snapshot and schema files must be created only if absent
(never renamed over an existing file): on a local filesystem this is atomic (``os.link`` of a
fully written temporary file), on S3 too (a conditional ``PUT``: ``s3_conditional.py``); other
object stores get a check-then-write, which is safe only with a single committer per table
(Paimon's rule for such stores without a catalog lock as well).

``s3://`` locations take Paimon's S3 options (``S3_CONFIG``, declared with
``paimon_py.config_option``: endpoint, credentials, region, path-style access), as the catalog
options pass them; without any, pyarrow's defaults apply (the
AWS credential chain: environment, profile, instance metadata).
"""

from __future__ import annotations

import os
import uuid
from typing import BinaryIO, Callable, Mapping, TypeVar

import pyarrow.fs as pafs

from paimon_py.config_option import BOOLEAN, ConfigOption, OptionSet
from paimon_py.exceptions import CorruptFileError
from paimon_py.fs.s3_conditional import S3ConditionalCreate

T = TypeVar("T")

CORRUPT_FILE_FIX = ("restore the file from a backup or a copy of the table, or roll the table back to a snapshot "
                    "that does not use it (paimon-cdc rollback <database.table> --to-snapshot N)")

S3_CONFIG = OptionSet("Paimon S3", [
    ConfigOption("s3.endpoint", description="S3 endpoint; `http://host:port` for an S3-compatible server"),
    ConfigOption("s3.access-key", description="Access key"),
    ConfigOption("s3.secret-key", description="Secret key"),
    ConfigOption("s3.session-token", description="Session token of temporary credentials"),
    ConfigOption("s3.region", description="Region"),
    ConfigOption("s3.path.style.access", BOOLEAN, "true",
                 "Path-style requests (`host/bucket/key`); `false`: virtual-hosted style"),
])
"""Paimon's S3 filesystem options; without keys, the AWS credential chain applies."""

S3_OPTIONS = S3_CONFIG.keys


class FileIO:
    """File operations on one ``pyarrow.fs`` filesystem; paths are filesystem paths, not URIs."""

    def __init__(self, filesystem: pafs.FileSystem, conditional: S3ConditionalCreate | None = None):
        """``conditional``: how an object store creates a file only if it is absent, where it can."""
        self.filesystem = filesystem
        self.is_local = isinstance(filesystem, pafs.LocalFileSystem)
        self.conditional = conditional

    @staticmethod
    def for_uri(uri: str, options: Mapping[str, str] | None = None) -> tuple["FileIO", str]:
        """The FileIO and the filesystem path for a warehouse location (path or URI);
        ``options``: catalog options, of which the ``s3.*`` ones (``S3_CONFIG``) configure
        ``s3://`` locations."""
        s3 = {k: v for k, v in (options or {}).items() if k.startswith("s3.")}
        S3_CONFIG.check_known(s3)
        if "://" not in uri:
            return FileIO(pafs.LocalFileSystem()), os.path.abspath(uri)
        scheme, rest = uri.split("://", 1)
        if scheme == "s3" and s3:
            return FileIO(_s3_filesystem(s3), S3ConditionalCreate(s3, _path_style(s3))), rest.rstrip("/")
        filesystem, path = pafs.FileSystem.from_uri(uri)
        return FileIO(filesystem, S3ConditionalCreate({}, _path_style({})) if scheme == "s3" else None), path

    def exists(self, path: str) -> bool:
        return self.filesystem.get_file_info(path).type != pafs.FileType.NotFound

    def is_dir(self, path: str) -> bool:
        return self.filesystem.get_file_info(path).type == pafs.FileType.Directory

    def file_size(self, path: str) -> int:
        info = self.filesystem.get_file_info(path)
        if info.type == pafs.FileType.NotFound:
            raise FileNotFoundError(path)
        return info.size

    def mkdirs(self, path: str) -> None:
        self.filesystem.create_dir(path, recursive=True)

    def list_names(self, directory: str) -> list[str]:
        """Names of the entries directly under ``directory`` ([] if it does not exist)."""
        selector = pafs.FileSelector(directory, allow_not_found=True, recursive=False)
        return [info.base_name for info in self.filesystem.get_file_info(selector)]

    def read_bytes(self, path: str) -> bytes:
        with self.filesystem.open_input_stream(path) as stream:
            return stream.read()

    def read_text(self, path: str) -> str:
        return self.read_bytes(path).decode("utf-8")

    def read_parsed(self, path: str, what: str, parse: Callable[[bytes], T]) -> T:
        """``parse`` of the file's bytes; a file it cannot parse (truncated, overwritten) raises
        ``CorruptFileError`` naming the file and what to do, never a parser's error."""
        data = self.read_bytes(path)
        try:
            return parse(data)
        except Exception as e:  # noqa: BLE001 - any parser error means the same: the file is damaged
            raise CorruptFileError(f"{what} {path} is corrupt or truncated ({len(data)} bytes; "
                                   f"{type(e).__name__}: {' '.join(str(e).split())[:200]}) — {CORRUPT_FILE_FIX}") from e

    def open_input(self, path: str) -> BinaryIO:
        return self.filesystem.open_input_file(path)

    def open_output(self, path: str) -> BinaryIO:
        return self.filesystem.open_output_stream(path)

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a new file or overwrite one (only for hint files and fresh unique names)."""
        if self.is_local:
            self._write_local_atomically(path, data, exclusive=False)
            return
        with self.filesystem.open_output_stream(path) as out:
            out.write(data)

    def write_text(self, path: str, text: str) -> None:
        self.write_bytes(path, text.encode("utf-8"))

    def try_create(self, path: str, data: bytes) -> bool:
        """Create ``path`` with ``data`` if it does not exist; False if it already existed."""
        if self.is_local:
            return self._write_local_atomically(path, data, exclusive=True)
        if self.exists(path):
            return False
        if self.conditional is not None:
            return self.conditional.create(path, data)
        with self.filesystem.open_output_stream(path) as out:
            out.write(data)
        return True

    def delete(self, path: str) -> None:
        """Delete a file; a missing file is not an error."""
        try:
            self.filesystem.delete_file(path)
        except FileNotFoundError:
            pass

    def delete_dir(self, path: str) -> None:
        if self.exists(path):
            self.filesystem.delete_dir(path)

    def _write_local_atomically(self, path: str, data: bytes, exclusive: bool) -> bool:
        directory, name = os.path.split(path)
        os.makedirs(directory, exist_ok=True)
        temporary = os.path.join(directory, f".{name}.{uuid.uuid4()}.tmp")
        with open(temporary, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            if not exclusive:
                os.replace(temporary, path)
                return True
            try:
                os.link(temporary, path)
                return True
            except FileExistsError:
                return False
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)


def _path_style(options: Mapping[str, str]) -> bool:
    return S3_CONFIG["s3.path.style.access"].get(options)


def _s3_filesystem(options: Mapping[str, str]) -> pafs.S3FileSystem:
    path_style = _path_style(options)
    return pafs.S3FileSystem(
        endpoint_override=options.get("s3.endpoint"), access_key=options.get("s3.access-key"),
        secret_key=options.get("s3.secret-key"), session_token=options.get("s3.session-token"),
        region=options.get("s3.region"), force_virtual_addressing=not path_style)
