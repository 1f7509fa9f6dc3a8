"""The contract of ``operators/cdc/source.py``, checked on every database source without Flink.

The suite drives a source the way ``operators/runtime/source_reader.py`` does: ``prep.check()``
and ``prep.create()``, then ``factory.open(state, instance)``, ``start()`` and ``step()`` in a
loop, ``state`` copied between steps (a checkpoint), ``acknowledge(SourcePosition)``. Every
``SchemaEvent`` and ``ChangeBatch`` is applied to an in-memory ``Model`` of the lake (a map by
primary key for a keyed table, a multiset of rows for an append table), which must end equal to
the source's rows:

1. snapshot: every row of both tables, each table's schema event before its first batch,
   ``snapshot_done``, and rows changing between the snapshot's steps lost nowhere and never
   duplicated;
2. stream: inserts, updates, deletes, a primary-key change, a multi-table transaction (handed
   over within one step), a rolled-back transaction (never handed over);
3. schema events: ADD COLUMN while streaming sends the new schema before the first batch with
   the column;
4. positions and restart: a source opened from a state saved between steps (mid-stream and
   mid-snapshot) hands over everything after it, duplicates only as idempotent upserts of a
   keyed table, none for an append table; so does one from ``resume_state`` (a published
   position, improved per table by a later one in the lake);
5. acknowledge: the server's retained log moves up to the acknowledged position, not beyond;
6. bounded: the ``snapshot`` startup mode is ``bounded`` and ``snapshot_all()`` yields every row;
7. progress: ``progress()`` counts each table's snapshot rows beside an estimate, and once the
   stream has caught up its lag is 0 (bytes and milliseconds).

The database side is a ``SourceDriver`` (``tests/support/source_drivers.py``); the suite runs
once per entry of ``DRIVERS``: PostgreSQL, and MySQL on MariaDB twice (with MariaDB's snapshot
positions, and with the low/high watermark method Oracle MySQL gets). A server without a retained log
per source sets ``retains_log = False``, and case 5 is skipped for it.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Optional

import pyarrow as pa
import pytest

from operators.cdc.change_batch import ROW_KIND, ChangeBatch
from operators.cdc.schema_event import SchemaEvent
from operators.cdc.source import ChangeSource, ChangeSourceFactory, SourcePreparation
from operators.cdc.source_position import SourcePosition
from paimon_py.data.row_kind import RowKind
from tests.support.source_drivers import MySqlDriver, PostgresDriver, SourceDriver
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

ITEMS = "items"
"""The table with a primary key (id, name, qty)."""
NOTES = "notes"
"""The table without one (seq, message): an append table, only inserted into."""
TABLES = [ITEMS, NOTES]


def _postgres(request) -> PostgresDriver:
    return PostgresDriver(request.getfixturevalue("postgres_server"), request.getfixturevalue("database"))


def _mysql(request) -> MySqlDriver:
    return MySqlDriver(request.getfixturevalue("mariadb_server"), request.getfixturevalue("mysql_database"))


def _mysql_watermarks(request) -> MySqlDriver:
    return MySqlDriver(request.getfixturevalue("mariadb_server"), request.getfixturevalue("mysql_database"),
                       watermarks=True)


DRIVERS: dict[str, Callable[[pytest.FixtureRequest], SourceDriver]] = {
    "postgres": _postgres, "mysql": _mysql, "mysql-watermarks": _mysql_watermarks}
"""Source name -> its driver on a fresh database for one test (fixtures through ``request``)."""


# --- the model of the lake --------------------------------------------------------------------

def row_kinds(rows: pa.Table) -> list[str]:
    """The ``_row_kind`` column as short strings (``+I`` ...), whether the batch carries them as
    strings or as Paimon's byte values (int8)."""
    kinds = rows.column(ROW_KIND)
    if pa.types.is_dictionary(kinds.type):
        kinds = kinds.cast(kinds.type.value_type)
    if pa.types.is_integer(kinds.type):
        return [RowKind(k).short_string() for k in kinds.to_pylist()]
    return kinds.to_pylist()


