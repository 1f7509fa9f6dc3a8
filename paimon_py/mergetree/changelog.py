"""Changelog from two views of the same keys: what readers had before a compaction, and after.

``lookup`` compares, for the keys of level-0 records, the value in the levels above (looked up
before the compaction) with the merged value; ``full-compaction`` compares the previous highest
level with the new full-compaction result. Keys that appear get ``+I``, keys that change
``-U`` (old) then ``+U`` (new), keys that disappear ``-D`` (old). ``emit_unchanged`` keeps
``-U``/``+U`` pairs for values that did not change (Paimon's lookup default).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paimon_py.io.key_value import SEQUENCE_NUMBER, VALUE_KIND
from paimon_py.mergetree.key_value_io import concat
from paimon_py.mergetree.record_order import ADD_KINDS

_ORDER = "_changelog_order"


def changelog_diff(before: pa.Table, after: pa.Table, key_names: Sequence[str],
                   emit_unchanged: bool) -> pa.Table:
    """Changelog records (same columns as ``after``), sorted by key.

    ``before`` and ``after`` hold at most one row per key; rows whose kind is -U/-D mean the key
    is absent in that view.
    """
    names = after.column_names
    before = before.select(names).filter(pc.is_in(before.column(VALUE_KIND), ADD_KINDS))
    after = after.filter(pc.is_in(after.column(VALUE_KIND), ADD_KINDS))
    old = _mark(before.select(list(key_names)), "old")
    new = _mark(after.select(list(key_names)), "new")
    joined = old.join(new, list(key_names), join_type="full outer")
    has_old = pc.is_valid(joined.column("old"))
    has_new = pc.is_valid(joined.column("new"))
    both = pc.and_(has_old, has_new)
    if not emit_unchanged:
        both = pc.and_(both, pc.invert(_equal_rows(joined, before, after, names, key_names)))
    parts = [
        _side(before, joined, "old", pc.and_(has_old, pc.invert(has_new)), 3, 0),  # -D
        _side(before, joined, "old", both, 1, 0),                                   # -U
        _side(after, joined, "new", both, 2, 1),                                    # +U
        _side(after, joined, "new", pc.and_(has_new, pc.invert(has_old)), 0, 1),    # +I
    ]
    result = pa.concat_tables([p for p in parts if p.num_rows]) if any(p.num_rows for p in parts) \
        else after.schema.empty_table().append_column(_ORDER, pa.array([], pa.int8()))
    order = [(k, "ascending") for k in key_names] + [(_ORDER, "ascending")]
    return result.take(pc.sort_indices(result, sort_keys=order)).drop_columns([_ORDER])


def _mark(table: pa.Table, name: str) -> pa.Table:
    return table.append_column(name, pa.array(np.arange(table.num_rows, dtype=np.int64)))


def _side(source: pa.Table, joined: pa.Table, index_column: str, mask, kind: int, order: int) -> pa.Table:
    rows = source.take(joined.column(index_column).filter(mask))
    rows = rows.set_column(rows.schema.get_field_index(VALUE_KIND), VALUE_KIND,
                           pa.array(np.full(rows.num_rows, kind, dtype=np.int8)))
    return rows.append_column(_ORDER, pa.array(np.full(rows.num_rows, order, dtype=np.int8)))


def _equal_rows(joined: pa.Table, before: pa.Table, after: pa.Table, names, key_names) -> pa.ChunkedArray:
    """Per joined row: whether old and new values are equal in every non-key column."""
    valid = pc.and_(pc.is_valid(joined.column("old")), pc.is_valid(joined.column("new")))
    old_index = joined.column("old").fill_null(0)
    new_index = joined.column("new").fill_null(0)
    equal = valid
    for name in names:
        if name in key_names or name in (SEQUENCE_NUMBER, VALUE_KIND):
            continue
        if before.num_rows == 0 or after.num_rows == 0:
            return pa.chunked_array([pa.array(np.zeros(joined.num_rows, dtype=bool))])
        a = before.column(name).take(old_index)
        b = after.column(name).take(new_index)
        same = pc.or_(pc.fill_null(pc.equal(a, b), False), pc.and_(pc.is_null(a), pc.is_null(b)))
        equal = pc.and_(equal, same)
    return equal


class LookupChangelog:
    """``lookup`` producer: for the keys of the unit's level-0 records, old value = merge of the
    levels above (as they were when the compaction was picked), new value = that merged with the
    level-0 records. Reads chunk by chunk, so memory stays bounded."""

    def __init__(self, bucket_files, higher_level_files):
        self.bucket_files = bucket_files
        self.higher_level_files = list(higher_level_files)

    def produce(self, unit) -> list:
        files = self.bucket_files
        new_runs = [[f] for f in unit.files if f.level == 0]
        if not new_runs:
            return []
        writer = files.changelog_writer()
        for chunk in files.chunks(new_runs + files.sorted_runs(self.higher_level_files)):
            new = concat(chunk[:len(new_runs)], files.empty())
            if new.num_rows == 0:
                continue
            keys = new.select(files.key_names).group_by(files.key_names).aggregate([])
            old = concat(chunk[len(new_runs):], files.empty()).join(keys, files.key_names, join_type="left semi")
            before = files.merge(old, drop_delete=False)
            after = files.merge(concat([old.select(new.column_names), new], files.empty()), drop_delete=False)
            writer.write(files.to_key_value(changelog_diff(before, after, files.key_names, emit_unchanged=True)))
        return writer.close()


class FullCompactionChangelog:
    """``full-compaction`` producer: old value = the previous highest level, new value = the
    full-compaction result; only changed keys are emitted."""

    def __init__(self, bucket_files, max_level_files, max_level: int):
        self.bucket_files = bucket_files
        self.max_level_files = list(max_level_files)
        self.max_level = max_level

    def produce(self, unit) -> list:
        if unit.output_level != self.max_level:
            return []
        files = self.bucket_files
        top = {f.file_name for f in self.max_level_files}
        runs = files.sorted_runs(unit.files)
        is_top = [all(f.file_name in top for f in run) and run[0].level == self.max_level for run in runs]
        writer = files.changelog_writer()
        for chunk in files.chunks(runs):
            before = concat([part for part, top_run in zip(chunk, is_top) if top_run], files.empty())
            after = files.merge(concat(chunk, files.empty()), drop_delete=True)
            diff = changelog_diff(before, after, files.key_names, emit_unchanged=False)
            writer.write(files.to_key_value(diff))
        return writer.close()
