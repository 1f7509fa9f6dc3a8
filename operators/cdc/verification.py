"""Verification of a lake against its source, source-neutral: what a source implements
(``VerificationSource``) and the comparison (``verify``).

A source reads every captured table in one consistent transaction, in the lake's form (its own
snapshot reader and table mapping, exactly as the sync job converts rows), and says the position
of that read. ``verify`` waits until the position the job published (``PositionStore``) covers
it, then digests the read (``operators/cdc/checksum.py``) and each lake table as of the
published checkpoint (its newest snapshot whose ``cdc.position.*`` is not later) and compares.
A difference while the job keeps up is read again (a live workload moves both sides between
the two reads) and only differences every read shows, the same on both sides, are reported; a
lake that never catches up is compared anyway and said to be behind.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional, Protocol

import pyarrow as pa

from operators.cdc.checksum import DigestDifference, TableDigest, compare
from operators.cdc.source_position import PositionStore, SourcePosition, property_key
from operators.cdc.target_mapping import TargetMapping

ATTEMPTS = 3
"""Reads of both sides before a difference is reported while the job keeps up."""
FIRST_KEYS = 10


@dataclass(frozen=True)
class CapturedTable:
    """A lake table and the source table(s) written into it."""

    target: str
    """``database.table`` in the lake."""
    sources: tuple[str, ...]
    """Source tables (several for merged shards)."""
    columns: tuple[str, ...]
    """The source's columns, as named in the lake (computed and metadata columns are not among them)."""
    primary_keys: tuple[str, ...]


@dataclass
class SourceRead:
    """One consistent read of the captured tables."""

    position: dict[str, Any]
    """The source's position at the read, in its ``SourcePosition.state`` vocabulary."""
    position_text: str
    tables: list[CapturedTable]
    batches: Iterator[tuple[str, pa.Table]]
    """(target, rows in the lake's types: the ``columns`` of that table), read as iterated."""


@dataclass
class SourceLag:
    """How far the source is ahead of a published position."""

    source_position: str
    """The source's current position, in human form."""
    caught_up: bool
    bytes_behind: Optional[int] = None
    """WAL/binlog bytes between the lake's position and the source's (None: no published position)."""
    transactions_behind: Optional[int] = None
    seconds_behind: Optional[float] = None
    """0 when caught up; None where the source cannot say."""
    details: dict[str, str] = field(default_factory=dict)
    """Source-specific facts, e.g. the slot's confirmed_flush_lsn or the GTIDs behind per domain."""


def captured_tables(mapped: Iterable[tuple[str, TargetMapping]]) -> list[CapturedTable]:
    """(source table name, its mapping) -> one entry per lake table (source tables merged into one
    lake table, such as shards, share it)."""
    by_target: dict[str, CapturedTable] = {}
    for source, mapping in mapped:
        known = by_target.get(mapping.target)
        sources = (known.sources if known else ()) + (source,)
        by_target[mapping.target] = CapturedTable(mapping.target, sources, mapping.names, mapping.spec.primary_keys)
    return list(by_target.values())


class VerificationSource(Protocol):
    source_id: str
    """The id the sync job publishes its positions under."""

    def read(self) -> SourceRead:
        """Every captured table in one consistent transaction (held open until its batches are read)."""

    def reached(self, published: SourcePosition, position: dict[str, Any]) -> bool:
        """Whether the lake at ``published`` holds every change up to ``position`` (a read's)."""

    def lag(self, published: Optional[SourcePosition]) -> SourceLag:
        """How far the source is ahead of ``published`` (None: the lake has no position yet)."""

    def describe(self, state: dict[str, Any]) -> str:
        """A position (``SourcePosition.state``) in human form."""


@dataclass(frozen=True)
class ColumnChecksum:
    """A compared column's checksum (the sum of its values' hashes mod 2^64) on both sides."""

    column: str
    source: str
    lake: str


