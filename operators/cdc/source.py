"""The contract a database source implements to plug into the CDC jobs.

A ``ChangeSourceFactory`` is what a job ships to the reader (``operators/runtime/source_reader.py``):
small, picklable, and able to open its ``ChangeSource`` in the reader's process. The reader calls
the source from a ticking loop, one bounded step per tick, and owns everything Flink: keyed
state, positions at each checkpoint barrier, acknowledgements when a checkpoint completes.

A source has two phases, ``snapshot`` (the tables as they are, in chunks) and ``stream`` (changes
after the snapshot), and a JSON-serialisable ``state`` that continues it exactly: kept in Flink
state, sent as the ``SourcePosition`` at every checkpoint, committed into the lake's snapshots,
and published once the lake holds everything before it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Protocol, Union

from operators.cdc.change_batch import ChangeBatch
from operators.cdc.schema_event import SchemaEvent
from operators.cdc.source_position import SourcePosition

Event = Union[SchemaEvent, ChangeBatch]
"""What a source hands over, in order: a table's schema always before its first batch that needs it."""


@dataclass(frozen=True)
class SnapshotProgress:
    """One table's initial snapshot as far as this run has read it."""

    table: str
    """The source table, e.g. ``public.orders``."""
    rows_read: int
    rows_estimated: int
    """From the server's statistics (PostgreSQL ``pg_class.reltuples``, MySQL ``TABLES.TABLE_ROWS``);
    -1 when the server has none."""
    done: bool


@dataclass(frozen=True)
class SourceProgress:
    """Where a source stands, for metrics and progress lines (sampled every few seconds)."""

    streaming: bool
    lag_bytes: int = -1
    """Log bytes between the last change handed over and the server's end of log; 0 when caught
    up, -1 when unknown (during the snapshot)."""
    lag_ms: int = -1
    """Age of the last change handed over while the source is behind, 0 when caught up, -1 when unknown."""
    tables: tuple[SnapshotProgress, ...] = ()


def behind_ms(lag_bytes: int, last_change_ms: int, now_ms: int) -> int:
    """``SourceProgress.lag_ms`` from the byte lag and the commit time of the last change handed over."""
    if lag_bytes <= 0:
        return lag_bytes
    return max(0, now_ms - last_change_ms) if last_change_ms else -1


class ChangeSource(Protocol):
    state: dict
    """Everything needed to continue exactly where the last handed-over event ends."""

    @property
    def snapshot_done(self) -> bool:
        """True once the source streams (only then are published positions acknowledged)."""

    @property
    def mid_transaction(self) -> bool:
        """True while part of a transaction is handed over and its end is not (a source that hands
        a large transaction over in parts): the reader keeps stepping, so no checkpoint falls inside."""

    def start(self) -> list[Event]:
        """Connects, prepares what is missing, and returns the schema events of all tables."""

    def step(self, poll_wait_s: float = 0.0) -> list[Event]:
        """One bounded piece of work: a snapshot chunk, or the changes available now (waiting up to
        ``poll_wait_s`` for the first while streaming)."""

    def snapshot_all(self) -> Iterator[Event]:
        """The whole remaining snapshot (the bounded ``snapshot`` startup mode's last tick)."""

    def progress(self) -> SourceProgress:
        """The phase, the lag and each table's snapshot progress (may ask the server: called every
        few seconds, never per change)."""

    def acknowledge(self, published: SourcePosition) -> None:
        """Tells the server that everything up to ``published`` is in the lake."""

    def close(self) -> None:
        ...


class SnapshotSplitReader(Protocol):
    """Reads a source's snapshot splits (``ParallelSnapshotSource.next_splits``) in a split reader
    subtask, as of the snapshot the source's reader holds open."""

    def read(self, split: Any) -> list[ChangeBatch]:
        """The split's rows as change batches (inserts)."""

    def close(self) -> None:
        ...


class ParallelSnapshotSource(ChangeSource, Protocol):
    """A source whose snapshot split readers read (its factory's ``snapshot_parallelism`` > 1):
    its reader hands over splits instead of rows, and streams only once every split handed over
    is in a completed checkpoint (so no change overtakes, through another subtask, the snapshot
    row it follows)."""

    def next_splits(self, limit: Optional[int]) -> list[Any]:
        """Up to ``limit`` (None: all) more splits, each picklable; handing them over advances
        ``state`` past them as a step does. [] once every split is handed over."""

    def read_chunk(self) -> Optional[list[Event]]:
        """The next chunk read by the source itself (while the split readers are busy), advancing
        ``state`` as handing it over would; None once no chunk is left. The snapshot stays open."""

    def splits_read(self) -> None:
        """Every split handed over is read into the job: the snapshot is done, the source streams."""


TablePosition = Callable[[str], Optional[SourcePosition]]
"""Target table -> this source's position in that lake table's latest snapshot, if any."""


class ChangeSourceFactory(Protocol):
    source_id: str
    """Stable across restarts of the same command: where its positions are published."""
    bounded: bool
    """True for the ``snapshot`` startup mode: read the tables, commit, end."""

    def open(self, state: Optional[dict], instance: str) -> ChangeSource:
        """The source, continuing ``state`` (None: a first start). ``instance`` is unique per job
        submission (for tagging server connections)."""

    def resume_state(self, published: SourcePosition, table_position: TablePosition) -> dict:
        """The state to continue from after a restart without Flink state: the published
        position, improved per table by a later position in that table's latest snapshot."""


class ParallelSnapshotFactory(ChangeSourceFactory, Protocol):
    """A factory whose sources can read the snapshot in parallel (``ParallelSnapshotSource``)."""

    snapshot_parallelism: int
    """Split readers of the snapshot; 1: the reader reads the snapshot itself."""

    def split_reader(self, instance: str) -> SnapshotSplitReader:
        """A split reader, opened in a split reader subtask's process."""


def snapshot_parallelism(factory: ChangeSourceFactory) -> int:
    """The split readers a factory asks for: 1 (the reader reads the snapshot itself) unless it
    is a ``ParallelSnapshotFactory``."""
    return getattr(factory, "snapshot_parallelism", 1)


@dataclass
class SourcePlan:
    """What a source's checks found: the tables to capture and, for the bounded ``snapshot``
    mode, how many reader steps the snapshot takes (one per chunk, estimated)."""

    schema_events: list[SchemaEvent] = field(default_factory=list)
    snapshot_ticks: int = 1


class SourcePreparation(Protocol):
    """The client side of a source, run by the job before it is submitted."""

    factory: ChangeSourceFactory

    def check(self) -> SourcePlan:
        """Every check (server settings, privileges, tables, column types): creates nothing."""

    def create(self) -> None:
        """Creates what the source needs on the server (publication, slot, ...), or reuses it."""


@dataclass
class SyncSource:
    """A source's job, as its command line describes it: everything ``operators/sync_job.py``
    needs to check, prepare and assemble it."""

    name: str
    """Flink job name, e.g. ``postgres_sync_database shop``."""
    preparation: SourcePreparation
    catalog_options: dict[str, str]
    """``--warehouse`` and ``--catalog_conf``: every operator opens the lake from them."""
    args: argparse.Namespace
    """The common flags of ``operators/cdc/sync_flags.py``."""
    reader_key: str
    """Key (and name) of the source's single reader, e.g. its replication slot."""
