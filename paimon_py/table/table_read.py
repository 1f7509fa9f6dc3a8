"""``TableRead``: reads splits into Arrow, pandas, rows, DuckDB or Ray (shaped like pypaimon's).

A filter is applied exactly to every split's rows (after the merge, for primary-key tables);
a limit stops reading further splits once enough rows are read.
"""

from __future__ import annotations

import importlib
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator, Sequence

import pandas as pd
import pyarrow as pa

from paimon_py.io.row_tracking import output_field
from paimon_py.operation.split import Split
from paimon_py.operation.split_read import ROW_KIND_COLUMN
from paimon_py.predicate.predicate import Predicate


class InternalRow(tuple):
    """One row of :meth:`TableRead.to_iterator`: a tuple with pypaimon's ``get_field``."""

    def get_field(self, pos: int) -> Any:
        return self[pos]


class TableRead:
    """Reads splits in parallel threads (pyarrow releases the GIL), at most ``read.parallelism``
    of them at once."""

    def __init__(self, table, columns: list[str], include_row_kind: bool = False,
                 predicate: Predicate | None = None, limit: int | None = None):
        self.columns = columns
        self.include_row_kind = include_row_kind
        self.predicate = predicate
        self.limit = limit
        self.split_read = table.new_split_read()
        self.parallelism = table.options.read_parallelism or os.cpu_count() or 1
        schema = pa.schema([output_field(table.schema, c) for c in columns])
        self.output_schema = schema.append(pa.field(ROW_KIND_COLUMN, pa.string())) if include_row_kind else schema
        extra = sorted(predicate.fields() - set(columns)) if predicate else []
        self.read_columns = columns + extra

    def to_arrow(self, splits: Sequence[Split]) -> pa.Table:
        tables = list(self._tables(splits))
        return pa.concat_tables(tables) if tables else self.output_schema.empty_table()

    def to_pandas(self, splits: Sequence[Split]) -> pd.DataFrame:
        return self.to_arrow(splits).to_pandas()

    def to_arrow_batch_reader(self, splits: Sequence[Split]) -> pa.RecordBatchReader:
        """Batches read split by split, as they are needed."""
        batches = (b for t in self._tables(splits) for b in t.to_batches())
        return pa.RecordBatchReader.from_batches(self.output_schema, batches)

    def to_iterator(self, splits: Sequence[Split]) -> Iterator[InternalRow]:
        """Rows one by one (tuples in column order), read split by split."""
        for table in self._tables(splits):
            for batch in table.to_batches():
                yield from map(InternalRow, zip(*(c.to_pylist() for c in batch.columns)))

    def to_duckdb(self, splits: Sequence[Split], table_name: str, connection=None):
        """The rows as a DuckDB table ``table_name`` (in ``connection``, else a new in-memory one)."""
        duckdb = _optional_module("duckdb", "to_duckdb")
        con = connection or duckdb.connect(database=":memory:")
        con.register(table_name, self.to_arrow(splits))
        return con

    def to_ray(self, splits: Sequence[Split]):
        """The rows as a Ray Dataset."""
        ray = _optional_module("ray", "to_ray")
        return ray.data.from_arrow(self.to_arrow(splits))

    def _tables(self, splits: Sequence[Split]) -> Iterator[pa.Table]:
        """Split results in order, cut at the limit; ``parallelism`` splits are read at once."""
        remaining = self.limit
        window = max(1, min(len(splits), self.parallelism))
        with ThreadPoolExecutor(max_workers=window) as pool:
            for start in range(0, len(splits), window):
                for table in pool.map(self._read_split, splits[start:start + window]):
                    if remaining is not None:
                        table = table.slice(0, remaining)
                        remaining -= table.num_rows
                    yield table
                    if remaining == 0:
                        return

    def _read_split(self, split: Split) -> pa.Table:
        table = self.split_read.read(split, self.read_columns, self.include_row_kind)
        if self.predicate is None:
            return table
        return table.filter(self.predicate.to_arrow()).select(self.output_schema.names)


def _optional_module(name: str, method: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ImportError(f"TableRead.{method} needs the '{name}' package, which is not "
                          f"installed: pip install {name}") from None