@dataclass
class TableVerdict:
    table: str
    sources: list[str]
    source_rows: int
    lake_rows: Optional[int]
    """None: the lake has no such table."""
    source_checksum: str
    lake_checksum: Optional[str]
    equal: bool
    snapshot: Optional[int] = None
    """The lake snapshot compared."""
    differing_columns: list[str] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)
    """Columns only the lake has (computed and metadata columns)."""
    missing_in_lake: int = 0
    extra_in_lake: int = 0
    changed: int = 0
    first_keys: list[dict[str, Any]] = field(default_factory=list)
    column_checksums: list[ColumnChecksum] = field(default_factory=list)
    changing: bool = False
    """The last read differed, but only in rows that differed otherwise (or not at all) in an
    earlier read: a live workload, not a defect."""

    def report(self, difference: Optional[DigestDifference], last: Optional[DigestDifference]) -> None:
        """Fills in ``difference`` (the one every read showed; ``last``: the last read's)."""
        self.equal = difference is None and self.lake_rows is not None and not self.differing_columns
        self.changing = difference is None and last is not None
        if difference is not None:
            self.differing_columns += difference.columns
            self.missing_in_lake, self.extra_in_lake = difference.only_in_source, difference.only_in_lake
            self.changed, self.first_keys = difference.changed, difference.first_keys(FIRST_KEYS)


@dataclass
class Verification:
    source_id: str
    source_position: str
    lake_position: Optional[str]
    lake_caught_up: bool
    """Whether the published position reached the source's read within the timeout."""
    attempts: int
    tables: list[TableVerdict]
    lag: Optional[SourceLag] = None
    """How far the lake is behind, when it did not catch up."""

    @property
    def equal(self) -> bool:
        return all(t.equal for t in self.tables)


def verify(source: VerificationSource, catalog, database: str, timeout_s: float,
           attempts: int = ATTEMPTS) -> Verification:
    """Source and lake compared at the same point (see the module docstring). While the job keeps
    up, a difference is read again (up to ``attempts`` reads) and only what every read shows is
    reported."""
    store = PositionStore.of(catalog)
    seen: dict[str, Optional[DigestDifference]] = {}
    for attempt in range(1, attempts + 1):
        read = source.read()
        published, reached = wait_for_lake(source, store, read.position, timeout_s)
        plans = {t.target: TablePlan.of(t, _lake_table(catalog, database, t.target)) for t in read.tables}
        digests = digest_source(read, plans)
        compared = {t.target: plans[t.target].compare(digests[t.target], source.source_id, published)
                    for t in read.tables}
        seen = {target: _also_in(seen, target, difference, attempt) for target, (_, difference) in compared.items()}
        if not reached or attempt == attempts or all(d is None for d in seen.values()):
            break
    for target, (verdict, difference) in compared.items():
        verdict.report(seen[target], difference)
    lag = None if reached else source.lag(published)
    return Verification(source.source_id, read.position_text, source.describe(published.state) if published else None,
                        reached, attempt, [verdict for verdict, _ in compared.values()], lag)


def _also_in(seen: dict[str, Optional[DigestDifference]], target: str, difference: Optional[DigestDifference],
             attempt: int) -> Optional[DigestDifference]:
    """What of an earlier read's difference ``difference`` shows again (all of it at the first read)."""
    if attempt == 1 or target not in seen:
        return difference
    earlier = seen[target]
    return None if earlier is None or difference is None else earlier.also_in(difference)


def _lake_table(catalog, database: str, target: str):
    name = target.split(".", 1)[1]
    return catalog.get_table(target) if name in catalog.list_tables(database) else None