def batch_rows(batch: ChangeBatch) -> list[tuple[str, dict]]:
    """(row kind, column -> value) of each row of ``batch``."""
    rows = batch.rows()
    return list(zip(row_kinds(rows), rows.drop_columns([ROW_KIND]).to_pylist()))


@dataclass
class Model:
    """The lake as the events describe it. ``strict``: a keyed table's ``+I`` must find its key
    absent (else a duplicate), ``+U``/``-U``/``-D`` present (else a change to a lost row; a ``+U``
    right after a ``-U`` of its key counts as present);
    otherwise they apply as idempotent upserts and deletes (what a restart may replay). An
    append table takes ``+I`` only, counted: a duplicate shows as a row too many."""

    strict: bool = True
    columns: dict[str, list[str]] = field(default_factory=dict)
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    keyed: dict[str, dict[tuple, dict]] = field(default_factory=dict)
    appended: dict[str, Counter] = field(default_factory=dict)
    retracted: set = field(default_factory=set)
    """(table, key) whose last row is a ``-U``: the ``+U`` that follows it finds the key absent."""

    def apply_all(self, events) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event) -> None:
        if isinstance(event, SchemaEvent):
            self.columns[event.table] = list(event.schema.names)
            keys = tuple(event.spec.primary_keys) if event.spec is not None else self.keys.get(event.table, ())
            self.keys[event.table] = keys
            (self.keyed if keys else self.appended).setdefault(event.table, {} if keys else Counter())
            return
        assert isinstance(event, ChangeBatch), f"a source handed over {type(event).__name__}"
        table = event.table
        assert table in self.columns, f"a batch of {table} before its schema event"
        rows = batch_rows(event)
        names = event.rows().column_names
        unknown = set(names) - {ROW_KIND, *self.columns[table]}
        assert not unknown, f"a batch of {table} carries {sorted(unknown)} before a schema event with them"
        keys = self.keys[table]
        for kind, row in rows:
            if not keys:
                assert kind == "+I", f"{table} (no primary key) got a {kind} row {row}"
                self.appended[table][_frozen(row)] += 1
                continue
            key = tuple(row[k] for k in keys)
            present = key in self.keyed[table] or (kind == "+U" and (table, key) in self.retracted)
            self.retracted.discard((table, key))
            if kind in ("+I", "+U"):
                if self.strict:
                    assert present == (kind == "+U"), f"{table}: {kind} of key {key} that is " \
                        f"{'already there (a duplicate)' if present else 'missing (a lost row)'}: {row}"
                self.keyed[table][key] = row
            else:
                assert kind in ("-U", "-D"), f"unknown row kind {kind!r}"
                if self.strict:
                    assert present, f"{table}: {kind} of key {key}, which is missing (a lost row)"
                self.keyed[table].pop(key, None)
                if kind == "-U":
                    self.retracted.add((table, key))

    def rows(self, table: str) -> list[dict]:
        if table in self.keyed:
            return list(self.keyed[table].values())
        return [dict(row) for row, n in self.appended.get(table, Counter()).items() for _ in range(n)]


def _frozen(row: dict) -> tuple:
    return tuple(sorted(row.items()))


def differences(model: Model, driver: SourceDriver) -> list[str]:
    """How the model differs from the source's rows, per table (empty: equal). Columns a row of
    the model lacks (added to the source after it was written) count as NULL."""
    out = []
    for table in TABLES:
        source = driver.rows(table)
        columns = list(source[0]) if source else []
        lake = [{c: row.get(c) for c in columns} for row in model.rows(driver.target(table))]
        want, have = Counter(map(_frozen, source)), Counter(map(_frozen, lake))
        if want != have:
            missing = list((want - have).elements())[:3]
            extra = list((have - want).elements())[:3]
            out.append(f"{table}: source {len(source)} rows, model {len(lake)}; missing {missing}, extra {extra}")
    return out


# --- driving a source -------------------------------------------------------------------------

