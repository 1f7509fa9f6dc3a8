"""Batch write API (shaped like pypaimon's): ``BatchWriteBuilder`` -> ``BatchTableWrite`` / ``BatchTableCommit``."""

from __future__ import annotations

import uuid
from typing import Any, Sequence

import pandas as pd
import pyarrow as pa

from paimon_py.exceptions import SchemaError
from paimon_py.operation.commit_message import CommitMessage
from paimon_py.snapshot.snapshot import Snapshot


class BatchWriteBuilder:
    """Creates a writer and a committer sharing one fresh commit user."""

    def __init__(self, table):
        self.table = table
        self.commit_user = str(uuid.uuid4())
        self.static_partition: dict[str, Any] | None = None

    def overwrite(self, static_partition: dict[str, Any] | None = None) -> "BatchWriteBuilder":
        """Make the commit replace what it writes over: the partitions the new rows are in
        (``dynamic-partition-overwrite``, the default, on a partitioned table), else the table or
        the partitions matching ``static_partition`` (``FileStoreCommit.overwrite``)."""
        unknown = [k for k in (static_partition or {}) if k not in self.table.partition_keys]
        if unknown:
            raise SchemaError(f"Overwrite partition spec names non-partition columns {unknown}; "
                              f"partition keys are {self.table.partition_keys}.")
        self.static_partition = dict(static_partition or {})
        return self

    def new_write(self) -> "BatchTableWrite":
        return BatchTableWrite(self.table, overwrite=self.static_partition is not None)

    def new_commit(self) -> "BatchTableCommit":
        return BatchTableCommit(self.table, self.commit_user, self.static_partition)


class BatchTableWrite:
    """Buffers rows; ``prepare_commit`` writes data files and returns their commit messages."""

    def __init__(self, table, overwrite: bool = False):
        self._write = table.new_file_store_write(ignore_previous_files=overwrite)

    def write_arrow(self, data: pa.Table | pa.RecordBatch) -> None:
        if isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        self._write.write(data)

    def write_arrow_batch(self, batch: pa.RecordBatch) -> None:
        self.write_arrow(batch)

    def write_pandas(self, df: pd.DataFrame) -> None:
        self._write.write(pa.Table.from_pandas(df, preserve_index=False))

    def prepare_commit(self) -> list[CommitMessage]:
        return self._write.prepare_commit()

    def close(self) -> None:
        if self._write is not None:
            self._write.close()
        self._write = None


class BatchTableCommit:
    """Commits messages as one snapshot (OVERWRITE when the builder asked for it; none for an
    overwrite that replaces nothing), then expires old snapshots per the table's ``snapshot.*``
    options, as Paimon's committers do."""

    def __init__(self, table, commit_user: str, static_partition: dict[str, Any] | None):
        self.table = table
        self._commit = table.new_file_store_commit(commit_user)
        self.static_partition = static_partition
        # Built up front so that settings it refuses fail before anything is committed.
        self._expire = None if table.options.write_only else table.new_expire_snapshots()

    def commit(self, messages: Sequence[CommitMessage]) -> list[Snapshot]:
        if self.static_partition is None:
            snapshots = self._commit.commit(messages)
        else:
            keys = self.table.partition_keys
            spec = self.static_partition
            indexes = [(keys.index(k), v) for k, v in spec.items()]
            predicate = (lambda p: all(p[i] == v for i, v in indexes)) if spec else None
            snapshot = self._commit.overwrite(predicate, messages)
            snapshots = [] if snapshot is None else [snapshot]
        if self._expire is not None:
            self._expire.expire()
        return snapshots

    def close(self) -> None:
        self._commit = None
