"""``ChangeDecoder.feed_all`` (runs of simple changes decoded column by column) gives exactly what
feeding the messages one by one gives: same transactions, segments, row kinds, values and
unchanged-TOAST marks, on generated pgoutput streams with every message form, schema changes in
mid-run, several relations, and runs that must fall back (a binary value, bad UTF-8, a short tuple)."""

from __future__ import annotations

import random
import struct

import pytest

from operators.postgres import pgoutput
from operators.postgres.change_decoder import MIN_RUN, ChangeDecoder

TOAST = pgoutput.UNCHANGED_TOAST


def tuple_data(values) -> bytes:
    out = struct.pack(">h", len(values))
    for v in values:
        if v is None:
            out += b"n"
        elif v is TOAST:
            out += b"u"
        elif isinstance(v, bytes):  # raw: a binary value ('b') or bytes that are not UTF-8
            out += v
        else:
            out += b"t" + struct.pack(">i", len(v.encode())) + v.encode()
    return out


def relation(oid: int, columns: list[str]) -> bytes:
    body = b"".join(b"\1" + name.encode() + b"\0" + struct.pack(">Ii", 25, -1) for name in columns)
    return b"R" + struct.pack(">I", oid) + b"public\0t%d\0d" % oid + struct.pack(">h", len(columns)) + body


def change(kind: str, oid: int, new=None, old=None, old_kind: str = "") -> bytes:
    head = kind.encode() + struct.pack(">I", oid)
    if kind == "D":
        return head + old_kind.encode() + tuple_data(old)
    if kind == "U" and old_kind:
        return head + old_kind.encode() + tuple_data(old) + b"N" + tuple_data(new)
    return head + b"N" + tuple_data(new)


def value(rnd: random.Random):
    return rnd.choice([None, TOAST, "", "x", "42", "é€ü", "a" * rnd.randint(0, 300), str(rnd.random())])


def form_of(rnd: random.Random, oid: int, width: int, form: str) -> bytes:
    """A change of ``form``: I, U (no old tuple), DK / DO (delete by key / with the old row), UO /
    UK (update with the old row / the old key)."""
    row, old = [value(rnd) for _ in range(width)], [value(rnd) for _ in range(width)]
    key = [row[0]] + [None] * (width - 1)
    if form in ("I", "U"):
        return change(form, oid, row)
    if form[0] == "D":
        return change("D", oid, old=key if form == "DK" else old, old_kind=form[1])
    return change("U", oid, row, key if form == "UK" else old, form[1])


def transactions(count: int, columns: dict[int, list[str]], body) -> list[bytes]:
    """The relations of ``columns``, then ``count`` transactions: Begin, what ``body(out, lsn)``
    appends to ``out``, Commit."""
    out, lsn = [relation(oid, names) for oid, names in columns.items()], 100
    for _ in range(count):
        out.append(b"B" + struct.pack(">qqI", lsn + 50, 0, lsn))
        body(out, lsn)
        out.append(b"C" + struct.pack(">bqqq", 0, lsn + 50, lsn + 60, 0))
        lsn += 100
    return out


def stream(seed: int) -> list[bytes]:
    """Transactions over two relations: changes of every form mixed, a relation that gains a
    column, truncates and logical messages in between."""
    rnd = random.Random(seed)
    columns = {1: ["id", "v", "w"], 2: ["id", "v"]}

    def body(out: list[bytes], lsn: int) -> None:
        for _ in range(rnd.randint(0, 60)):
            oid = rnd.choice([1, 1, 1, 2])
            pick = rnd.random()
            if pick < 0.9:
                form = "I" if pick < 0.3 else "U" if pick < 0.6 else "DK" if pick < 0.75 else \
                    "DO" if pick < 0.8 else "UO" if pick < 0.85 else "UK"
                out.append(form_of(rnd, oid, len(columns[oid]), form))
            elif pick < 0.93:
                columns[oid] = columns[oid] + [f"c{len(columns[oid])}"]
                out.append(relation(oid, columns[oid]))
            elif pick < 0.96:
                out.append(b"T" + struct.pack(">ib", 1, 0) + struct.pack(">I", oid))
            else:
                out.append(b"M" + struct.pack(">bq", 1, lsn) + b"prefix\0" + struct.pack(">i", 2) + b"hi")
    return transactions(12, columns, body)


