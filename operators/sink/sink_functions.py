"""The PyFlink functions of the sink: parser -> writer -> committer, and schema evolution beside.

The writer and the committer run behind the checkpoint-signal bridge (``operators/runtime/bridge.py``);
each function opens its catalog from the job's catalog options (``operators/cdc/catalog.py``):

* ``ChangeParser`` (after the reader): schema events go to the side output ``SCHEMA_CHANGES``;
  change batches are split by (partition, bucket) and keyed for the writers (a table the schema
  events announce is routed before it exists), those of dynamic-bucket tables by assigner to the
  side output ``DYNAMIC_BUCKETS``; source positions go to the writer subtask that owns ``COMMITTER_KEY``,
  which forwards them; snapshot splits go to the side output ``SNAPSHOT_SPLITS`` (to the split
  readers, whose rows a change parser of their own routes).
* ``BucketAssigner`` (keyed by table and assigner id): buckets for dynamic-bucket tables' rows
  (``BucketAssignerLogic``), the batches keyed for the writers. A job with one writer subtask has
  none: its writer assigns them itself.
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
  It is also the schema evolution operator (parallelism 1): the parser's side output joins its
  input, and it applies each schema event on arrival; writers wait, bounded, for the schema a
  batch needs (``operators/sink/schema_wait.py``).
"""

from __future__ import annotations

import pickle

from pyflink.common.typeinfo import Types
from pyflink.datastream import KeyedProcessFunction, OutputTag, ProcessFunction
from pyflink.datastream.state import ListStateDescriptor, ValueStateDescriptor

from operators.cdc import batch_handover
from operators.cdc.catalog import open_catalog
from operators.cdc.source_position import PendingPosition
from operators.runtime.allocators import bound_allocators, release_free_memory
from operators.runtime.bridge import (BARRIER, CHECKPOINT_ID, COMPLETE, DATA, END, KEY, KEYED_ENVELOPE_TYPE, KIND,
                                      PAYLOAD, POSITION, RESTORE, SCHEMA, SPLIT, data_envelope, keyed,
                                      signal_envelope)
from operators.runtime.failures import FailurePlan
from operators.runtime.metrics import CommitterMetrics, WriterMetrics
from operators.sink.bucket_assigner import BucketAssignerLogic
from operators.sink.bucket_router import BucketRouter, is_assigner_key
from operators.sink.schema_evolution import SchemaEvolutionLogic
from operators.sink.table_committer import TableCommitterLogic
from operators.sink.table_writer import TableWriterLogic

COMMITTER_KEY = "__ckpt_signal_0"
"""Marker key the bridge picks for subtask 0 of a parallelism-1 operator (see the Java source)."""


SCHEMA_CHANGES = OutputTag("schema-changes", KEYED_ENVELOPE_TYPE)
"""The parser's side output: schema events, already in the ``Row(key, envelope)`` shape, so they
join the committer's keyed input in Java (``bridge.key_in_java``) without a Python operator of
their own."""


DYNAMIC_BUCKETS = OutputTag("dynamic-buckets", KEYED_ENVELOPE_TYPE)
"""The parser's side output to the bucket assigners: dynamic-bucket tables' batches."""


SNAPSHOT_SPLITS = OutputTag("snapshot-splits", KEYED_ENVELOPE_TYPE)
"""The parser's side output to the snapshot split readers (``operators/runtime/split_reader.py``)."""


class ChangeParser(ProcessFunction):
    """Schema events to the side output; change batches split by (partition, bucket) and keyed
    for the writers (by assigner, to the assigners, for dynamic-bucket tables); positions keyed
    for the writer that forwards them to the committer."""

    def __init__(self, catalog_options: dict[str, str], assigner_parallelism: int = 1):
        self.catalog_options = catalog_options
        self.assigner_parallelism = assigner_parallelism

    def open(self, runtime_context):
        bound_allocators()
        batch_handover.opened(runtime_context.get_attempt_number())
        self.router = BucketRouter(open_catalog(self.catalog_options), assigner_parallelism=self.assigner_parallelism)

    def process_element(self, value, ctx):
        kind = value[KIND]
        if kind == SCHEMA:
            self.router.expect(pickle.loads(value[PAYLOAD]))
            yield SCHEMA_CHANGES, keyed(signal_envelope(SCHEMA, 0, COMMITTER_KEY, value[PAYLOAD]))
        elif kind == POSITION:
            yield keyed(signal_envelope(POSITION, None, COMMITTER_KEY, value[PAYLOAD]))
        elif kind == SPLIT:
            yield SNAPSHOT_SPLITS, keyed(value)
        else:
            batch = value[PAYLOAD]
            dynamic = self.router.is_dynamic(batch.table)
            for key, part in self.router.route(batch):
                yield (DYNAMIC_BUCKETS, keyed(data_envelope(key, part))) if dynamic \
                    else keyed(data_envelope(key, part))


