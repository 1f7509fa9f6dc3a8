"""``TextValues``: one column's PostgreSQL text values in arrival order, gathered for a batch.

Runs of changes decoded together (``pgoutput.decode_tuples``) arrive as Arrow string arrays and
stay Arrow; values decoded one by one arrive as Python ``str`` (None for NULL). ``to_arrow`` joins
them once, so a run's values never become Python objects on their way to the lake.
"""

from __future__ import annotations

from typing import Iterable, Optional, Union

import numpy as np
import pyarrow as pa


class TextValues:
    __slots__ = ("_arrays", "_pending", "_length")

    def __init__(self, values: Iterable[Optional[str]] = ()):
        self._arrays: list[pa.Array] = []
        self._pending: list[Optional[str]] = list(values)
        self._length = len(self._pending)

    def append(self, value: Optional[str]) -> None:
        self._pending.append(value)
        self._length += 1

    def extend(self, values: Union[pa.Array, "TextValues"]) -> None:
        """Appends an Arrow string array (kept as it is) or another ``TextValues``."""
        self._seal()
        if isinstance(values, TextValues):
            values._seal()
            self._arrays += values._arrays
            self._length += values._length
        else:
            self._arrays.append(values)
            self._length += len(values)

    def take(self, rows: np.ndarray) -> "TextValues":
        """The values at ``rows`` (positions, an integer array), in that order."""
        taken = TextValues()
        taken.extend(self.to_arrow().take(rows))
        return taken

    def to_arrow(self) -> pa.StringArray:
        self._seal()
        if len(self._arrays) != 1:
            self._arrays = [pa.concat_arrays(self._arrays) if self._arrays else pa.array([], pa.string())]
        return self._arrays[0]

    def to_list(self) -> list[Optional[str]]:
        return self.to_arrow().to_pylist()

    def __len__(self) -> int:
        return self._length

    def _seal(self) -> None:
        if self._pending:
            self._arrays.append(pa.array(self._pending, pa.string()))
            self._pending = []
