"""paimon_py: a pure-Python implementation of the Apache Paimon table format."""

from paimon_py.catalog import CatalogFactory, FileSystemCatalog
from paimon_py.exceptions import (CatalogError, CommitConflictError, CorruptFileError, DatabaseAlreadyExists,
                                  DatabaseNotFound, FileDeletionConflict, InvalidDataError, InvalidIdentifier,
                                  OptionError, PaimonError, SchemaChangeError, SchemaError, SnapshotNotFound,
                                  TableAlreadyExists, TableFormatError, TableNotFound, TagAlreadyExists,
                                  UnsupportedFeatureError)
from paimon_py.schema import Schema, SchemaChange
from paimon_py.version import __version__

__all__ = ["CatalogError", "CatalogFactory", "CommitConflictError", "CorruptFileError", "DatabaseAlreadyExists",
           "DatabaseNotFound", "FileDeletionConflict", "FileSystemCatalog", "InvalidDataError", "InvalidIdentifier",
           "OptionError", "PaimonError", "Schema", "SchemaChange", "SchemaChangeError", "SchemaError",
           "SnapshotNotFound", "TableAlreadyExists", "TableFormatError", "TableNotFound", "TagAlreadyExists",
           "UnsupportedFeatureError", "__version__"]