@dataclass
class Run:
    """One open source, and every event it handed over (``log``) applied to ``model``."""

    source: ChangeSource
    model: Model
    log: list = field(default_factory=list)

    def take(self, events) -> list:
        events = list(events)
        self.log += events
        self.model.apply_all(events)
        return events

    def start(self) -> list:
        return self.take(self.source.start())

    def step(self) -> list:
        return self.take(self.source.step())

    def drain(self, driver: SourceDriver, timeout: float = 60.0) -> None:
        """Steps until a step hands over nothing and the model equals the source."""
        wait_until(lambda: not self.step() and not differences(self.model, driver), timeout,
                   "the source's events to catch up with its tables",
                   detail=lambda: "\n".join(differences(self.model, driver)), interval=0.05)

    def assert_quiet(self, seconds: float = 1.0) -> None:
        """Nothing more arrives once caught up (no late duplicate, no change of nothing)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            late = [e for e in self.step() if isinstance(e, ChangeBatch)]
            assert not late, f"{len(late)} batch(es) after catching up: {[batch_rows(b) for b in late]}"
            time.sleep(0.1)


@dataclass
class Contract:
    """A test's driver, and the sources it opened (closed at teardown)."""

    driver: SourceDriver
    instance: str = field(default_factory=lambda: "contract-" + uuid.uuid4().hex[:8])
    opened: list = field(default_factory=list)

    def prepare(self, chunk_size: Optional[int] = None, bounded: bool = False) -> SourcePreparation:
        prep = self.driver.preparation(TABLES, chunk_size=chunk_size, bounded=bounded)
        plan = prep.check()
        assert {e.table for e in plan.schema_events} == set(self.targets)
        assert plan.snapshot_ticks >= 1
        prep.create()
        return prep

    @property
    def targets(self) -> list[str]:
        return [self.driver.target(t) for t in TABLES]

    def open(self, factory: ChangeSourceFactory, state: Optional[dict] = None,
             model: Optional[Model] = None) -> Run:
        source = factory.open(state, self.instance)
        self.opened.append(source)
        return Run(source, Model() if model is None else model)

    def close(self, run: Run) -> None:
        run.source.close()
        self.opened.remove(run.source)

    def create_tables(self, items: int, notes: int) -> None:
        self.driver.create_keyed_table(ITEMS)
        self.driver.create_append_table(NOTES)
        self.driver.insert(ITEMS, [item(i) for i in range(1, items + 1)])
        self.driver.insert(NOTES, [note(i) for i in range(1, notes + 1)])


def item(i: int) -> dict:
    return {"id": i, "name": f"n{i}", "qty": i % 13}


def note(i: int) -> dict:
    return {"seq": i, "message": f"m{i}"}


def change_round(driver: SourceDriver, r: int) -> None:
    """Round ``r`` of changes (rounds 0..27 touch distinct ids of a table filled with 1..800):
    updates behind and ahead of a snapshot's cursor, a delete, a key change, inserts."""
    driver.update(ITEMS, 790 - 7 * r, {"qty": 1000 + r})
    driver.update(ITEMS, 1 + 7 * r, {"name": f"u{r}"})
    driver.delete(ITEMS, 403 + 7 * r)
    driver.change_key(ITEMS, 605 + 7 * r, 10_000 + r)
    driver.insert(ITEMS, [item(5000 + r)])
    driver.insert(NOTES, [note(1000 + r)])


@pytest.fixture(params=list(DRIVERS))
def contract(request):
    driver = DRIVERS[request.param](request)
    contract = Contract(driver)
    try:
        yield contract
    finally:
        for source in contract.opened:
            source.close()
        driver.close()


# --- the cases ---------------------------------------------------------------------------------

