"""``ChangeBatch``: many row changes of one table, the unit that travels between operators.

Rows cross the Java/Python boundary as one pickled element per batch (design.md: one element per
row costs 30x or more). A batch holds Arrow columns for the table's schema plus the row kind of
each row (``+I``, ``-U``, ``+U``, ``-D``). A batch may carry columns or wider types that the table
gets only through a schema change still on its way; the writer waits for that schema.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

ROW_KIND = "_row_kind"


@dataclass
class ChangeBatch:
    table: str
    """Target table identifier, ``database.table``."""
    ipc: bytes
    """Arrow IPC stream of the rows: the table's columns and ``_row_kind``."""

    @staticmethod
    def of(table: str, rows: pa.Table) -> "ChangeBatch":
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, rows.schema) as writer:
            writer.write_table(rows)
        return ChangeBatch(table, sink.getvalue().to_pybytes())

    def rows(self) -> pa.Table:
        return pa.ipc.open_stream(self.ipc).read_all()

    @property
    def size(self) -> int:
        return len(self.ipc)
