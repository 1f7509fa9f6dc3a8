"""``PostgresReader``: the PyFlink function around ``PostgresChangeSource``, behind the
checkpoint-signal bridge (parallelism 1, one key: the slot).

* a tick (``D``) does one step of work and keeps the source's state in keyed state;
* ``B(n)`` sends the source position (envelope kind ``P``) down the sink to the committer;
* ``C(n)`` acknowledges to the server the position the committer has published (everything
  up to it is in the lake), so WAL is released, never before the data is safe;
* a job started without any state resumes from the published position, and per table from a
  later one found in the table's latest snapshot.

In the bounded ``snapshot`` mode the job's source has as many ticks as the tables have chunks
(estimated from the table statistics, see ``sync_job``): a chunk per tick, the last tick reads
whatever is left; the job ends when the ticks end and the sink commits at end of input.
"""

from __future__ import annotations

import copy
import pickle
import time

from pyflink.common.typeinfo import Types
from pyflink.datastream import KeyedProcessFunction
from pyflink.datastream.state import ValueStateDescriptor

from operators.bridge import (BARRIER, CHECKPOINT_ID, COMPLETE, DATA, KIND, PAYLOAD, data_envelope,
                              signal_envelope)
from operators.catalog import open_catalog
from operators.change_batch import ChangeBatch
from operators.failures import FailurePlan
from operators.postgres.change_source import PostgresChangeSource, Targets
from operators.postgres.source_config import PostgresSourceConfig
from operators.sink_functions import SCHEMA
from operators.source_position import POSITION, PositionStore, SourcePosition, latest, table_position
from operators.table_committer import PendingPosition


class PostgresReader(KeyedProcessFunction):
    def __init__(self, config: PostgresSourceConfig, targets: Targets, catalog_options: dict[str, str],
                 instance: str, tick_interval_s: float, last_tick: int = 2 ** 63 - 1,
                 failures: FailurePlan | None = None):
        """``catalog_options``: the lake's (``operators/catalog.py``), the same the committer opens,
        so both find the same ``PositionStore``.
        ``instance``: unique per job submission; tags the job's server connections.
        ``tick_interval_s``: the tick source's interval (see ``_tick``); ``last_tick``: the last
        tick of a bounded (``snapshot`` mode) source."""
        self.config = config
        self.last_tick = last_tick
        self.tick_interval_s = tick_interval_s
        self.instance = instance
        self.targets = targets
        self.catalog_options = catalog_options
        self.failures = failures or FailurePlan()

    def open(self, runtime_context):
        self.saved = runtime_context.get_state(ValueStateDescriptor("source-state", Types.PICKLED_BYTE_ARRAY()))
        self.source = None
        self.seq = 0
        self.ticks = 0
        self.last_step_end = 0.0
        self.catalog = open_catalog(self.catalog_options)
        self.positions = PositionStore.of(self.catalog)

    def process_element(self, value, ctx):
        kind = value[KIND]
        if kind == DATA:
            yield from self._tick(value[PAYLOAD])
        elif kind == BARRIER and self.source is not None:
            self.seq += 1
            position = SourcePosition(self.config.source_id, self.seq, copy.deepcopy(self.source.state))
            yield signal_envelope(POSITION, value[CHECKPOINT_ID], payload=PendingPosition(value[CHECKPOINT_ID], position))
        elif kind == COMPLETE and self.source is not None:
            published = self.positions.load(self.config.source_id)
            if published is not None and self.source.snapshot_done:
                self.source.acknowledge(published.state["lsn"])

    def _tick(self, tick: int):
        """One step of work. Ticks that queued up while the last step ran (they arrive back to
        back) are skipped, so no backlog of ticks builds up in front of checkpoint barriers
        (except in the bounded mode, whose ticks are counted)."""
        bounded = self.config.startup_mode == "snapshot"
        if not bounded and time.monotonic() - self.last_step_end < self.tick_interval_s / 2:
            return
        if self.source is None:
            yield from self._start()
        if not bounded:
            events = self.source.step()
        elif self.source.snapshot_done:
            events = []
        else:
            events = self.source.snapshot_all() if tick >= self.last_tick else self.source.step()
        yield from (_envelope(e) for e in events)
        self.saved.update((self.seq, copy.deepcopy(self.source.state)))
        self.failures.check("reader", "after-emit", self.ticks)
        self.ticks += 1
        self.last_step_end = time.monotonic()

    def _start(self):
        restored = self.saved.value()
        if restored is not None:
            self.seq, state = restored
        else:
            state = self._published_state()
        self.source = PostgresChangeSource(self.config, self.targets, state, self.instance)
        yield from (_envelope(e) for e in self.source.start())

    def _published_state(self):
        """The lake's view after a restart without Flink state (None: never started)."""
        published = self.positions.load(self.config.source_id)
        if published is None:
            return None
        state = published.state
        self.seq = published.seq
        for key, entry in state["tables"].items():
            schema, name = key.split(".", 1)
            target = self.targets.name_of(schema, name)
            if not self.catalog.table_exists(target):
                continue
            newer = latest(published, table_position(self.catalog.get_table(target), self.config.source_id))
            if newer is not published:
                state["tables"][key] = newer.state["tables"].get(key, entry)
                state["tables"][key]["skip_until"] = max(state["tables"][key]["skip_until"], newer.state["lsn"])
                self.seq = max(self.seq, newer.seq)
        return state

    def close(self):
        if self.source is not None:
            self.source.close()


def _envelope(event):
    if isinstance(event, ChangeBatch):
        return data_envelope(event.table, event)
    return signal_envelope(SCHEMA, 0, event[0], pickle.dumps(event))
