"""What the MySQL/MariaDB source knows about a source table: ``MySqlType``, ``MySqlColumn`` and
``MySqlTable``.

Two places describe a table and both produce these: ``information_schema`` at start (which alone
knows a TINYINT's display width, so ``tinyint(1)`` can become BOOLEAN) and each binlog TABLE_MAP
event with ``binlog_row_metadata=FULL`` (names, types, signedness, charsets, ENUM/SET values,
primary key: the shape of the rows that follow it, whatever the table looks like now). The type
mapping (``operators/mysql/types.py``) and the value decoders take a ``MySqlType`` whichever
place it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class MySqlType:
    name: str
    """Lower-case base type as information_schema's ``DATA_TYPE`` spells it: ``tinyint``, ``int``,
    ``bigint``, ``decimal``, ``varchar``, ``datetime``, ``enum``, ``set``, ``bit``, ``json``,
    ``geometry``, ``uuid``, ``inet6``, ... (MariaDB's JSON is ``longtext`` with a JSON check)."""
    unsigned: bool = False
    length: Optional[int] = None
    """CHAR/VARCHAR: characters; BINARY/VARBINARY: bytes; BIT: bits; integer types: the display
    width where known (information_schema only; ``tinyint(1)`` -> 1)."""
    precision: Optional[int] = None
    """DECIMAL: digits."""
    scale: Optional[int] = None
    """DECIMAL: digits after the point."""
    fsp: int = 0
    """TIME/DATETIME/TIMESTAMP: fractional second digits (0-6)."""
    charset: Optional[str] = None
    """Character set of a text column (``utf8mb4``, ``latin1``, ``binary``, ...)."""
    elements: tuple[str, ...] = ()
    """ENUM/SET: the allowed values, in order."""


@dataclass(frozen=True)
class MySqlColumn:
    name: str
    type: MySqlType
    nullable: bool = True


@dataclass(frozen=True)
class MySqlTable:
    database: str
    name: str
    columns: tuple[MySqlColumn, ...]
    primary_keys: tuple[str, ...] = ()

    @property
    def qualified(self) -> str:
        return f"`{self.database}`.`{self.name}`"

    @property
    def key(self) -> str:
        """``database.table``: how the source's state and logs name it."""
        return f"{self.database}.{self.name}"
