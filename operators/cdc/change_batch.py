"""``ChangeBatch``: many row changes of one table, the unit that travels between operators.

Rows cross the Java/Python boundary as one pickled element per batch (design.md: one element per
row costs 30x or more); on a local run only the batch's number crosses, its rows stay in the
process (``batch_handover``). A batch holds Arrow columns for the table's schema plus the row kind of
each row. A batch may carry columns or wider types that the table gets only through a schema
change still on its way; the writer waits for that schema.

The row kind column ``_row_kind`` is ``int8`` holding Paimon's row kind byte (``RowKind``: 0 +I,
1 -U, 2 +U, 3 -D), from the decoders to the writer; nothing converts it on the way.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from operators.cdc import batch_handover
from paimon_py.data.row_kind import ARROW_TYPE

ROW_KIND = "_row_kind"
ROW_KIND_FIELD = pa.field(ROW_KIND, ARROW_TYPE, False)
"""The row kind column of every batch (``paimon_py.data.row_kind.RowKind`` values)."""


@dataclass
class ChangeBatch:
    table: str
    """Target table identifier, ``database.table``."""
    ipc: bytes
    """Arrow IPC stream of the rows: the table's columns and ``_row_kind``."""
    num_rows: int = 0

    @staticmethod
    def of(table: str, rows: pa.Table) -> "ChangeBatch":
        """``rows``: the table's columns and ``_row_kind`` (``int8``, checked)."""
        kind_type = rows.schema.field(ROW_KIND).type
        if kind_type != ARROW_TYPE:
            raise TypeError(f"ChangeBatch column {ROW_KIND} must be {ARROW_TYPE} (RowKind values), got {kind_type}")
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, rows.schema) as writer:
            writer.write_table(rows)
        return ChangeBatch(table, sink.getvalue().to_pybytes(), rows.num_rows)

    def rows(self) -> pa.Table:
        return pa.ipc.open_stream(self.ipc).read_all()

    @property
    def size(self) -> int:
        return len(self.ipc)

    def __reduce__(self):
        """Pickled as its number in this process's hand-over registry when that is on (a local
        run: ``operators/cdc/batch_handover.py``), else with its bytes."""
        handed_over = batch_handover.register(self, self.size)
        if handed_over is None:
            return ChangeBatch, (self.table, self.ipc, self.num_rows)
        return batch_handover.take, handed_over
