"""Row kinds of a changelog row (stored as the ``_VALUE_KIND`` byte and BinaryRow header).

The byte value (0 +I, 1 -U, 2 +U, 3 -D) is the one encoding used inside the write path, as an
Arrow ``int8`` column. The short strings exist only where Paimon exposes them to users: the
``rowkind.field`` table option and the ``_row_kind`` column of a read; :func:`from_short_strings`
and :func:`to_short_strings` convert there, vectorised.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paimon_py.exceptions import InvalidDataError

ARROW_TYPE = pa.int8()
"""Arrow type of a row kind column."""


class RowKind(IntEnum):
    """Kind of change a row represents; the value is Paimon's byte value."""

    INSERT = 0
    UPDATE_BEFORE = 1
    UPDATE_AFTER = 2
    DELETE = 3

    def short_string(self) -> str:
        """'+I', '-U', '+U' or '-D'."""
        return SHORT_STRINGS[self]

    @staticmethod
    def from_short_string(text: str) -> RowKind:
        """Inverse of :meth:`short_string`."""
        if text not in SHORT_STRINGS:
            raise InvalidDataError(f"unknown row kind {text!r}")
        return RowKind(SHORT_STRINGS.index(text))

    def is_add(self) -> bool:
        """+I or +U: the row is (re)written; -U and -D retract it."""
        return self in (RowKind.INSERT, RowKind.UPDATE_AFTER)


SHORT_STRINGS = ("+I", "-U", "+U", "-D")
"""Position = byte value."""

_SHORT_ARRAY = pa.array(SHORT_STRINGS)


def from_short_strings(column: pa.Array | pa.ChunkedArray, what: str = "row kind column") -> pa.Array:
    """``int8`` row kinds of a column of short strings; ``InvalidDataError`` names ``what`` and
    up to three invalid values."""
    codes = pc.index_in(column, value_set=_SHORT_ARRAY)
    if codes.null_count:
        bad = pc.filter(column, pc.is_null(codes)).unique()[:3].to_pylist()
        raise InvalidDataError(f"{what} holds invalid row kinds {bad}; use one of {list(SHORT_STRINGS)}.")
    if isinstance(codes, pa.ChunkedArray):
        codes = codes.combine_chunks()
    return codes.cast(ARROW_TYPE)


def to_short_strings(kinds: pa.Array | pa.ChunkedArray | None, n: int) -> pa.Array:
    """Row kinds as '+I'/'-U'/'+U'/'-D' strings; all '+I' when ``kinds`` is None."""
    if kinds is None:
        kinds = pa.array(np.zeros(n, np.int8))
    elif isinstance(kinds, pa.ChunkedArray):
        kinds = kinds.combine_chunks()
    return _SHORT_ARRAY.take(kinds)


def all_inserts(n: int) -> pa.Array:
    """``n`` row kinds, all +I."""
    return pa.array(np.zeros(n, np.int8))
