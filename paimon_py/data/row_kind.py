"""Row kinds of a changelog row (stored as the ``_VALUE_KIND`` byte and BinaryRow header)."""

from __future__ import annotations

from enum import IntEnum

from paimon_py.exceptions import InvalidDataError


class RowKind(IntEnum):
    """Kind of change a row represents; the value is Paimon's byte value."""

    INSERT = 0
    UPDATE_BEFORE = 1
    UPDATE_AFTER = 2
    DELETE = 3

    def short_string(self) -> str:
        """'+I', '-U', '+U' or '-D'."""
        return _SHORT[self]

    @staticmethod
    def from_short_string(text: str) -> RowKind:
        """Inverse of :meth:`short_string`."""
        for kind, short in _SHORT.items():
            if short == text:
                return kind
        raise InvalidDataError(f"unknown row kind {text!r}")


_SHORT = {
    RowKind.INSERT: "+I",
    RowKind.UPDATE_BEFORE: "-U",
    RowKind.UPDATE_AFTER: "+U",
    RowKind.DELETE: "-D",
}
