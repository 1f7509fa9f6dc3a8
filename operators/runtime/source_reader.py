"""``SourceReader``: the PyFlink function around any ``ChangeSource`` (``operators/cdc/source.py``),
behind the checkpoint-signal bridge (parallelism 1, one key).

* a tick (``D``) does a step of work (while streaming, steps as long as the source hands over
  changes: ``STEP_BUDGET_S``) and keeps the source's state in keyed state;
* ``B(n)`` sends the source position (envelope kind ``P``) down the sink to the committer;
* ``C(n)`` acknowledges to the server the position the committer has published (everything up to
  it is in the lake), so the server keeps its log until the data is safe, never less;
* a job started without any state resumes from the published position (see
  ``ChangeSourceFactory.resume_state``).

Every second the reader samples the source's ``progress()`` for its metrics
(``operators/runtime/metrics.py``) and the snapshot's progress lines
(``operators/cdc/progress_lines.py``), which it logs and, on a local run, prints.

In the bounded ``snapshot`` mode the tick source has as many ticks as the snapshot has chunks
(estimated by the job): a chunk per tick, the last tick reads whatever is left; the job ends when
the ticks end and the sink commits at end of input.

With split readers (a ``ParallelSnapshotSource``, ``split_keys`` given) a tick hands over splits
(envelope kind ``X``, round robin over the split readers' keys) while fewer than two per split
reader are in flight (``SplitsInFlight``); a split is known to be read only when the checkpoint
after it completes, so while none may be handed over the reader reads the next chunk itself (a
snapshot with split readers is never slower than one without, whatever the checkpoint interval).
The source streams once no chunk is left and no split is in flight; each split reader then gets
an empty split (payload None), its cue to close its connection.

Without split readers, the reader reads the snapshot's next chunks ahead, between ticks
(``StepAhead``, up to ``STEPS_AHEAD``), and hands one over per tick; its checkpointed state and
barrier positions are those of the chunks it has handed over (``emitted_state``).
"""

from __future__ import annotations

import copy
import itertools
import logging
import pickle
import sys
import time
from typing import Iterator, Optional, Sequence

from pyflink.common.typeinfo import Types
from pyflink.datastream import KeyedProcessFunction
from pyflink.datastream.state import ValueStateDescriptor

from operators.cdc import batch_handover
from operators.cdc.change_batch import ChangeBatch
from operators.cdc.progress_lines import ProgressLines
from operators.cdc.source import ChangeSourceFactory, Event, SourceProgress
from operators.cdc.source_position import PendingPosition, PositionStore, SourcePosition, table_position
from operators.runtime.allocators import bound_allocators, release_free_memory
from operators.runtime.bridge import (BARRIER, CHECKPOINT_ID, COMPLETE, DATA, KIND, PAYLOAD, POSITION, SCHEMA,
                                      SPLIT, data_envelope, signal_envelope)
from operators.cdc.catalog import open_catalog
from operators.runtime.failures import FailurePlan
from operators.runtime.metrics import ReaderMetrics
from operators.runtime.splits_in_flight import SplitsInFlight
from operators.runtime.step_ahead import StepAhead

LOG = logging.getLogger(__name__)

SAMPLE_INTERVAL_S = 1.0

MID_TRANSACTION_WAIT_S = 0.1
"""How long a step inside a transaction handed over in parts waits for its next changes."""

STEP_BUDGET_S = 0.5
"""How long one tick may keep stepping a streaming source that is behind. Ticks reach the Python
operator in bursts at its bundle ends, about 200 ms apart while it works; a reader that stepped
once per tick sat idle in those gaps (idle 56% of the time while 1,000,000 MariaDB changes were
waiting in a 300,000-row probe: 111k changes/s, with this budget 156k; the full benchmark, whose
writers limit it, did not move). A checkpoint barrier waits at most this long behind a tick."""

STEPS_AHEAD = 5
"""Snapshot steps (chunks) read ahead at most: a reader's bundle (``READER_BUNDLE``) of ticks then
finds its chunks read, and the next one's first. Memory: that many chunks
(``scan.incremental.snapshot.chunk.size`` rows each) more."""