def test_snapshot_then_stream(contract):
    """Every row of both tables, schema events first, no loss or duplicate while rows change
    between the snapshot's steps (chunks of 50 rows)."""
    driver = contract.driver
    contract.create_tables(items=800, notes=150)
    factory = contract.prepare(chunk_size=50).factory
    assert not factory.bounded
    change_round(driver, 0)  # after create(), before the source starts: in the snapshot, not again
    run = contract.open(factory)
    started = run.start()
    assert all(isinstance(e, SchemaEvent) for e in started)
    assert {e.table for e in started} == set(contract.targets)
    assert not run.source.snapshot_done
    r = 1
    while not run.source.snapshot_done:
        change_round(driver, r)
        r += 1
        run.step()
        assert r < 60, "the snapshot of 800 + 150 rows in chunks of 50 never ends"
    assert r > 800 // 50, f"a snapshot in chunks of 50 rows took only {r} steps"
    snapshot_rows = sum(len(batch_rows(e)) for e in run.log if isinstance(e, ChangeBatch))
    assert snapshot_rows >= 800 + 150 - r  # deletes during the snapshot may be left out
    for _ in range(3):  # and while streaming
        change_round(driver, r)
        r += 1
        run.step()
    run.drain(driver)
    run.assert_quiet()
    first_batch = {}
    for i, e in enumerate(run.log):
        if isinstance(e, ChangeBatch):
            first_batch.setdefault(e.table, i)
    first_schema = {e.table: i for i, e in reversed(list(enumerate(run.log))) if isinstance(e, SchemaEvent)}
    assert all(first_schema[t] < first_batch[t] for t in contract.targets), (first_schema, first_batch)


def test_progress(contract):
    """Snapshot rows per table (unknown lag meanwhile), then streaming and caught up: lag 0."""
    driver = contract.driver
    contract.create_tables(items=300, notes=40)
    run = contract.open(contract.prepare(chunk_size=100).factory)
    run.start()
    before = run.source.progress()
    assert not before.streaming and before.lag_bytes == -1 and len(before.tables) == 2
    assert all(t.rows_read == 0 and not t.done and t.rows_estimated >= 0 for t in before.tables)
    run.step()
    first = run.source.progress()
    assert sum(t.rows_read for t in first.tables) == 100 and not all(t.done for t in first.tables)
    while not run.source.snapshot_done:
        run.step()
    done = run.source.progress()
    assert all(t.done for t in done.tables) and sorted(t.rows_read for t in done.tables) == [40, 300]
    driver.insert(ITEMS, [item(i) for i in range(1000, 1100)])
    run.drain(driver)

    def caught_up():
        progress = None if run.step() else run.source.progress()
        return progress if progress is not None and progress.lag_bytes == 0 else None
    progress = wait_until(caught_up, 40, "the lag to reach 0", interval=0.1)
    assert progress.streaming and progress.lag_ms == 0


def test_stream_changes(contract):
    """Inserts, updates, deletes, a key change, a multi-table transaction (handed over within
    one step), a rolled-back transaction (never handed over)."""
    driver = contract.driver
    contract.create_tables(items=20, notes=5)
    run = contract.open(contract.prepare().factory)
    run.start()
    run.drain(driver)
    assert run.source.snapshot_done
    streamed = len(run.log)

    driver.insert(ITEMS, [item(i) for i in range(100, 110)])
    driver.insert(NOTES, [note(i) for i in range(100, 105)])
    driver.update(ITEMS, 1, {"qty": 41})
    driver.update(ITEMS, 2, {"name": None, "qty": 42})
    driver.delete(ITEMS, 3)
    driver.delete(ITEMS, 4)
    driver.change_key(ITEMS, 5, 500)
    driver.update(ITEMS, 500, {"name": "moved"})
    run.drain(driver)

    with driver.transaction() as tx:
        tx.insert(ITEMS, [item(200)])
        tx.update(ITEMS, 6, {"qty": 66})
        tx.delete(ITEMS, 7)
        tx.change_key(ITEMS, 8, 800)
        tx.insert(NOTES, [note(200), note(201)])
    with driver.transaction(rollback=True) as tx:
        tx.insert(ITEMS, [item(300)])
        tx.update(ITEMS, 9, {"qty": -9})
        tx.delete(ITEMS, 10)
        tx.insert(NOTES, [note(300)])
    first = wait_until(lambda: run.step(), 30, "the transaction's changes", interval=0.05)
    assert {e.table for e in first if isinstance(e, ChangeBatch)} == set(contract.targets), \
        "a transaction's changes came in more than one step (a checkpoint could split it)"
    run.drain(driver)
    run.assert_quiet()

    handed = [(e.table, kind, row) for e in run.log[streamed:] if isinstance(e, ChangeBatch)
              for kind, row in batch_rows(e)]
    rolled_back = [c for c in handed if c[2].get("id") == 300 or c[2].get("seq") == 300
                   or c[2].get("qty") == -9 or (c[2].get("id") == 10 and c[1] == "-D")]
    assert rolled_back == [], "changes of a rolled-back transaction were handed over"