@dataclass
class TablePlan:
    """What is compared of one captured table: the source columns the lake table has, in the
    lake's Arrow types."""

    table: CapturedTable
    lake: Any
    """The paimon_py ``FileStoreTable``, or None when the lake lacks it."""
    schema: pa.Schema
    """The compared columns in the lake's Arrow types."""

    @staticmethod
    def of(table: CapturedTable, lake) -> "TablePlan":
        if lake is None:
            return TablePlan(table, None, pa.schema([]))
        compared = [c for c in table.columns if c in lake.schema.field_names]
        return TablePlan(table, lake, lake.new_read_builder().with_projection(compared).new_read().output_schema)

    def digest(self) -> TableDigest:
        """An empty digest of the compared columns (the row count alone when the lake lacks the table)."""
        return TableDigest(tuple(self.schema.names), self.table.primary_keys if self.lake is not None else ())

    def in_lake_types(self, rows: pa.Table) -> pa.Table:
        """``rows`` (the source's) cut to the compared columns, cast where an Arrow type differs."""
        rows = rows.select(self.schema.names)
        for i, lake_field in enumerate(self.schema):
            if rows.schema.field(i).type != lake_field.type:
                rows = rows.set_column(i, lake_field.name, _cast(rows.column(i), lake_field.type))
        return rows

    def compare(self, source: TableDigest, source_id: str,
                published: Optional[SourcePosition]) -> tuple[TableVerdict, Optional[DigestDifference]]:
        """The verdict's counts and checksums (its differences filled in by ``TableVerdict.report``)
        and how the lake, as of the published checkpoint, differs from ``source``."""
        table = self.table
        verdict = TableVerdict(table.target, list(table.sources), source.count, None, _hex(source.checksum), None,
                               False)
        if self.lake is None:
            return verdict, None
        verdict.snapshot = snapshot_at(self.lake, source_id, published.seq if published else None)
        lake = digest_lake(self.lake, verdict.snapshot, self.digest())
        verdict.lake_rows, verdict.lake_checksum = lake.count, _hex(lake.checksum)
        verdict.column_checksums = [ColumnChecksum(c, _hex(source.column_checksums.get(c, 0)),
                                                   _hex(lake.column_checksums.get(c, 0))) for c in lake.columns]
        verdict.not_compared = [c for c in self.lake.schema.field_names if c not in table.columns]
        verdict.differing_columns = [c for c in table.columns if c not in self.schema.names]  # not in the lake
        return verdict, compare(source, lake)


def _cast(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    if column.type == target:
        return column
    try:
        return column.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return column  # compared as it is: it then differs


def digest_source(read: SourceRead, plans: dict[str, TablePlan]) -> dict[str, TableDigest]:
    digests = {target: plan.digest() for target, plan in plans.items()}
    for target, rows in read.batches:
        digests[target].add(plans[target].in_lake_types(rows))
    return digests


def wait_for_lake(source: VerificationSource, store: PositionStore, position: dict[str, Any],
                  timeout_s: float) -> tuple[Optional[SourcePosition], bool]:
    """The published position once it reaches ``position`` (True), or the last one seen when
    ``timeout_s`` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while True:
        published = store.load(source.source_id)
        if published is not None and source.reached(published, position):
            return published, True
        if time.monotonic() >= deadline:
            return published, False
        time.sleep(0.2)


def snapshot_at(table, source_id: str, seq: Optional[int]) -> Optional[int]:
    """The lake table as of the published checkpoint ``seq``: its newest snapshot whose position
    of ``source_id`` is not later, or the newest snapshot above that one without any position of
    it (a commit of someone else's, such as a compaction or a manual write, belongs to the
    position before it); the latest snapshot when ``seq`` is None or nothing carries a position."""
    latest = table.snapshot_manager.latest_snapshot_id()
    if seq is None:
        return latest
    key = property_key(source_id)
    unpositioned = None
    for snapshot in table.snapshot_manager.snapshots_backwards():
        if not snapshot.properties or key not in snapshot.properties:
            unpositioned = unpositioned or snapshot.id
        elif SourcePosition.from_json(snapshot.properties[key]).seq <= seq:
            return unpositioned or snapshot.id
        else:
            unpositioned = None
    return latest


def digest_lake(table, snapshot: Optional[int], digest: TableDigest) -> TableDigest:
    if snapshot is None:
        return digest
    builder = table.new_read_builder().with_snapshot(snapshot).with_projection(list(digest.columns))
    for batch in builder.new_read().to_arrow_batch_reader(builder.new_scan().plan().splits()):
        digest.add(pa.Table.from_batches([batch]))
    return digest


def _hex(checksum: int) -> str:
    return f"{checksum:016x}"
