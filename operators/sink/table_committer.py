"""``TableCommitterLogic``: what the committer operator does, without Flink.

Committables wait (in the operator's keyed state) until their checkpoint completes; on ``C(n)``
everything with checkpoint id <= n is committed, one APPEND (and maybe COMPACT) snapshot per
table and checkpoint, identifier = checkpoint id, under the job's stable commit user, then old
snapshots are expired. Commits are idempotent: identifiers already in the table's snapshots for
this commit user are skipped (Paimon's ``filterCommitted``).

Source positions (``operators/source_position.py``) wait beside the committables: the position
of checkpoint ``n`` goes into the properties of each snapshot committed for ``n`` and, once
everything up to ``n`` is committed, is published for the source to acknowledge.

Another writer of the same table (``paimon-cdc compact``, another job) may have compacted or
deleted files this job's compaction replaces: the COMPACT part of a checkpoint is then refused by
the commit's conflict checks. Its APPEND part (the new data) is committed first and never
conflicts with a compaction, so no row is lost; the refused compaction's files are deleted and,
since the writers hold that compaction in their view of the bucket, the committer fails the job
once after committing everything else (``CompactionConflictNeedsRestart``, Paimon's failover on a
file conflict): the writers restart from the table as committed. A conflict while committing
restored state only discards the compaction (the writers restart from the table anyway).

After a restore (``R(n)``), pending committables are committed the same way. If that committed
anything, writers that restored concurrently may have read the table before it, so their
sequence numbers could fall behind the new files: the committer then fails the job once on
purpose, and on the next restart nothing is left to commit and every writer sees the table as
committed (Paimon's ``RestoreAndFailCommittableStateManager``).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Iterable, Optional, Union

from operators.cdc.source_position import PendingPosition, PositionStore, SourcePosition
from operators.sink.table_writer import Committable
from paimon_py.catalog import FileSystemCatalog
from paimon_py.exceptions import CommitConflictError
from paimon_py.operation.full_compaction import compaction_output_paths
from paimon_py.snapshot.snapshot import Snapshot


Pending = Union[Committable, PendingPosition]

LOG = logging.getLogger(__name__)


def _properties(position: Optional[SourcePosition]) -> Optional[dict[str, str]]:
    return {position.property_key: position.to_json()} if position else None


class RestoredCommitsNeedRestart(RuntimeError):
    """Raised once after committing restored committables, so writers restart on top of them."""


class CompactionConflictNeedsRestart(RuntimeError):
    """Raised after a commit whose compaction another writer's commit made obsolete (discarded),
    so the writers restart from the table."""


class TableCommitterLogic:
    def __init__(self, catalog: FileSystemCatalog, commit_user: str):
        self.catalog = catalog
        self.commit_user = commit_user
        self.positions = PositionStore.of(catalog)
        self._tables: dict[str, object] = {}
        self._commits: dict[str, object] = {}
        self.latest_snapshots: dict[str, int] = {}
        """Lake table -> the id of the newest snapshot this committer made in it."""
        self.latency_ms = 0
        """The last ``commit`` that made snapshots: from its start until its last snapshot was visible."""
        self.discarded: list[str] = []
        """Why compactions of the last ``commit`` were discarded (one line each)."""

    def commit(self, pending: Iterable[Pending], up_to: int,
               restoring: bool = False) -> tuple[list[Snapshot], list[Pending]]:
        """Commit pending committables with checkpoint id <= ``up_to``, publish the source
        positions up to there; returns the snapshots made and what is still pending. Raises
        ``CompactionConflictNeedsRestart`` afterwards if a compaction was discarded (not when
        ``restoring``)."""
        started = time.monotonic()
        self.discarded = []
        due, later = [], []
        for c in pending:
            (due if c.checkpoint_id <= up_to else later).append(c)
        positions = {p.checkpoint_id: p.position for p in due if isinstance(p, PendingPosition)}
        grouped: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
        for c in due:
            if isinstance(c, Committable):
                grouped[c.table][c.checkpoint_id].extend(c.messages)
        snapshots = []
        for name, by_checkpoint in grouped.items():
            table, commit = self._committer(name)
            for checkpoint_id in commit.filter_committed(sorted(by_checkpoint)):
                made = self._commit_checkpoint(name, by_checkpoint[checkpoint_id], checkpoint_id,
                                               _properties(positions.get(checkpoint_id)))
                if made:
                    self.latest_snapshots[name] = made[-1].id
                    self.latency_ms = int((time.monotonic() - started) * 1000)
                snapshots += made
            if not table.options.write_only:
                table.new_expire_snapshots().expire()
        if positions:
            self.positions.publish(positions[max(positions)])
        if self.discarded and not restoring:
            raise CompactionConflictNeedsRestart(
                "; ".join(self.discarded) + ". Their data is committed; restarting once so that the writers "
                "continue from the table (expected beside `paimon-cdc compact` or another writer; a job "
                "written with --table_conf write-only=true does not compact and never conflicts).")
        return snapshots, later

    def _commit_checkpoint(self, name: str, messages: list, checkpoint_id: int,
                           properties: Optional[dict[str, str]]) -> list[Snapshot]:
        """The APPEND snapshot of a checkpoint's new files, then the COMPACT snapshot of its
        compactions; a compaction that conflicts is discarded (its files deleted)."""
        table, commit = self._committer(name)
        made = commit.commit([m.appended() for m in messages], identifier=checkpoint_id, properties=properties)
        compactions = [m.compaction() for m in messages]
        try:
            return made + commit.commit(compactions, identifier=checkpoint_id, properties=properties)
        except CommitConflictError as conflict:
            for path in compaction_output_paths(table, compactions):
                table.file_io.delete(path)
            self.discarded.append(f"the compaction of {name} for checkpoint {checkpoint_id} was discarded: {conflict}")
            LOG.warning("%s", self.discarded[-1])
            return made

    def _committer(self, name: str):
        """The table and its committer; rebuilt when the table's schema changed (the committer
        keeps the table's live files cached between commits)."""
        table = self._tables.get(name)
        if table is None or table.schema_manager.list_ids()[-1] != table.schema.id:
            table = self.catalog.get_table(name)
            self._tables[name] = table
            self._commits[name] = table.new_file_store_commit(self.commit_user)
        return table, self._commits[name]

    def restore(self, pending: Iterable[Pending], restored_id: int) -> list[Pending]:
        """Commit what a restored state still holds; raise once if that changed the table."""
        snapshots, later = self.commit(pending, restored_id, restoring=True)
        if snapshots:
            raise RestoredCommitsNeedRestart(
                f"Committed {len(snapshots)} snapshot(s) restored from checkpoint {restored_id}; "
                f"restarting once so that every writer continues from them (expected, not an error).")
        return later
