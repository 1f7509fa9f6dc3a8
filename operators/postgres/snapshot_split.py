"""Parallel snapshot reading: ``PostgresSnapshotSplit`` (a part of a table as of the reader's
snapshot) and ``PostgresSplitReader`` (reads splits in a split reader subtask).

The source's reader (parallelism 1) keeps the snapshot's transaction open and hands splits over in
key order (``PostgresChangeSource.next_splits``): a key range (``after``, ``last``] of
``scan.snapshot.chunk.size`` rows, or for a table without a primary key its ranges of pages, all
at once. A split reader imports the reader's exported snapshot in a transaction per split, so
every split reads the database as of the same instant, the one the stream continues from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from operators.cdc.change_batch import ChangeBatch
from operators.cdc.targets import Targets
from operators.postgres import replication as repl
from operators.postgres.replication import SourceTable
from operators.postgres.snapshot_reader import SnapshotReader
from operators.postgres.source_config import PostgresSourceConfig
from operators.postgres.table_mapping import TableMapping, table_mapping
from operators.postgres.types import TypeRegistry


@dataclass(frozen=True)
class PostgresSnapshotSplit:
    table: SourceTable
    """As the reader saw it when the snapshot began (the columns every split reads)."""
    snapshot: str
    """The reader's exported snapshot (valid while the reader's transaction is open)."""
    after: Optional[tuple[str, ...]] = None
    """Key range (``after``, ``last``], text values; None: unbounded. Tables with a primary key."""
    last: Optional[tuple[str, ...]] = None
    first_page: int = 0
    """Pages [``first_page``, ``first_page + pages``): tables without a primary key."""
    pages: int = 0


class PostgresSplitReader:
    """Reads ``PostgresSnapshotSplit``s into change batches (``SnapshotSplitReader``)."""

    def __init__(self, config: PostgresSourceConfig, targets: Targets, instance: str):
        """``instance``: the job submission's tag on its connections (see ``replication.connect``)."""
        self.config = config
        self.targets = targets
        self.conn = repl.connect(config, application_name=instance)
        self.registry = TypeRegistry(self.conn)
        self.mappings: dict[SourceTable, TableMapping] = {}

    def read(self, split: PostgresSnapshotSplit) -> list[ChangeBatch]:
        mapping = self._mapping(split.table)
        reader = SnapshotReader(self.conn, split.snapshot)
        try:
            if split.pages:
                rows = reader.pages(split.table, mapping.copy_columns, split.first_page, split.pages)
            else:
                rows = reader.range_by_key(split.table, mapping.copy_columns, split.after, split.last)
        finally:
            reader.end()
        return [mapping.batch_from_snapshot(rows)] if rows.num_rows else []

    def _mapping(self, table: SourceTable) -> TableMapping:
        if table not in self.mappings:
            self.mappings[table] = table_mapping(self.targets, table, self.registry, self.config.database)
        return self.mappings[table]

    def close(self) -> None:
        self.conn.close()
