"""The PyFlink functions of the sink: change batches -> writer -> committer, plus schema evolution.

Each runs behind the checkpoint-signal bridge (``operators/bridge.py``) and opens its catalog from
the job's catalog options (``operators/catalog.py``):

* ``RouteByBucket``: splits change batches by (partition, bucket) and keys them for the writers;
  source positions go to the writer subtask that owns ``COMMITTER_KEY``, which forwards them.
* ``ChangeWriter`` (keyed by table, partition and bucket): writes batches into the table's LSM writers; at ``B(n)`` it
  flushes and sends its committables for ``n`` to the committer; at end of input it sends the
  rest under ``END_INPUT_CHECKPOINT_ID``.
* ``ChangeCommitter`` (parallelism 1): keeps committables and source positions in keyed
  ``ListState`` until ``C(n)``, then commits (``TableCommitterLogic``); on ``R(n)`` re-commits
  what the restored state holds. Its commit user is fixed per job submission and kept in state,
  so a restored job commits (and finds its earlier commits) under the same user, and a job
  started afresh (checkpoint ids from 1 again) under a new one, as Paimon does.
  Committables are sent under ``COMMITTER_KEY``, the bridge's marker key of a parallelism-1
  operator, so they share keyed state with the signals.
* ``SchemaEvolution`` (parallelism 1, in line): applies source schema events to the tables.
"""

from __future__ import annotations

import pickle

from pyflink.common import Row
from pyflink.common.typeinfo import Types
from pyflink.datastream import FlatMapFunction, KeyedProcessFunction, ProcessFunction
from pyflink.datastream.state import ListStateDescriptor, ValueStateDescriptor

from operators.runtime.bridge import (BARRIER, CHECKPOINT_ID, COMPLETE, DATA, END, KIND, PAYLOAD, POSITION, RESTORE,
                                      SCHEMA, data_envelope)
from operators.sink.bucket_router import BucketRouter
from operators.cdc.catalog import open_catalog
from operators.runtime.failures import FailurePlan
from operators.sink.schema_evolution import SchemaEvolutionLogic
from operators.cdc.source_position import PendingPosition
from operators.sink.table_committer import TableCommitterLogic
from operators.sink.table_writer import TableWriterLogic

COMMITTER_KEY = "__ckpt_signal_0"
"""Marker key the bridge picks for subtask 0 of a parallelism-1 operator (see the Java source)."""


class RouteByBucket(FlatMapFunction):
    """Splits change batches by (partition, bucket) and keys them for the writers."""

    def __init__(self, catalog_options: dict[str, str]):
        self.catalog_options = catalog_options

    def open(self, runtime_context):
        self.router = BucketRouter(open_catalog(self.catalog_options))

    def flat_map(self, value):
        if value[KIND] == POSITION:  # to the writer that forwards positions to the committer
            yield Row(kind=POSITION, key=COMMITTER_KEY, checkpoint_id=None, payload=value[PAYLOAD])
            return
        for key, batch in self.router.route(value[PAYLOAD]):
            yield data_envelope(key, batch)


class ChangeWriter(KeyedProcessFunction):
    def __init__(self, catalog_options: dict[str, str], failures: FailurePlan | None = None):
        self.catalog_options = catalog_options
        self.failures = failures or FailurePlan()

    def open(self, runtime_context):
        self.logic = TableWriterLogic(open_catalog(self.catalog_options))

    def process_element(self, value, ctx):
        kind = value[KIND]
        if kind == DATA:
            self.logic.write(value[PAYLOAD])
        elif kind == POSITION:
            yield value
        elif kind in (BARRIER, END):
            n = value[CHECKPOINT_ID]
            self.failures.check("writer", "before-flush", n)
            committables = self.logic.prepare_commit(n)
            self.failures.check("writer", "after-flush", n)
            for committable in committables:
                yield data_envelope(COMMITTER_KEY, committable, n)

    def close(self):
        self.logic.close()


class ChangeCommitter(KeyedProcessFunction):
    def __init__(self, catalog_options: dict[str, str], commit_user: str, failures: FailurePlan | None = None):
        self.catalog_options = catalog_options
        self.commit_user = commit_user
        self.failures = failures or FailurePlan()

    def open(self, runtime_context):
        self.pending = runtime_context.get_list_state(
            ListStateDescriptor("pending-committables", Types.PICKLED_BYTE_ARRAY()))
        self.user_state = runtime_context.get_state(ValueStateDescriptor("commit-user", Types.STRING()))
        self.logic = None

    def _logic(self) -> TableCommitterLogic:
        """Created at the first element (keyed state is readable only then)."""
        if self.logic is None:
            user = self.user_state.value()
            if user is None:
                user = self.commit_user
                self.user_state.update(user)
            self.logic = TableCommitterLogic(open_catalog(self.catalog_options), user)
        return self.logic

    def process_element(self, value, ctx):
        kind = value[KIND]
        logic = self._logic()
        if kind == DATA:
            self.pending.add(value[PAYLOAD])
            return
        if kind == POSITION:
            position = value[PAYLOAD]
            self.pending.add(PendingPosition(position.checkpoint_id, position.position))
            return
        n = value[CHECKPOINT_ID]
        pending = list(self.pending.get() or [])
        if kind in (COMPLETE, END):
            snapshots, later = logic.commit(pending, n)
            if snapshots:
                self.failures.check("committer", "after-commit", n)
            self.pending.update(later)
        elif kind == RESTORE:
            self.pending.update(logic.restore(pending, n))
        yield from ()


class SchemaEvolution(ProcessFunction):
    """Parallelism 1, in line before the writers: applies schema events (kind ``S``, payload a
    pickled ``SchemaEvent``) in stream order and forwards the change batches, so a
    schema change is in place before the first batch that needs it reaches a writer (writers
    still wait with a bounded retry if not). Being in line also means the events cannot be held
    back behind backpressured data, as a separate side-output branch could be."""

    def __init__(self, catalog_options: dict[str, str], ignore_incompatible: bool = False):
        self.catalog_options = catalog_options
        self.ignore_incompatible = ignore_incompatible

    def open(self, runtime_context):
        self.logic = SchemaEvolutionLogic(open_catalog(self.catalog_options), self.ignore_incompatible)

    def process_element(self, value, ctx):
        if value[KIND] == SCHEMA:
            event = pickle.loads(value[PAYLOAD])
            self.logic.apply(event.table, event.schema, event.spec)
        else:
            yield value