class BucketAssigner(KeyedProcessFunction):
    """Buckets for the rows of dynamic-bucket tables; no state of its own (see ``BucketAssignerLogic``)."""

    def __init__(self, catalog_options: dict[str, str], default_channels: int):
        self.catalog_options = catalog_options
        self.default_channels = default_channels

    def open(self, runtime_context):
        batch_handover.opened(runtime_context.get_attempt_number())
        self.logic = BucketAssignerLogic(open_catalog(self.catalog_options), self.default_channels)

    def process_element(self, value, ctx):
        for key, batch in self.logic.assign(value[KEY], value[PAYLOAD]):
            yield keyed(data_envelope(key, batch))


class ChangeWriter(KeyedProcessFunction):
    def __init__(self, catalog_options: dict[str, str], failures: FailurePlan | None = None,
                 assigner_channels: int | None = None):
        """``assigner_channels``: given when this is the job's only writer subtask, which then
        assigns dynamic-bucket tables' buckets itself (their batches come keyed by assigner)."""
        self.catalog_options = catalog_options
        self.failures = failures or FailurePlan()
        self.assigner_channels = assigner_channels

    def open(self, runtime_context):
        bound_allocators()
        batch_handover.opened(runtime_context.get_attempt_number())
        catalog = open_catalog(self.catalog_options)
        self.logic = TableWriterLogic(catalog)
        self.assigner = None if self.assigner_channels is None \
            else BucketAssignerLogic(catalog, self.assigner_channels)
        self.metrics = WriterMetrics(runtime_context.get_metrics_group())

    def process_element(self, value, ctx):
        kind = value[KIND]
        if kind == DATA:
            self._write(value[KEY], value[PAYLOAD])
            release_free_memory()
            self.metrics.update(self.logic.stats)
        elif kind == POSITION:
            yield keyed(value)
        elif kind in (BARRIER, END):
            n = value[CHECKPOINT_ID]
            self.failures.check("writer", "before-flush", n)
            committables = self.logic.prepare_commit(n)
            self.metrics.update(self.logic.stats, force=True)
            self.failures.check("writer", "after-flush", n)
            for committable in committables:
                yield keyed(data_envelope(COMMITTER_KEY, committable, n))

    def _write(self, key: str, batch) -> None:
        if self.assigner is not None and is_assigner_key(key):
            self.logic.write_rows(batch.table, self.assigner.assigned_rows(key, batch.table, batch.rows()))
        else:
            self.logic.write(batch)

    def close(self):
        self.logic.close()


class ChangeCommitter(KeyedProcessFunction):
    def __init__(self, catalog_options: dict[str, str], commit_user: str, failures: FailurePlan | None = None,
                 ignore_incompatible: bool = False):
        self.catalog_options = catalog_options
        self.commit_user = commit_user
        self.failures = failures or FailurePlan()
        self.ignore_incompatible = ignore_incompatible

    def open(self, runtime_context):
        self.pending = runtime_context.get_list_state(
            ListStateDescriptor("pending-committables", Types.PICKLED_BYTE_ARRAY()))
        self.user_state = runtime_context.get_state(ValueStateDescriptor("commit-user", Types.STRING()))
        self.logic = None
        self.evolution = SchemaEvolutionLogic(open_catalog(self.catalog_options), self.ignore_incompatible)
        self.metrics = CommitterMetrics(runtime_context.get_metrics_group())

    def _evolve(self, payload: bytes) -> None:
        """A schema event from the parser's side output, applied on arrival (never held for a
        checkpoint): writers wait for it. A checkpoint completes only after every schema event
        before its barrier is applied, so none is lost across a failure."""
        event = pickle.loads(payload)
        self.failures.check("schema", "before-apply", len(event.schema))
        self.evolution.apply(event.table, event.schema, event.spec)

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
        if kind == SCHEMA:
            self._evolve(value[PAYLOAD])
            return
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
                self.metrics.committed([s.id for s in snapshots], logic.latest_snapshots, logic.latency_ms)
                self.failures.check("committer", "after-commit", n)
            self.pending.update(later)
        elif kind == RESTORE:
            self.pending.update(logic.restore(pending, n))
        yield from ()
