"""paimon_py: a pure-Python implementation of the Apache Paimon table format."""

__version__ = "0.1.0"

from paimon_py.catalog import CatalogFactory, FileSystemCatalog  # noqa: E402
from paimon_py.operation.file_store_commit import CommitConflictError  # noqa: E402
from paimon_py.schema import Schema, SchemaChange  # noqa: E402

__all__ = ["CatalogFactory", "CommitConflictError", "FileSystemCatalog", "Schema", "SchemaChange"]