class SourceReader(KeyedProcessFunction):
    def __init__(self, factory: ChangeSourceFactory, catalog_options: dict[str, str], instance: str,
                 tick_interval_s: float, last_tick: int = 2 ** 63 - 1, failures: FailurePlan | None = None,
                 print_progress: bool = False, split_keys: Sequence[str] = ()):
        """``catalog_options``: the lake's (``operators/cdc/catalog.py``), the same the committer
        opens, so both find the same ``PositionStore``.
        ``instance``: unique per job submission; tags the job's server connections.
        ``tick_interval_s``: the tick source's interval (see ``_tick``); ``last_tick``: the last
        tick of a bounded (``snapshot`` mode) source. ``print_progress``: progress lines on stdout
        too (a local run's terminal). ``split_keys``: the split readers' keys
        (``bridge.subtask_keys``), none when the reader reads the snapshot itself."""
        self.factory = factory
        self.catalog_options = catalog_options
        self.instance = instance
        self.tick_interval_s = tick_interval_s
        self.last_tick = last_tick
        self.failures = failures or FailurePlan()
        self.print_progress = print_progress
        self.split_keys = tuple(split_keys)

    def open(self, runtime_context):
        bound_allocators()
        batch_handover.opened(runtime_context.get_attempt_number())
        self.saved = runtime_context.get_state(ValueStateDescriptor("source-state", Types.PICKLED_BYTE_ARRAY()))
        self.source = None
        self.seq = 0
        self.ticks = 0
        self.last_step_end = 0.0
        self.catalog = open_catalog(self.catalog_options)
        self.positions = PositionStore.of(self.catalog)
        self.metrics = ReaderMetrics(runtime_context.get_metrics_group())
        self.lines = ProgressLines()
        self.last_sample = 0.0
        self.in_flight = SplitsInFlight(2 * len(self.split_keys))
        self.splits_emitted = 0
        self.ahead = StepAhead(STEPS_AHEAD)
        self.emitted_state = None
        """The source's state after the events handed over so far (while a step is ahead, the
        source's own state is further on)."""

    def process_element(self, value, ctx):
        kind = value[KIND]
        if kind == DATA:
            yield from self._tick(value[PAYLOAD])
        elif kind == BARRIER and self.source is not None:
            self.in_flight.barrier(value[CHECKPOINT_ID])
            self.seq += 1
            state = self.emitted_state if self.ahead.active else copy.deepcopy(self.source.state)
            position = SourcePosition(self.factory.source_id, self.seq, state)
            n = value[CHECKPOINT_ID]
            yield signal_envelope(POSITION, n, payload=PendingPosition(n, position))
        elif kind == COMPLETE and self.source is not None:
            self.in_flight.completed(value[CHECKPOINT_ID])
            published = self.positions.load(self.factory.source_id)
            if published is not None and not self.ahead.active and self.source.snapshot_done:
                self.source.acknowledge(published)

    def _tick(self, tick: int):
        """Work for one tick: while streaming, steps of the source as long as it hands over changes
        (``_steps``); during the snapshot one step, a chunk (``--ticks_per_second`` paces it; the
        bounded mode counts its ticks). Ticks that queued up while the last step ran (they arrive
        back to back) are skipped, so no backlog of ticks builds up in front of checkpoint barriers."""
        bounded = self.factory.bounded
        if not bounded and time.monotonic() - self.last_step_end < self.tick_interval_s / 2:
            return
        if self.source is None:
            yield from self._start()
            self._sample()  # every table at 0 rows: the first rates count from here
        last = bounded and tick >= self.last_tick
        read = None if last else self.ahead.take()
        left = self.ahead.stop() if last else []  # the source is the reader's again
        if read is not None:
            events = read.events
        elif left:
            events = itertools.chain(*(r.events for r in left), self.source.snapshot_all())
        elif self.source.snapshot_done:
            events = [] if bounded else self._steps()
        elif self.split_keys:
            events = yield from self._hand_over_splits(last)
        else:
            events = self.source.snapshot_all() if last else self.source.step()
        yield from (self._envelope(e) for e in events)
        release_free_memory()
        self._sample(read.progress if read else None)
        self.emitted_state = read.state if read else copy.deepcopy(self.source.state)
        self.saved.update((self.seq, self.emitted_state))
        self.failures.check("reader", "after-emit", self.ticks)
        if not (last or self.split_keys or (read.snapshot_done if read else self.source.snapshot_done)):
            self.ahead.run(self.source)
        self.ticks += 1
        self.last_step_end = time.monotonic()

    def _steps(self) -> Iterator[Event]:
        """Steps while the source hands over changes, for up to ``STEP_BUDGET_S``, and for as long
        as it is inside a transaction it has handed over a part of (no barrier may pass there)."""
        deadline = time.monotonic() + STEP_BUDGET_S
        while True:
            events = self.source.step(MID_TRANSACTION_WAIT_S if self.source.mid_transaction else 0.0)
            yield from events
            if self.source.mid_transaction:
                continue
            if time.monotonic() >= deadline or not any(isinstance(e, ChangeBatch) for e in events):
                return

    def _hand_over_splits(self, all_left: bool):
        """Yields splits while there is room in flight (all that are left at a bounded job's last
        tick); without room, returns the events of a chunk the source reads itself. The snapshot
        is done once no chunk is left and no split is in flight."""
        if self.in_flight.room == 0 and not all_left:
            events = self.source.read_chunk()
            if events is not None:
                return events
        else:
            splits = self.source.next_splits(None if all_left else self.in_flight.room)
            for split in splits:
                key = self.split_keys[self.splits_emitted % len(self.split_keys)]
                yield signal_envelope(SPLIT, None, key, split)
                self.splits_emitted += 1
            self.in_flight.emitted(len(splits))
            if splits:
                return []
        if self.in_flight.count == 0:
            self.source.splits_read()
            yield from (signal_envelope(SPLIT, None, key, None) for key in self.split_keys)
        return []

    def _start(self):
        restored = self.saved.value()
        if restored is not None:
            self.seq, state = restored
        else:
            state = self._published_state()
        self.source = self.factory.open(state, self.instance)
        yield from (self._envelope(e) for e in self.source.start())

    def _envelope(self, event: Event):
        if isinstance(event, ChangeBatch):
            self.metrics.read(event.num_rows)
        return _envelope(event)

    def _sample(self, progress: Optional[SourceProgress] = None) -> None:
        """The source's progress (``progress``: as of the step just handed over) into the metrics
        and, when due, progress lines; every second, and as soon as the snapshot is done (a
        bounded job may end right after)."""
        now = time.monotonic()
        done = progress.streaming if progress is not None else self.source.snapshot_done
        just_done = done and not self.metrics.progress.streaming
        if now - self.last_sample < SAMPLE_INTERVAL_S and not just_done:
            return
        self.last_sample = now
        progress = progress or self.source.progress()
        self.metrics.update(progress)
        for line in self.lines.due(progress, now):
            LOG.info(line)
            if self.print_progress:
                sys.stdout.write(line + "\n")  # not print: a worker process's print takes no flush
                sys.stdout.flush()

    def _published_state(self) -> Optional[dict]:
        """The lake's view after a restart without Flink state (None: never started)."""
        published = self.positions.load(self.factory.source_id)
        if published is None:
            return None
        self.seq = published.seq

        def in_table(target: str) -> Optional[SourcePosition]:
            if not self.catalog.table_exists(target):
                return None
            position = table_position(self.catalog.get_table(target), self.factory.source_id)
            if position is not None:
                self.seq = max(self.seq, position.seq)
            return position
        return self.factory.resume_state(published, in_table)

    def close(self):
        self.ahead.close()
        if self.source is not None:
            self.source.close()


def _envelope(event: Event):
    if isinstance(event, ChangeBatch):
        return data_envelope(event.table, event)
    return signal_envelope(SCHEMA, 0, event.table, pickle.dumps(event))