def runs_stream(seed: int) -> list[bytes]:
    """Transactions made of runs long enough to be decoded together, each of one relation and one
    form, with unchanged TOASTed values in old and new rows, and a relation change now and then."""
    rnd = random.Random(seed)
    columns = {1: ["id", "v", "w"], 2: ["id", "v"]}

    def body(out: list[bytes], lsn: int) -> None:
        for _ in range(rnd.randint(1, 5)):
            oid, form = rnd.choice([1, 2]), rnd.choice(["I", "U", "DK", "DO", "UO", "UK"])
            if rnd.random() < 0.2:
                columns[oid] = columns[oid] + [f"c{len(columns[oid])}"]
                out.append(relation(oid, columns[oid]))
            out += [form_of(rnd, oid, len(columns[oid]), form) for _ in range(rnd.randint(MIN_RUN, 3 * MIN_RUN))]
    return transactions(6, columns, body)


def shape(transactions) -> list:
    out = []
    for t in transactions:
        segments = []
        for s in t.segments:
            if isinstance(s, pgoutput.Truncate):
                segments.append(("truncate", s.relation_oids))
            else:
                segments.append((s.relation.oid, s.schema_changed, s.kinds, [c.to_list() for c in s.columns],
                                 sorted(s.unchanged_toast)))
        out.append((t.commit_lsn, t.end_lsn, t.commit_time_us, segments))
    return out


def one_by_one(messages: list[bytes]) -> list:
    decoder = ChangeDecoder()
    return [t for t in map(decoder.feed, messages) if t is not None]


@pytest.mark.parametrize("make", [stream, runs_stream])
@pytest.mark.parametrize("seed", range(20))
def test_feed_all_equals_feeding_one_by_one(seed, make):
    messages = make(seed)
    expected = shape(one_by_one(messages))
    assert shape(ChangeDecoder().feed_all(messages)) == expected
    decoder, got = ChangeDecoder(), []
    cuts = sorted(random.Random(seed).sample(range(1, len(messages)), 5))
    for first, last in zip([0] + cuts, cuts + [len(messages)]):  # polls end anywhere, in mid-run too
        got += decoder.feed_all(messages[first:last])
    assert shape(got) == expected


def test_long_runs_are_decoded_together_and_agree():
    rows = [[str(i), "v%d" % i, TOAST if i % 5 == 0 else None] for i in range(5000)]
    messages = [relation(1, ["id", "v", "w"]), b"B" + struct.pack(">qqI", 150, 0, 1)]
    messages += [change("U", 1, row) for row in rows] + [b"C" + struct.pack(">bqqq", 0, 150, 160, 0)]
    [transaction] = ChangeDecoder().feed_all(messages)
    [segment] = transaction.segments
    assert segment.columns[0].to_list() == [str(i) for i in range(5000)]
    assert segment.unchanged_toast == [(i, 2) for i in range(0, 5000, 5)]
    assert shape([transaction]) == shape(one_by_one(messages))


@pytest.mark.parametrize("bad, error", [
    (b"b" + struct.pack(">i", 1) + b"\x01", "binary values are not decoded"),
    (b"t" + struct.pack(">i", 2) + b"\xff\xfe", "decode"),
])
def test_a_run_that_cannot_be_decoded_together_fails_as_one_by_one(bad, error):
    run = [change("I", 1, [str(i), "x"]) for i in range(MIN_RUN * 2)]
    run[MIN_RUN] = change("I", 1, ["9", bad])
    messages = [relation(1, ["id", "v"]), b"B" + struct.pack(">qqI", 150, 0, 1), *run]
    with pytest.raises((ValueError, UnicodeDecodeError), match=error):
        one_by_one(messages)
    with pytest.raises((ValueError, UnicodeDecodeError), match=error):
        ChangeDecoder().feed_all(messages)


