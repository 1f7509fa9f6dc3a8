"""``ChangeDecoder``: pgoutput messages -> whole transactions of row changes, column-wise.

Rows of a transaction are held until its Commit, or handed over in parts of ``PART_ROWS`` rows
when it is larger; either way no checkpoint falls inside it (the reader keeps reading until its
Commit once a part is out), so a transaction reaches the lake whole. Row kinds (``RowKind``
values, the ``int8`` of a ``ChangeBatch``), as Paimon CDC writes them:

* INSERT -> ``+I``;
* UPDATE -> ``+U``; with the old row (REPLICA IDENTITY FULL) ``-U`` then ``+U``; when the
  primary key changed (the old key arrives) ``-D`` of the old key, then ``+I``;
* DELETE -> ``-D`` (with REPLICA IDENTITY DEFAULT only the key columns are known; a Paimon
  primary-key table deletes by key).

An unchanged TOASTed value (pgoutput sends no value, only "unchanged") is taken from the old
row when the server sent the whole of it (REPLICA IDENTITY FULL); otherwise, including a
primary-key change under a key-only identity (the old tuple holds the key columns and NULL for
the rest), the row is marked and the reader fetches the current value from the table by primary
key before writing (never the placeholder, never NULL).

A Relation message whose columns differ from the ones known starts a new segment with
``schema_changed`` set, so the schema event goes out before the first row that needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from operators.postgres import pgoutput
from operators.postgres.pgoutput import UNCHANGED_TOAST
from operators.postgres.text_values import TextValues
from paimon_py.data.row_kind import RowKind

_INSERT = int(RowKind.INSERT)
_UPDATE_BEFORE = int(RowKind.UPDATE_BEFORE)
_UPDATE_AFTER = int(RowKind.UPDATE_AFTER)
_DELETE = int(RowKind.DELETE)
_RUN_KINDS = np.full(256, -1, np.int8)
_RUN_KINDS[[ord("I"), ord("U"), ord("D")]] = [_INSERT, _UPDATE_AFTER, _DELETE]
"""The row kind of a ``pgoutput.SIMPLE`` change by its message type byte."""

MIN_RUN = 8
"""Shorter runs (``pgoutput.MessageFrame``) are decoded one by one (a run's fixed cost)."""

PART_ROWS = 100_000
"""Rows of one transaction held before they are handed over as a part of it: memory stays bounded
whatever a transaction's size (a 2,000,000-row UPDATE held whole took ~900 MiB). The reader lets
no checkpoint fall between a transaction's parts, so it still reaches the lake whole."""


@dataclass
class RowChanges:
    """Consecutive changes of one relation (one version of its columns) in a transaction."""

    relation: pgoutput.Relation
    schema_changed: bool
    columns: list[TextValues] = field(default_factory=list)
    kinds: list[int] = field(default_factory=list)
    """``RowKind`` value of each row."""
    unchanged_toast: list[tuple[int, int]] = field(default_factory=list)
    """(row, column) whose value must still be fetched from the table (an unchanged TOASTed value
    or a generated column)."""

    def add(self, kind: int, values: list) -> None:
        if not self.columns:
            self.columns = [TextValues() for _ in self.relation.columns]
        row = len(self.kinds)
        for i, value in enumerate(values):
            if value is UNCHANGED_TOAST:
                self.unchanged_toast.append((row, i))
                value = None
            self.columns[i].append(value)
        self.kinds.append(kind)

    def add_many(self, kinds: list[int], tuples: pgoutput.TupleColumns) -> None:
        """Rows of one kind each, their values by column (``pgoutput.decode_tuples``)."""
        first = len(self.kinds)
        if not self.columns:
            self.columns = [TextValues() for _ in self.relation.columns]
        for column, values in zip(self.columns, tuples.values):
            column.extend(values)
        for i, rows in enumerate(tuples.unchanged):
            self.unchanged_toast += [(first + int(row), i) for row in rows]
        self.kinds.extend(kinds)

    def add_unsent_columns(self, count: int) -> None:
        """Appends ``count`` columns pgoutput does not send (generated columns), marked to be read
        from the table for every inserted or updated row, like unchanged TOASTed values."""
        first = len(self.columns)
        self.columns += [TextValues([None] * len(self.kinds)) for _ in range(count)]
        self.unchanged_toast += [(row, first + i) for row, kind in enumerate(self.kinds) if kind in (_INSERT, _UPDATE_AFTER)
                                 for i in range(count)]

    def drop(self, rows: set[int]) -> None:
        """Removes the given rows (positions in this segment)."""
        keep = np.setdiff1d(np.arange(len(self.kinds)), np.fromiter(rows, np.int64, len(rows)))
        self.columns = [column.take(keep) for column in self.columns]
        self.kinds = np.array(self.kinds, np.int8)[keep].tolist()

    def __len__(self) -> int:
        return len(self.kinds)


@dataclass
class Transaction:
    commit_lsn: int
    """LSN of the commit record (Begin.final_lsn): the order of transactions."""
    end_lsn: int
    """Where the stream resumes after this transaction."""
    commit_time_us: int
    segments: list[Union[RowChanges, pgoutput.Truncate]]
    complete: bool = True
    """False for a part of a transaction whose commit has not been read yet (``end_lsn`` 0); the
    transaction's last part is the complete one."""


class ChangeDecoder:
    def __init__(self, part_rows: Optional[int] = None):
        """``part_rows``: rows of an open transaction handed over as a part (default ``PART_ROWS``)."""
        self.relations: dict[int, pgoutput.Relation] = {}
        self._changed: set[int] = set()
        self._begin: Optional[pgoutput.Begin] = None
        self._segments: list = []
        self._rows = 0
        self.part_rows = part_rows or PART_ROWS
        self.parts_handed_over = False
        """Whether a part of the open transaction has been handed over."""

    @property
    def in_transaction(self) -> bool:
        return self._begin is not None

    def feed_all(self, payloads: list[bytes]) -> list[Transaction]:
        """Decode messages in order; returns the transactions they complete. Runs of consecutive
        changes of one relation and one shape (inserts, updates without an old tuple and deletes;
        or updates with the whole old row, REPLICA IDENTITY FULL), most of a stream, found by
        ``pgoutput.MessageFrame`` in one pass, are decoded together, column by column
        (``pgoutput.decode_tuples``, ``decode_old_and_new``); the rest one by one."""
        done: list[Transaction] = []
        frame = pgoutput.MessageFrame.of(payloads)
        i, count = 0, len(payloads)
        while i < count:
            end = min(int(frame.run_ends[i]), i + max(1, self.part_rows - self._rows))  # a part holds part_rows
            if end - i >= MIN_RUN and self._begin is not None and int(frame.oids[i]) in self.relations:
                if not self._feed_run(frame, i, end):
                    for payload in payloads[i:end]:  # changes: none completes a transaction
                        self.feed(payload)
                self._rows += end - i
                i = end
            else:
                transaction = self.feed(payloads[i])
                if transaction is not None:
                    done.append(transaction)
                self._rows += self._begin is not None
                i += 1
            if self._rows >= self.part_rows and self._begin is not None:
                done.append(self._part())
        return done

    def _part(self) -> Transaction:
        """What the open transaction holds so far, handed over as a part of it."""
        part = Transaction(self._begin.final_lsn, 0, self._begin.commit_time_us, self._segments, complete=False)
        self._segments, self._rows, self.parts_handed_over = [], 0, True
        return part

    def _feed_run(self, frame: pgoutput.MessageFrame, first: int, end: int) -> bool:
        """A run of changes of one shape decoded together; False (nothing done) when it must go one
        by one."""
        oid = int(frame.oids[first])
        columns = len(self.relations[oid].columns)
        if frame.shapes[first] == pgoutput.OLD_AND_NEW:
            pairs = pgoutput.decode_old_and_new(frame, first, end, columns)
            if pairs is None:
                return False
            self._segment(oid).add_many(*_old_then_new(*pairs, end - first))
            return True
        tuples = pgoutput.decode_tuples(frame, first, end, columns)
        if tuples is None:
            return False
        self._segment(oid).add_many(_RUN_KINDS[frame.message_types(first, end)].tolist(), tuples)
        return True

    def feed(self, payload: bytes) -> Optional[Transaction]:
        """Decode one message; returns the transaction it completes, if any."""
        message = pgoutput.decode(payload)
        if isinstance(message, pgoutput.Begin):
            self._begin, self._segments, self._rows, self.parts_handed_over = message, [], 0, False
        elif isinstance(message, pgoutput.Commit):
            begin, self._begin, self.parts_handed_over = self._begin, None, False
            return Transaction(begin.final_lsn, message.end_lsn, message.commit_time_us, self._segments)
        elif isinstance(message, pgoutput.Relation):
            self._relation(message)
        elif isinstance(message, pgoutput.Insert):
            self._segment(message.relation_oid).add(_INSERT, message.new)
        elif isinstance(message, pgoutput.Update):
            self._update(message)
        elif isinstance(message, pgoutput.Delete):
            self._segment(message.relation_oid).add(_DELETE, message.old)
        elif isinstance(message, pgoutput.Truncate):
            self._segments.append(message)
        return None

    def _relation(self, relation: pgoutput.Relation) -> None:
        known = self.relations.get(relation.oid)
        if known is None or _shape(known) != _shape(relation):
            self._changed.add(relation.oid)
        self.relations[relation.oid] = relation

    def _segment(self, oid: int) -> RowChanges:
        relation = self.relations[oid]
        last = self._segments[-1] if self._segments else None
        if (isinstance(last, RowChanges) and last.relation is relation and oid not in self._changed):
            return last
        segment = RowChanges(relation, schema_changed=oid in self._changed)
        self._changed.discard(oid)
        self._segments.append(segment)
        return segment

    def _update(self, message: pgoutput.Update) -> None:
        segment = self._segment(message.relation_oid)
        new, old = message.new, message.old
        if message.old_kind == "O":  # the whole old row: it carries every unchanged value
            new = [o if n is UNCHANGED_TOAST else n for n, o in zip(new, old)]
            segment.add(_UPDATE_BEFORE, old)
            segment.add(_UPDATE_AFTER, new)
        elif message.old_kind == "K":  # the old key only: unchanged values stay marked
            segment.add(_DELETE, old)
            segment.add(_INSERT, new)
        else:
            segment.add(_UPDATE_AFTER, new)


def _old_then_new(old: pgoutput.TupleColumns, new: pgoutput.TupleColumns,
                  count: int) -> tuple[list[int], pgoutput.TupleColumns]:
    """``count`` updates with their old rows as rows: ``-U`` with the old row, then ``+U`` with the
    new one, whose unchanged TOASTed values are taken from the old row (and stay marked where that
    lacks them too), as ``ChangeDecoder._update`` does one update at a time."""
    order = np.empty(2 * count, np.int64)
    order[0::2] = np.arange(count)
    order[1::2] = np.arange(count, 2 * count)
    values, unchanged = [], []
    for before, after, before_marks, after_marks in zip(old.values, new.values, old.unchanged, new.unchanged):
        if len(after_marks):
            taken = np.zeros(count, bool)
            taken[after_marks] = True
            after = pc.if_else(pa.array(taken), before, after)
        values.append(pa.concat_arrays([before, after]).take(order))
        unchanged.append(np.sort(np.concatenate([2 * before_marks, 2 * np.intersect1d(after_marks, before_marks) + 1])))
    return [_UPDATE_BEFORE, _UPDATE_AFTER] * count, pgoutput.TupleColumns(values, unchanged)


def _shape(relation: pgoutput.Relation) -> tuple:
    """What a new segment starts at when it changes: the columns, the name, the replica identity."""
    return (tuple((c.name, c.type_oid, c.type_modifier, c.part_of_key) for c in relation.columns), relation.namespace,
            relation.name, relation.replica_identity)
