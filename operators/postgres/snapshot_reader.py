"""``SnapshotReader``: reads tables as of an exported snapshot, in chunks, as text columns.

One REPEATABLE READ transaction imports the snapshot and stays open while chunks are read
(across checkpoints). Tables with a primary key are read in key order, a chunk at a time
(``WHERE (keys) > (last keys) ORDER BY keys LIMIT n``), so a restored job continues after the
last chunk it handed over; tables without one are read by ranges of pages (TID range scans).
Rows come through ``COPY ... TO STDOUT (FORMAT csv)``, parsed by pyarrow into string columns:
the same text form pgoutput sends, so one converter serves both.
"""

from __future__ import annotations

import io
from typing import Iterator, Optional, Sequence

import pyarrow as pa
import pyarrow.csv as pacsv

from operators.postgres.replication import ExportedSnapshot, SourceTable, connect
from operators.postgres.source_config import PostgresSourceConfig

PAGES_PER_CHUNK = 4096


class SnapshotReader:
    def __init__(self, config: PostgresSourceConfig, snapshot: ExportedSnapshot):
        self.lsn = snapshot.lsn
        self.conn = connect(config)
        with self.conn.cursor() as cur:
            cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cur.execute("SET TRANSACTION SNAPSHOT %s", (snapshot.name,))

    def chunk_by_key(self, table: SourceTable, after: Optional[Sequence[str]],
                     limit: int) -> tuple[pa.Table, Optional[list[str]]]:
        """Up to ``limit`` rows after the key ``after`` (text values); returns the rows and the
        last row's key, or None as the key when the table is exhausted."""
        keys = ", ".join(_quote(k) for k in table.primary_keys)
        where = ""
        params: list = []
        if after is not None:
            where = f" WHERE ({keys}) > ({', '.join(['%s'] * len(after))})"
            params = list(after)
        query = f"SELECT {_columns(table)} FROM {table.qualified}{where} ORDER BY {keys} LIMIT {int(limit)}"
        rows = self._copy(query, params, table)
        if rows.num_rows < limit:
            return rows, None
        names = [c.name for c in table.columns]
        last = [rows.column(names.index(k))[rows.num_rows - 1].as_py() for k in table.primary_keys]
        return rows, last

    def chunks_by_pages(self, table: SourceTable) -> Iterator[pa.Table]:
        """The whole table in ranges of ``PAGES_PER_CHUNK`` pages."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_relation_size(%s) / current_setting('block_size')::int", (table.oid,))
            pages = cur.fetchone()[0]
        for first in range(0, max(pages, 1), PAGES_PER_CHUNK):
            query = (f"SELECT {_columns(table)} FROM {table.qualified} WHERE ctid >= '({first},0)'::tid"
                     f" AND ctid < '({first + PAGES_PER_CHUNK},0)'::tid")
            yield self._copy(query, [], table)

    def _copy(self, query: str, params: list, table: SourceTable) -> pa.Table:
        buffer = io.BytesIO()
        with self.conn.cursor() as cur:
            sql = cur.mogrify(query, params).decode() if params else query
            cur.copy_expert(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", buffer)
        return parse_csv(buffer.getvalue(), len(table.columns))

    def close(self) -> None:
        self.conn.close()


def parse_csv(data: bytes, column_count: int) -> pa.Table:
    """COPY's CSV as string columns ``c0..cN``: unquoted empty = NULL, quoted empty = ''."""
    names = [f"c{i}" for i in range(column_count)]
    if not data:
        return pa.table({n: pa.array([], pa.string()) for n in names})
    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, double_quote=True),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, null_values=[""],
            strings_can_be_null=True, quoted_strings_can_be_null=False))


def _columns(table: SourceTable) -> str:
    return ", ".join(_quote(c.name) for c in table.columns)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
