"""What the binlog stream hands to the source: transactions (``BinlogTransaction``, a large one
in parts) of row changes (``RowsChange``) and statements (``Statement``), each whole one ending at
a ``BinlogPosition`` from which the stream can resume with the next transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Union

import pyarrow as pa

from operators.mysql.source_table import MySqlTable


@dataclass(frozen=True)
class BinlogPosition:
    file: str
    """Binlog file name, e.g. ``binlog.000003``."""
    pos: int
    """Byte offset in ``file`` where the next event starts."""
    gtid: str = ""
    """The GTID state after this point: MariaDB one ``domain-server-seq`` per domain
    (``0-101-7,1-5-3``), MySQL the executed set (``uuid:1-42``); empty without GTIDs."""

    def file_pos(self) -> tuple[int, int]:
        """Orders positions of one server: (file number, offset); a position known only by its
        GTID (no file yet) comes first."""
        return (int(self.file.rsplit(".", 1)[-1]), self.pos) if self.file else (0, self.pos)

    def to_dict(self) -> dict:
        return {"file": self.file, "pos": self.pos, "gtid": self.gtid}

    @staticmethod
    def from_dict(data: dict) -> "BinlogPosition":
        return BinlogPosition(data["file"], int(data["pos"]), data.get("gtid", ""))


@dataclass
class RowsChange:
    """The rows of one rows event (or of consecutive ones of the same table and kind)."""

    table: MySqlTable
    """As its TABLE_MAP describes it (names, types, primary key)."""
    kind: str
    """``insert``, ``update`` or ``delete``."""
    before: Optional[list[Optional[pa.Array]]] = None
    """Old row images (update, delete): one canonical array per column of ``table``; an update's
    may hold only some columns (None for the others: see ``whole_before``)."""
    after: Optional[list[pa.Array]] = None
    """New row images (insert, update)."""
    whole_before_of: Optional[Callable[[], list[pa.Array]]] = None
    """Decodes an update's old images again, whole, where ``before`` holds only some columns."""

    def whole_before(self) -> list[pa.Array]:
        """Every column of the old images."""
        return self.before if self.whole_before_of is None else self.whole_before_of()

    def __len__(self) -> int:
        images = self.after if self.after is not None else self.before
        return len(images[0]) if images else 0


@dataclass(frozen=True)
class Statement:
    """A statement logged as text (DDL, or DML under statement-based logging)."""

    schema: str
    """The session's default database when it ran (may be empty)."""
    sql: str


@dataclass
class BinlogTransaction:
    changes: list[Union[RowsChange, Statement]] = field(default_factory=list)
    """In binlog order; row changes only for the tables the stream was asked for."""
    end: Optional[BinlogPosition] = None
    """Resuming here continues with the next transaction."""
    gtid: str = ""
    """This transaction's GTID (``0-101-8``), empty without GTIDs."""
    timestamp_ms: int = 0
    """When it was committed (the events' header timestamp; a part's: its last rows event's)."""
    complete: bool = True
    """False for a part of a large transaction whose end comes later (``end`` then lies inside it)."""
