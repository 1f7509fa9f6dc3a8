"""paimon_py: a pure-Python implementation of the Apache Paimon table format."""

from paimon_py.catalog import CatalogFactory, FileSystemCatalog
from paimon_py.operation.file_store_commit import CommitConflictError
from paimon_py.schema import Schema, SchemaChange
from paimon_py.version import __version__

__all__ = ["CatalogFactory", "CommitConflictError", "FileSystemCatalog", "Schema", "SchemaChange", "__version__"]
