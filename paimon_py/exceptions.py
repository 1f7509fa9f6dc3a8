"""The errors paimon_py raises, under one root: ``PaimonError``.

Errors that used to be plain ``ValueError`` or ``NotImplementedError`` still derive from them,
so ``except ValueError`` keeps working.
"""


class PaimonError(Exception):
    """Root of the errors paimon_py raises."""


class SchemaError(PaimonError, ValueError):
    """A schema, or a reference to its columns, that is invalid."""


class SchemaChangeError(SchemaError):
    """A schema change that Paimon does not allow (a narrowing type, a renamed key column...)."""


class OptionError(PaimonError, ValueError):
    """A table or catalog option with an invalid value, or a combination paimon_py refuses."""


class InvalidDataError(PaimonError, ValueError):
    """Input rows that the table cannot take (missing columns, NULL keys, bad row kinds...)."""


class TableFormatError(PaimonError, ValueError):
    """Table files that paimon_py cannot read, or whose metadata contradicts itself."""


class CorruptFileError(TableFormatError):
    """A table metadata file (snapshot, schema, manifest) that cannot be parsed: truncated,
    overwritten, or not what its name says."""


class UnsupportedFeatureError(PaimonError, NotImplementedError):
    """A Paimon feature that paimon_py does not implement."""


class CommitConflictError(PaimonError, RuntimeError):
    """The commit cannot succeed against the current table state; nothing was made visible."""


class FileDeletionConflict(PaimonError):
    """A DELETE entry names a file that is not live (format §9 conflict detection)."""


class CatalogError(PaimonError):
    """A database or table that does not exist, or exists already."""


class InvalidIdentifier(CatalogError, ValueError):
    """A table identifier that is not ``database.table``."""


class DatabaseNotFound(CatalogError):
    pass


class DatabaseAlreadyExists(CatalogError):
    pass


class TableNotFound(CatalogError):
    pass


class TableAlreadyExists(CatalogError):
    pass


class TagAlreadyExists(PaimonError, ValueError):
    pass


class SnapshotNotFound(PaimonError, ValueError):
    """A snapshot or tag that an operation names does not exist (any more)."""