def test_a_short_tuple_is_decoded_one_by_one():
    """A tuple with fewer columns than the relation (not sent by PostgreSQL 15, but valid)."""
    messages = [relation(1, ["id", "v", "w"]), b"B" + struct.pack(">qqI", 150, 0, 1)]
    messages += [change("I", 1, [str(i), "x"] + ([] if i == 3 else ["y"])) for i in range(MIN_RUN * 2)]
    messages.append(b"C" + struct.pack(">bqqq", 0, 150, 160, 0))
    assert shape(ChangeDecoder().feed_all(messages)) == shape(one_by_one(messages))


def row_changes(transactions) -> list:
    """Every row of ``transactions``, parts of one transaction joined: (commit LSN, relation, kind,
    values, unchanged-TOAST columns), and each transaction's end; segment boundaries left out."""
    out = []
    for t in transactions:
        for s in t.segments:
            if isinstance(s, pgoutput.Truncate):
                out.append((t.commit_lsn, "truncate", s.relation_oids))
                continue
            toast = {}
            for row, column in s.unchanged_toast:
                toast.setdefault(row, []).append(column)
            columns = [c.to_list() for c in s.columns]
            out += [(t.commit_lsn, s.relation.oid, kind, [c[i] for c in columns], sorted(toast.get(i, [])))
                    for i, kind in enumerate(s.kinds)]
        if t.complete:
            out.append((t.commit_lsn, "end", t.end_lsn, t.commit_time_us))
    return out


@pytest.mark.parametrize("seed", range(10))
def test_large_transactions_go_in_parts_with_the_same_rows(seed):
    """Parts of the open transaction (its commit LSN, no end), then the complete rest; the rows are
    those of whole transactions."""
    messages = stream(seed)
    expected = row_changes(ChangeDecoder().feed_all(messages))
    decoder, got = ChangeDecoder(part_rows=7), []
    cuts = sorted(random.Random(seed).sample(range(1, len(messages)), 5))
    for first, last in zip([0] + cuts, cuts + [len(messages)]):
        batch = decoder.feed_all(messages[first:last])
        got += batch
        if batch and not batch[-1].complete:
            assert decoder.parts_handed_over and decoder.in_transaction
    assert row_changes(got) == expected
    parts = [t for t in got if not t.complete]
    assert parts and all(t.end_lsn == 0 for t in parts)
    # at most part_rows messages a part (an update with its old row gives two rows)
    assert all(sum(len(s) for s in t.segments if not isinstance(s, pgoutput.Truncate)) <= 2 * 7 for t in parts)
    assert not decoder.parts_handed_over


def test_dropping_rows_keeps_the_others_in_order():
    """``RowChanges.drop`` (rows whose large values are gone from the table) on a run decoded together."""
    rows = [[str(i), "v%d" % i] for i in range(MIN_RUN * 2)]
    messages = [relation(1, ["id", "v"]), b"B" + struct.pack(">qqI", 150, 0, 1)]
    messages += [change("U" if i % 2 else "I", 1, row) for i, row in enumerate(rows)]
    messages.append(b"C" + struct.pack(">bqqq", 0, 150, 160, 0))
    [transaction] = ChangeDecoder().feed_all(messages)
    [segment] = transaction.segments
    kinds = list(segment.kinds)
    segment.drop({1, 4, 5})
    kept = [i for i in range(len(rows)) if i not in (1, 4, 5)]
    assert segment.columns[0].to_list() == [str(i) for i in kept]
    assert segment.kinds == [kinds[i] for i in kept] and all(type(k) is int for k in segment.kinds)
