"""``ChangeBatch``: many row changes of one table, the unit that travels between operators.

Rows cross the Java/Python boundary as one pickled element per batch (design.md: one element per
row costs 30x or more), as an Arrow IPC stream; on a local run only the batch's number crosses, its
rows stay in the process (``batch_handover``) and are never serialised. A batch holds Arrow
columns for the table's schema plus the row kind of each row. A batch may carry columns or wider
types that the table gets only through a schema change still on its way; the writer waits for
that schema.

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
    arrow: pa.Table
    """The rows: the table's columns and ``_row_kind``."""

    @staticmethod
    def of(table: str, rows: pa.Table) -> "ChangeBatch":
        """``rows``: the table's columns and ``_row_kind`` (``int8``, checked)."""
        kind_type = rows.schema.field(ROW_KIND).type
        if kind_type != ARROW_TYPE:
            raise TypeError(f"ChangeBatch column {ROW_KIND} must be {ARROW_TYPE} (RowKind values), got {kind_type}")
        return ChangeBatch(table, rows)

    def rows(self) -> pa.Table:
        return self.arrow

    @property
    def num_rows(self) -> int:
        return self.arrow.num_rows

    @property
    def size(self) -> int:
        """The bytes of the buffers its rows hold (a slice's whole buffers)."""
        return self.arrow.get_total_buffer_size()

    def __reduce__(self):
        """Pickled as its number in this process's hand-over registry when that is on (a local
        run: ``operators/cdc/batch_handover.py``), else as an Arrow IPC stream of its rows (written
        only then: a batch that stays in the process is never serialised)."""
        handed_over = batch_handover.register(self, self.size)
        if handed_over is None:
            return _from_ipc, (self.table, _ipc(self.arrow))
        return batch_handover.take, handed_over


def _ipc(rows: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, rows.schema) as writer:
        writer.write_table(rows)
    return sink.getvalue()


def _from_ipc(table: str, ipc: pa.Buffer) -> ChangeBatch:
    return ChangeBatch(table, pa.ipc.open_stream(ipc).read_all())