def test_add_column_sends_schema_before_rows(contract):
    """ADD COLUMN while streaming: a schema event with the column before the first batch with it."""
    driver = contract.driver
    contract.create_tables(items=10, notes=3)
    run = contract.open(contract.prepare().factory)
    run.start()
    run.drain(driver)
    streamed = len(run.log)

    driver.update(ITEMS, 1, {"qty": 100})
    driver.add_column(ITEMS, "extra")
    driver.update(ITEMS, 2, {"extra": "x2"})
    driver.insert(ITEMS, [{**item(50), "extra": "x50"}])
    driver.add_column(NOTES, "extra")
    driver.insert(NOTES, [{**note(50), "extra": "y50"}])
    run.drain(driver)
    run.assert_quiet()

    for target in contract.targets:
        events = list(enumerate(run.log))[streamed:]
        schema = [i for i, e in events if isinstance(e, SchemaEvent) and e.table == target
                  and "extra" in e.schema.names]
        batch = [i for i, e in events if isinstance(e, ChangeBatch) and e.table == target
                 and "extra" in e.rows().column_names]
        assert schema and batch, f"{target}: no schema event or no batch with the new column"
        assert schema[0] < batch[0], f"{target}: a batch with the new column before its schema event"
    assert {"id": 2, "name": "n2", "qty": 2, "extra": "x2"} in run.model.rows(driver.target(ITEMS))


@pytest.mark.parametrize("saved_in", ["stream", "quiet", "snapshot"])
def test_restart(contract, saved_in):
    """A source opened from a state saved between steps hands over everything after it:
    (events up to the save) + (the new source's events) = the source's rows. A keyed table
    may see idempotent repeats, an append table none. Saved: after a step that handed over
    changes (``stream``), after steps that found none (``quiet``: the state may move on with
    the server's log), in the middle of the snapshot (``snapshot``)."""
    driver = contract.driver
    contract.create_tables(items=800, notes=60)
    factory = contract.prepare(chunk_size=50).factory
    run = contract.open(factory, model=Model(strict=False))
    run.start()
    r = 0
    if saved_in == "stream":
        run.drain(driver)
        change_round(driver, r)
        r += 1
        run.drain(driver)
        change_round(driver, r)
        r += 1
        wait_until(lambda: run.step(), 30, "changes", interval=0.05)
    elif saved_in == "quiet":
        run.drain(driver)
        run.assert_quiet()
    else:
        for _ in range(4):
            change_round(driver, r)
            r += 1
            run.step()
        assert not run.source.snapshot_done
    saved = copy.deepcopy(run.source.state)
    upto = len(run.log)

    for _ in range(3):  # handed over by the old source, but after the saved state
        change_round(driver, r)
        r += 1
        run.step()
    contract.close(run)
    driver.insert(NOTES, [note(i) for i in range(2000, 2010)])  # while no source runs
    driver.change_key(ITEMS, 700, 20_000)

    before = Model(strict=False)
    before.apply_all(run.log[:upto])
    resumed = contract.open(factory, state=saved, model=before)
    resumed.start()
    for _ in range(3):
        change_round(driver, r)
        r += 1
        resumed.step()
    resumed.drain(driver)
    resumed.assert_quiet()
    assert resumed.source.snapshot_done


