"""``FileSystemCatalog``: databases and tables under a warehouse path (``<warehouse>/<db>.db/<table>``)."""

from __future__ import annotations

from typing import Sequence

import pyarrow.fs as pafs

from paimon_py.config_option import ConfigOption, OptionSet, enum
from paimon_py.exceptions import (DatabaseAlreadyExists, DatabaseNotFound, InvalidIdentifier, TableAlreadyExists,
                                  TableNotFound)
from paimon_py.fs.file_io import S3_CONFIG, FileIO
from paimon_py.schema.schema import Schema
from paimon_py.schema.schema_change import SchemaChange
from paimon_py.schema.schema_manager import SchemaManager
from paimon_py.table.file_store_table import FileStoreTable

DB_SUFFIX = ".db"

CATALOG_OPTIONS = OptionSet("catalog", [
    ConfigOption("warehouse", required=True,
                 description="The warehouse: a path or a URI (`s3://bucket/path`, `gs://`, `hdfs://`)"),
    ConfigOption("metastore", enum("filesystem", ignore_case=False, what="not supported",
                                   fix="use filesystem (the only catalog of paimon_py)"),
                 "filesystem", "The catalog: only `filesystem`"),
    *S3_CONFIG,
])
"""The filesystem catalog's options: the warehouse and the ``s3.*`` options of its FileIO (other
keys are kept for the tables' engines and ignored here)."""


class FileSystemCatalog:
    """A Paimon filesystem catalog over any ``pyarrow.fs`` filesystem."""

    def __init__(self, warehouse: str, filesystem: pafs.FileSystem | None = None,
                 options: dict[str, str] | None = None):
        """``warehouse`` is a path or URI; pass ``filesystem`` to use any other pyarrow filesystem;
        ``options``: the catalog options (the ``s3.*`` ones configure an ``s3://`` warehouse)."""
        if filesystem is None:
            self.file_io, self.warehouse = FileIO.for_uri(warehouse, options)
        else:
            self.file_io, self.warehouse = FileIO(filesystem), warehouse.rstrip("/")

    def database_path(self, name: str) -> str:
        return f"{self.warehouse}/{name}{DB_SUFFIX}"

    def table_path(self, identifier: str) -> str:
        database, table = _split_identifier(identifier)
        return f"{self.database_path(database)}/{table}"

    def list_databases(self) -> list[str]:
        names = self.file_io.list_names(self.warehouse)
        return sorted(n[: -len(DB_SUFFIX)] for n in names if n.endswith(DB_SUFFIX))

    def create_database(self, name: str, ignore_if_exists: bool = False, properties: dict | None = None) -> None:
        path = self.database_path(name)
        if self.file_io.exists(path):
            if ignore_if_exists:
                return
            raise DatabaseAlreadyExists(f"Database '{name}' already exists.")
        self.file_io.mkdirs(path)

    def list_tables(self, database: str) -> list[str]:
        self._require_database(database)
        path = self.database_path(database)
        return sorted(n for n in self.file_io.list_names(path)
                      if SchemaManager(self.file_io, f"{path}/{n}").list_ids())

    def create_table(self, identifier: str, schema: Schema, ignore_if_exists: bool = False) -> None:
        database, _ = _split_identifier(identifier)
        self._require_database(database)
        manager = SchemaManager(self.file_io, self.table_path(identifier))
        if manager.list_ids():
            if ignore_if_exists:
                return
            raise TableAlreadyExists(f"Table '{identifier}' already exists.")
        try:
            manager.create_table(schema)
        except FileExistsError:
            if not ignore_if_exists:
                raise TableAlreadyExists(f"Table '{identifier}' already exists.") from None

    def table_exists(self, identifier: str) -> bool:
        return bool(SchemaManager(self.file_io, self.table_path(identifier)).list_ids())

    def get_table(self, identifier: str) -> FileStoreTable:
        path = self.table_path(identifier)
        schema = SchemaManager(self.file_io, path).latest()
        if schema is None:
            raise TableNotFound(f"Table '{identifier}' does not exist (no schema under {path}/schema).")
        return FileStoreTable(self.file_io, path, identifier, schema)

    def alter_table(self, identifier: str, changes: Sequence[SchemaChange],
                    ignore_if_not_exists: bool = False) -> None:
        if ignore_if_not_exists and not self.table_exists(identifier):
            return
        self.get_table(identifier)
        SchemaManager(self.file_io, self.table_path(identifier)).commit_changes(changes)

    def drop_table(self, identifier: str, ignore_if_not_exists: bool = False) -> None:
        path = self.table_path(identifier)
        if not SchemaManager(self.file_io, path).list_ids():
            if ignore_if_not_exists:
                return
            raise TableNotFound(f"Table '{identifier}' does not exist.")
        self.file_io.delete_dir(path)

    def _require_database(self, name: str) -> None:
        if not self.file_io.is_dir(self.database_path(name)):
            raise DatabaseNotFound(f"Database '{name}' does not exist; create it with create_database.")


class CatalogFactory:
    """Entry point shaped like pypaimon's: ``CatalogFactory.create({"warehouse": path})``, plus
    Paimon's ``s3.*`` options for an ``s3://`` warehouse (``CATALOG_OPTIONS``)."""

    @staticmethod
    def create(options: dict[str, str], filesystem: pafs.FileSystem | None = None) -> FileSystemCatalog:
        CATALOG_OPTIONS.check_required(options)
        CATALOG_OPTIONS["metastore"].get(options)
        return FileSystemCatalog(options["warehouse"], filesystem, options)


def _split_identifier(identifier: str) -> tuple[str, str]:
    parts = identifier.split(".")
    if len(parts) != 2 or not all(parts):
        raise InvalidIdentifier(f"Table identifier '{identifier}' must look like 'database.table'.")
    return parts[0], parts[1]
