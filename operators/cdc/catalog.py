"""The catalog options of a job (``--warehouse`` and ``--catalog_conf``) and the catalog each
operator opens from them.

The options travel with the PyFlink functions (schema evolution, router, writers, committer and
the source's reader), so every one of them opens the same warehouse on the same filesystem with
the same credentials, and the reader and the committer find the same ``PositionStore``.
"""

from __future__ import annotations

from typing import Mapping, Optional

from operators.cdc.errors import UserError
from paimon_py.fs.file_io import S3_OPTIONS

CATALOG_OPTIONS = ("warehouse", "metastore", *S3_OPTIONS)
"""What ``--catalog_conf`` accepts: the filesystem catalog and its FileIO options."""


class InvalidCatalogOption(UserError, ValueError):
    """A ``--catalog_conf`` key this project does not know, or a warehouse given twice."""


def catalog_options(warehouse: str, conf: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """``--warehouse`` and the ``--catalog_conf`` pairs as one checked options dict."""
    conf = dict(conf or {})
    unknown = sorted(set(conf) - set(CATALOG_OPTIONS))
    if unknown:
        raise InvalidCatalogOption(f"--catalog_conf {', '.join(unknown)}: unknown — the filesystem catalog "
                                   f"takes {', '.join(CATALOG_OPTIONS)}")
    if conf.get("metastore", "filesystem") != "filesystem":
        raise InvalidCatalogOption("--catalog_conf metastore: unsupported — only the filesystem catalog is supported")
    if conf.setdefault("warehouse", warehouse) != warehouse:
        raise InvalidCatalogOption(f"--catalog_conf warehouse={conf['warehouse']} differs from "
                                   f"--warehouse {warehouse} — give it once")
    return conf


def open_catalog(options: Mapping[str, str]):
    """The paimon_py catalog of a job's catalog options."""
    import paimon_py
    return paimon_py.CatalogFactory.create(dict(options))
