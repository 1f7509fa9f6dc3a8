"""The catalog options of a job (``--warehouse`` and ``--catalog_conf``) and the catalog each
operator opens from them.

The options travel with the PyFlink functions (schema evolution, router, writers, committer and
the source's reader), so every one of them opens the same warehouse on the same filesystem with
the same credentials, and the reader and the committer find the same ``PositionStore``.
"""

from __future__ import annotations

import uuid
from typing import Mapping, Optional

from operators.cdc.errors import UserError
from paimon_py.catalog import CATALOG_OPTIONS as PAIMON_CATALOG_OPTIONS
from paimon_py.config_option import OptionSet
from paimon_py.exceptions import OptionError

CATALOG_OPTIONS = OptionSet("--catalog_conf", PAIMON_CATALOG_OPTIONS, see="README, PostgreSQL CDC")
"""What ``--catalog_conf`` accepts: the filesystem catalog's options (``paimon_py.catalog``: the
warehouse and its FileIO's ``s3.*`` options), every other key refused."""


class InvalidCatalogOption(UserError, ValueError):
    """A ``--catalog_conf`` key this project does not know, a bad value, or a warehouse given twice."""


def catalog_options(warehouse: str, conf: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """``--warehouse`` and the ``--catalog_conf`` pairs as one checked options dict."""
    conf = dict(conf or {})
    try:
        CATALOG_OPTIONS.parse({"warehouse": warehouse, **conf})
    except OptionError as e:
        raise InvalidCatalogOption(str(e)) from e
    if conf.setdefault("warehouse", warehouse) != warehouse:
        raise InvalidCatalogOption(f"--catalog_conf warehouse={conf['warehouse']} differs from "
                                   f"--warehouse {warehouse} — give it once")
    return conf


def open_catalog(options: Mapping[str, str]):
    """The paimon_py catalog of a job's catalog options."""
    import paimon_py
    return paimon_py.CatalogFactory.create(dict(options))


class WarehouseNotWritable(UserError):
    """The job cannot create files in the warehouse (permissions, a read-only mount, credentials)."""


def check_writable(catalog) -> None:
    """Creates and deletes a small file in the warehouse; refuses a warehouse that takes none,
    before the job creates anything there or on the source's server."""
    probe = f"{catalog.warehouse}/.paimon-cdc-write-check-{uuid.uuid4().hex}"
    try:
        catalog.file_io.write_bytes(probe, b"")
        catalog.file_io.delete(probe)
    except OSError as e:
        raise WarehouseNotWritable(f"cannot write to the warehouse {catalog.warehouse} ({' '.join(str(e).split())}) — "
                                   f"make it writable (permissions, a read-only mount, credentials) or choose "
                                   f"another --warehouse") from e
