"""``TableWriterLogic``: what the writer operator does, without Flink.

Holds one ``FileStoreWrite`` per target table; writes change batches; on the pre-barrier signal
``B(n)`` flushes every table and returns its committables for checkpoint ``n``. When a batch
has a column the table lacks, or a type wider than the table's, its schema change is still on
its way (schema evolution runs in its own operator): the writer flushes what it has under the
old schema (those messages wait for the next barrier) and waits for the table to fit
(``operators/sink/schema_wait.py``). A dynamic-bucket table's rows come with the bucket their
assigner gave them (``ASSIGNED_BUCKET``) and whether it placed their keys now (``NEW_KEY``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from operators.cdc.change_batch import ROW_KIND, ChangeBatch
from operators.sink.bucket_router import ASSIGNED_BUCKET, NEW_KEY
from operators.sink.schema_wait import SchemaWait, unfit_columns
from paimon_py.catalog import FileSystemCatalog
from paimon_py.mergetree.write_stats import WriteStats
from paimon_py.operation.commit_message import CommitMessage
from paimon_py.types import to_arrow_type

@dataclass
class Committable:
    """The files one writer produced for one table and checkpoint."""

    table: str
    checkpoint_id: int
    messages: list[CommitMessage] = field(default_factory=list)


class TableWriterLogic:
    def __init__(self, catalog: FileSystemCatalog, schema_retry_interval_s: float = 0.5,
                 schema_retry_max: int = 100):
        self.catalog = catalog
        self.schema_wait = SchemaWait(catalog, schema_retry_interval_s, schema_retry_max)
        self.writes: dict[str, object] = {}
        self.tables: dict[str, object] = {}
        self.held: dict[str, list[CommitMessage]] = {}

    def write(self, batch: ChangeBatch) -> None:
        self.write_rows(batch.table, batch.rows())

    def write_rows(self, name: str, rows: pa.Table) -> None:
        """Rows of table ``name`` as a ``ChangeBatch`` holds them (with ``ASSIGNED_BUCKET`` and
        ``NEW_KEY`` for a dynamic-bucket table)."""
        buckets = new_keys = None
        if ASSIGNED_BUCKET in rows.column_names:
            buckets = rows.column(ASSIGNED_BUCKET).to_numpy()
            rows = rows.drop_columns([ASSIGNED_BUCKET])
        if NEW_KEY in rows.column_names:
            new_keys = rows.column(NEW_KEY).to_numpy(zero_copy_only=False)
            rows = rows.drop_columns([NEW_KEY])
        data = rows.drop_columns([ROW_KIND])
        table = self._table_for(name, data.schema)
        for column in table.schema.fields:  # columns the source no longer sends (a dropped column)
            if column.name not in data.column_names:
                data = data.append_column(column.name, pa.nulls(data.num_rows, to_arrow_type(column.type)))
        self.writes[name].write(data, rows.column(ROW_KIND), buckets, new_keys)

    def prepare_commit(self, checkpoint_id: int) -> list[Committable]:
        """Flush everything (pre-barrier); one committable per table that has something."""
        out = []
        for name in sorted(set(self.writes) | set(self.held)):
            messages = self.held.pop(name, [])
            if name in self.writes:
                messages += self.writes[name].prepare_commit(wait_compaction=False)
            if messages:
                out.append(Committable(name, checkpoint_id, messages))
        return out

    def stats(self) -> WriteStats:
        """paimon_py's ``WriteStats`` of every table, added up (totals survive a schema change)."""
        total = WriteStats()
        for write in self.writes.values():
            total = total.plus(write.stats())
        return total

    def close(self) -> None:
        for write in self.writes.values():
            write.close()
        self.writes.clear()

    def _table_for(self, name: str, schema: pa.Schema):
        table = self.tables.get(name)
        if table is not None and not unfit_columns(schema, table.schema):
            return table
        previous = None
        if table is not None:  # a newer schema: keep what was written under the old one
            previous = self.writes.pop(name)
            self.held.setdefault(name, []).extend(previous.prepare_commit(wait_compaction=True))
        table = self.schema_wait.table(name, schema)
        self.tables[name] = table
        self.writes[name] = table.new_file_store_write()
        if previous is not None:
            self.writes[name].take_over(previous)
            previous.close()
        return table