def test_resume_state_from_lake_positions(contract):
    """A restart without Flink state (``factory.resume_state``): from the published position,
    and for a table whose lake table holds a later position, from that one: (each table's
    events up to its position) + (the new source's events) = the source's rows, nothing twice
    in the append table."""
    driver = contract.driver
    contract.create_tables(items=30, notes=10)
    factory = contract.prepare().factory
    run = contract.open(factory, model=Model(strict=False))
    run.start()
    run.drain(driver)
    published, published_upto = copy.deepcopy(run.source.state), len(run.log)
    change_round(driver, 0)
    driver.insert(NOTES, [note(i) for i in range(100, 110)])
    run.drain(driver)
    later, later_upto = copy.deepcopy(run.source.state), len(run.log)
    change_round(driver, 1)
    driver.insert(NOTES, [note(i) for i in range(200, 210)])
    run.drain(driver)
    contract.close(run)

    notes = driver.target(NOTES)
    source_id = factory.source_id
    state = factory.resume_state(SourcePosition(source_id, 1, copy.deepcopy(published)),
                                 lambda target: SourcePosition(source_id, 2, copy.deepcopy(later))
                                 if target == notes else None)
    lake = Model(strict=False)  # what the lake holds: items up to the published position, notes up to the later one
    lake.apply_all(e for i, e in enumerate(run.log[:later_upto])
                   if isinstance(e, SchemaEvent) or i < published_upto or e.table == notes)
    resumed = contract.open(factory, state=state, model=lake)
    resumed.start()
    resumed.drain(driver)
    resumed.assert_quiet()


def test_acknowledge_moves_the_retained_log(contract):
    """After ``acknowledge`` the server keeps the log from the acknowledged position on, and a
    source opened from the acknowledged state still gets every change after it."""
    driver = contract.driver
    if not driver.retains_log:
        pytest.skip(f"{driver.name} retains no log per source")
    contract.create_tables(items=10, notes=3)
    factory = contract.prepare().factory
    run = contract.open(factory)
    run.start()
    run.drain(driver)
    assert run.source.snapshot_done
    before = driver.confirmed_position()
    assert before is not None

    driver.insert(ITEMS, [item(i) for i in range(100, 120)])
    driver.insert(NOTES, [note(100)])
    run.drain(driver)
    state, upto = copy.deepcopy(run.source.state), len(run.log)
    acknowledged = driver.state_position(state)
    assert acknowledged > before
    assert driver.confirmed_position() == before, "the server forgot changes nobody acknowledged"
    run.source.acknowledge(SourcePosition(factory.source_id, 1, state))

    def taken() -> Optional[int]:
        run.step()
        confirmed = driver.confirmed_position()
        return confirmed if confirmed is not None and confirmed >= acknowledged else None
    confirmed = wait_until(taken, 30, "the server to take the acknowledgement", interval=0.1,
                           detail=lambda: f"confirmed {driver.confirmed_position()}, acknowledged {acknowledged}")
    assert confirmed <= acknowledged, "the server released log that was not acknowledged"

    driver.insert(NOTES, [note(200)])  # after the acknowledged position: a restart from it gets them
    driver.update(ITEMS, 1, {"qty": 77})
    run.drain(driver)
    contract.close(run)
    before = Model(strict=False)
    before.apply_all(run.log[:upto])
    resumed = contract.open(factory, state=state, model=before)
    resumed.start()
    resumed.drain(driver)
    resumed.assert_quiet()


def test_bounded_snapshot(contract):
    """``scan.startup.mode=snapshot``: the factory is bounded and ``snapshot_all()`` yields every row."""
    driver = contract.driver
    contract.create_tables(items=230, notes=40)
    factory = contract.prepare(chunk_size=50, bounded=True).factory
    assert factory.bounded
    run = contract.open(factory)
    run.start()
    run.take(run.source.snapshot_all())
    assert run.source.snapshot_done
    assert differences(run.model, driver) == []
    if driver.retains_log:
        assert driver.confirmed_position() is None, "a bounded source left the server retaining its log"
