"""``SyntheticChangeStream``: a deterministic change stream over several tables, for testing and
benchmarking the sink without a database.

Position ``p`` always yields the same events: a schema event when a table's source schema
changes at ``p`` (an added column, then INT widened to BIGINT), then one ``ChangeBatch``. The
primary-key table gets inserts, updates (as -U/+U pairs or lone +U), deletes and re-inserts; the
append table gets inserts. ``ChangeModel`` replays the same events into dictionaries: what the
lake must hold once positions ``0..p-1`` are committed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from operators.cdc.change_batch import ROW_KIND, ROW_KIND_FIELD, ChangeBatch
from paimon_py.data.row_kind import RowKind, all_inserts

PK_TABLE = "cdc.orders"
LOG_TABLE = "cdc.events"
ADD_COLUMN_AT = 40
WIDEN_AT = 70


@dataclass(frozen=True)
class SourceSchema:
    """A source table's shape from some position on (the parser's side output)."""

    table: str
    schema: pa.Schema


def orders_schema(position: int) -> pa.Schema:
    fields = [pa.field("id", pa.int64(), nullable=False),
              pa.field("qty", pa.int64() if position >= WIDEN_AT else pa.int32()),
              pa.field("note", pa.string())]
    if position >= ADD_COLUMN_AT:
        fields.append(pa.field("price", pa.float64()))
    return pa.schema(fields)


EVENTS_SCHEMA = pa.schema([pa.field("seq", pa.int64()), pa.field("payload", pa.string())])


class SyntheticChangeStream:
    def __init__(self, seed: int = 1, rows_per_batch: int = 500, keys: int = 3000):
        self.seed = seed
        self.rows = rows_per_batch
        self.keys = keys

    def events(self, position: int) -> list:
        out: list = []
        if position in (0, ADD_COLUMN_AT, WIDEN_AT):
            out.append(SourceSchema(PK_TABLE, orders_schema(position)))
        if position % 3 == 2:
            out.append(ChangeBatch.of(LOG_TABLE, self._log_rows(position)))
        else:
            out.append(ChangeBatch.of(PK_TABLE, self._order_rows(position)))
        return out

    def _order_rows(self, position: int) -> pa.Table:
        rng = np.random.default_rng([self.seed, position])
        ids = rng.integers(0, self.keys, self.rows)
        choice = rng.random(self.rows)
        kinds = np.where(choice < 0.6, RowKind.INSERT, np.where(choice < 0.85, RowKind.UPDATE_AFTER, RowKind.DELETE))
        qty = rng.integers(-1000, 1000, self.rows)
        if position >= WIDEN_AT:
            qty = qty * 10_000_000  # only fits once the column is BIGINT
        columns = {"id": ids, "qty": qty, "note": [f"p{position}-{i}" for i in range(self.rows)]}
        if position >= ADD_COLUMN_AT:
            columns["price"] = rng.random(self.rows)
        rows = pa.table(columns, schema=orders_schema(position))
        # every tenth row an update as a -U/+U pair: the -U carries the key only
        pairs = np.flatnonzero(np.arange(self.rows) % 10 == 9)
        before = rows.take(pa.array(pairs))
        kinds_all = np.concatenate([kinds, np.full(len(pairs), RowKind.UPDATE_BEFORE)]).astype(np.int8)
        order = np.argsort(np.concatenate([np.arange(self.rows) * 2 + 1, pairs * 2]), kind="stable")
        combined = pa.concat_tables([rows, before]).take(pa.array(order))
        return combined.append_column(ROW_KIND_FIELD, pa.array(kinds_all[order]))

    def _log_rows(self, position: int) -> pa.Table:
        seq = np.arange(position * self.rows, (position + 1) * self.rows)
        return pa.table({"seq": seq, "payload": [f"e{s}" for s in seq]}, schema=EVENTS_SCHEMA).append_column(
            ROW_KIND_FIELD, all_inserts(self.rows))


@dataclass
class ChangeModel:
    """The expected lake: primary-key rows by key, append rows as a multiset."""

    orders: dict = field(default_factory=dict)
    events: Counter = field(default_factory=Counter)

    def apply(self, events: list) -> None:
        for event in events:
            if not isinstance(event, ChangeBatch):
                continue
            rows = event.rows().to_pylist()
            if event.table == LOG_TABLE:
                self.events.update((r["seq"], r["payload"]) for r in rows)
                continue
            for r in rows:
                if RowKind(r.pop(ROW_KIND)).is_add():
                    self.orders[r["id"]] = r
                else:
                    self.orders.pop(r["id"], None)

    @staticmethod
    def upto(stream: SyntheticChangeStream, positions: int) -> "ChangeModel":
        model = ChangeModel()
        for p in range(positions):
            model.apply(stream.events(p))
        return model
