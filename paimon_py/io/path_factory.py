"""``FileStorePathFactory``: where every file of a table lives and how new files are named (format §1)."""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict


class FileStorePathFactory:
    """Paths of one table. One instance hands out unique names: ``<prefix><uuid>-<counter><suffix>``,
    counting from 0 for each prefix and suffix, as Paimon numbers data, changelog and manifest files."""

    def __init__(self, table_path: str, data_file_prefix: str = "data-",
                 changelog_file_prefix: str = "changelog-", file_format: str = "parquet",
                 changelog_file_format: str | None = None):
        self.table_path = table_path
        self.manifest_dir = f"{table_path}/manifest"
        self.data_file_prefix = data_file_prefix
        self.changelog_file_prefix = changelog_file_prefix
        self.file_format = file_format
        self.changelog_file_format = changelog_file_format or file_format
        self._uuid = str(uuid.uuid4())
        self._counters: defaultdict[tuple[str, str], itertools.count] = defaultdict(itertools.count)

    def _next_name(self, prefix: str, suffix: str = "") -> str:
        return f"{prefix}{self._uuid}-{next(self._counters[prefix, suffix])}{suffix}"

    def new_manifest_file(self) -> str:
        return self._next_name("manifest-")

    def new_manifest_list(self) -> str:
        return self._next_name("manifest-list-")

    def new_index_manifest(self) -> str:
        return self._next_name("index-manifest-")

    def new_index_file(self) -> str:
        return self._next_name("index-")

    def index_file_path(self, name: str) -> str:
        return f"{self.table_path}/index/{name}"

    def new_data_file(self) -> str:
        return self._next_name(self.data_file_prefix, f".{self.file_format}")

    def new_changelog_file(self) -> str:
        return self._next_name(self.changelog_file_prefix, f".{self.changelog_file_format}")

    def manifest_path(self, name: str) -> str:
        return f"{self.manifest_dir}/{name}"

    def bucket_path(self, partition_path: str, bucket: int) -> str:
        bucket_dir = "bucket-postpone" if bucket == -2 else f"bucket-{bucket}"
        if partition_path:
            return f"{self.table_path}/{partition_path}/{bucket_dir}"
        return f"{self.table_path}/{bucket_dir}"
