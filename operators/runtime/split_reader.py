"""``SplitReader``: the PyFlink function that reads a source's snapshot splits in parallel
(``ParallelSnapshotFactory.split_reader``), one subtask per key of ``bridge.subtask_keys``.

It gets the splits the source's reader hands over (envelope kind ``X``, through the parser's side
output) and hands their rows on as change batches, to a change parser of its own. It keeps no
state: a split emitted before a checkpoint's barrier is read before this subtask passes the
barrier, so it is in that checkpoint, and a split emitted after it is emitted again by the
restored reader. An empty split (payload None) says the snapshot is over: the reader's
connection is closed (a new split would open another).
"""

from __future__ import annotations

from pyflink.datastream import KeyedProcessFunction

from operators.cdc import batch_handover
from operators.cdc.source import ParallelSnapshotFactory
from operators.runtime.allocators import bound_allocators, release_free_memory
from operators.runtime.bridge import PAYLOAD, data_envelope
from operators.runtime.failures import FailurePlan
from operators.runtime.metrics import SplitReaderMetrics


class SplitReader(KeyedProcessFunction):
    def __init__(self, factory: ParallelSnapshotFactory, instance: str, failures: FailurePlan | None = None):
        """``instance``: unique per job submission; tags the job's server connections."""
        self.factory = factory
        self.instance = instance
        self.failures = failures or FailurePlan()

    def open(self, runtime_context):
        bound_allocators()
        batch_handover.opened(runtime_context.get_attempt_number())
        self.reader = None  # connected at the first split: the source's reader starts first
        self.splits = 0
        self.metrics = SplitReaderMetrics(runtime_context.get_metrics_group())

    def process_element(self, value, ctx):
        if value[PAYLOAD] is None:
            self.close()
            return
        if self.reader is None:
            self.reader = self.factory.split_reader(self.instance)
        batches = self.reader.read(value[PAYLOAD])
        self.metrics.read(sum(batch.num_rows for batch in batches))
        yield from (data_envelope(batch.table, batch) for batch in batches)
        release_free_memory()
        self.splits += 1
        self.failures.check("split-reader", "after-read", self.splits)

    def close(self):
        if self.reader is not None:
            self.reader.close()
            self.reader = None
