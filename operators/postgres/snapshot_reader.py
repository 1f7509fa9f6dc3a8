"""``SnapshotReader``: reads tables as of an exported snapshot, in chunks, as Arrow columns.

One REPEATABLE READ transaction imports the snapshot and stays open while chunks are read
(across checkpoints). Tables with a primary key are read in key order, a chunk at a time
(``WHERE (keys) > (last keys) ORDER BY keys LIMIT n``), so a restored job continues after the
last chunk it handed over; tables without one are read by ranges of pages (TID range scans).
Rows come through ``COPY ... TO STDOUT (FORMAT binary)`` (drained in C, ``copy_out.py``), decoded
in C (``binary_copy.py``): columns of the types the decoder takes arrive typed, the others as
strings of their text form, the same text pgoutput sends, for the text converters. Where a value
needs the text path (``binary_copy.decode`` returns None) and where the server's encoding is not
UTF-8 (binary text is in the server's encoding), the rows come through ``FORMAT csv`` instead,
parsed by pyarrow into string columns.

For a snapshot read in parallel (``scan.snapshot.parallelism``), the reader's transaction also
finds where each key range ends (``split_end``) and exports its snapshot again
(``pg_export_snapshot``) for the split readers, whose transactions import it one split at a
time (a ``SnapshotReader`` on the split reader's connection, ended by ``end``) and read a key
range or a range of pages.
"""

from __future__ import annotations

import logging
import threading
from typing import Iterator, Optional, Sequence, Union

import pyarrow as pa
import pyarrow.csv as pacsv

from operators.postgres import binary_copy
from operators.postgres.binary_copy import CopyColumns
from operators.postgres.copy_out import copy_out
from operators.postgres.replication import ExportedSnapshot, SourceTable, connect
from operators.postgres.source_config import PostgresSourceConfig

PAGES_PER_CHUNK = 4096

CLOSE_WAIT_S = 10.0
"""How long ``close`` waits for a copy under way on another thread once it has cancelled it."""

LOG = logging.getLogger(__name__)


class SnapshotReader:
    def __init__(self, conn, snapshot_name: str, lsn: int = 0):
        """Begins a read-only REPEATABLE READ transaction on ``conn`` (autocommit) that imports
        the snapshot ``snapshot_name`` (as of ``lsn``, where known); ``close`` ends it."""
        self.conn = conn
        self.lsn = lsn
        self._copying = threading.Lock()
        """Held while a copy runs: the connection is not freed under the drain's feet."""
        self.binary = conn.get_parameter_status("server_encoding") == "UTF8"
        """Rows are read as binary COPY (text columns arrive in the server's encoding)."""
        with self.conn.cursor() as cur:
            cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cur.execute("SET TRANSACTION SNAPSHOT %s", (snapshot_name,))

    @staticmethod
    def of(config: PostgresSourceConfig, snapshot: ExportedSnapshot) -> "SnapshotReader":
        """A reader with a connection of its own, importing a temporary slot's snapshot."""
        return SnapshotReader(connect(config), snapshot.name, snapshot.lsn)

    def export(self) -> str:
        """The name of this transaction's snapshot, exported for other transactions to import
        while this one stays open."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot()")
            return cur.fetchone()[0]

    def split_end(self, table: SourceTable, after: Optional[Sequence[str]], rows: int) -> Optional[list[str]]:
        """The key of the ``rows``-th row after ``after`` (text values), or None when fewer rows
        are left: where a split of ``rows`` rows ends (an index-only scan, no row is read). The
        text values are aliased, so that ``ORDER BY`` sorts the keys, not their text."""
        keys = ", ".join(_quote(k) for k in table.primary_keys)
        where, params = _after(table, after)
        select = ", ".join(f"{_quote(k)}::text AS _key{i}" for i, k in enumerate(table.primary_keys))
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT {select} FROM {table.qualified}{where} ORDER BY {keys} "
                        f"OFFSET {int(rows) - 1} LIMIT 1", params)
            row = cur.fetchone()
        return None if row is None else list(row)

    def range_by_key(self, table: SourceTable, columns: CopyColumns, after: Optional[Sequence[str]],
                     last: Optional[Sequence[str]]) -> pa.Table:
        """The rows with keys in (``after``, ``last``] (None: unbounded), in key order; ``columns``:
        how the table's columns are read (here and below)."""
        keys = ", ".join(_quote(k) for k in table.primary_keys)
        where, params = _after(table, after)
        if last is not None:
            where += (" AND" if where else " WHERE") + f" ({keys}) <= ({', '.join(['%s'] * len(last))})"
            params += list(last)
        return self._copy(f"FROM {table.qualified}{where} ORDER BY {keys}", params, table, columns)

    def page_count(self, table: SourceTable) -> int:
        """The pages a scan by page ranges covers: of a partitioned table, its largest partition's
        (a range of pages selects those pages of every partition)."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT max(pg_relation_size(relid)) / current_setting('block_size')::int"
                        " FROM pg_partition_tree(%s) WHERE isleaf", (table.oid,))
            return max(cur.fetchone()[0] or 0, 1)

    def pages(self, table: SourceTable, columns: CopyColumns, first: int, count: int) -> pa.Table:
        """The rows in pages [``first``, ``first + count``) (a TID range scan)."""
        query = (f"FROM {table.qualified} WHERE ctid >= '({int(first)},0)'::tid"
                 f" AND ctid < '({int(first + count)},0)'::tid")
        return self._copy(query, [], table, columns)

    def chunk_by_key(self, table: SourceTable, columns: CopyColumns, after: Optional[Sequence[str]],
                     limit: int) -> tuple[pa.Table, Optional[list[str]]]:
        """Up to ``limit`` rows after the key ``after`` (text values); returns the rows and the
        last row's key, or None as the key when the table is exhausted."""
        keys = ", ".join(_quote(k) for k in table.primary_keys)
        where, params = _after(table, after)
        rows = self._copy(f"FROM {table.qualified}{where} ORDER BY {keys} LIMIT {int(limit)}", params, table, columns)
        if rows.num_rows < limit:
            return rows, None
        names = [c.name for c in table.columns]
        last = [_text(rows.column(names.index(k))[rows.num_rows - 1].as_py()) for k in table.primary_keys]
        return rows, last

    def chunks_by_pages(self, table: SourceTable, columns: CopyColumns) -> Iterator[pa.Table]:
        """The whole table in ranges of ``PAGES_PER_CHUNK`` pages."""
        for first in range(0, self.page_count(table), PAGES_PER_CHUNK):
            yield self.pages(table, columns, first, PAGES_PER_CHUNK)

    def _copy(self, query: str, params: list, table: SourceTable, columns: CopyColumns) -> pa.Table:
        """The rows of ``SELECT <columns> <query>``: typed where ``columns`` says so, else strings."""
        with self._copying:
            with self.conn.cursor() as cur:
                sql = cur.mogrify(query, params).decode() if params else query
            if self.binary:
                data = copy_out(self.conn, f"COPY (SELECT {columns.select_list()} {sql}) TO STDOUT WITH (FORMAT binary)")
                rows = binary_copy.decode(data, columns)
                if rows is not None:
                    return rows
            data = copy_out(self.conn, f"COPY (SELECT {_columns(table)} {sql}) TO STDOUT WITH (FORMAT csv)")
        return parse_csv(data, len(table.columns))

    def close(self) -> None:
        """Ends the transaction and closes the connection. A copy under way on another thread (a
        step read ahead that has not ended) is cancelled first; if it still runs after
        ``CLOSE_WAIT_S``, the connection is left to the process's end."""
        if not self._copying.acquire(blocking=False):
            self.conn.cancel()
            if not self._copying.acquire(timeout=CLOSE_WAIT_S):
                LOG.warning("a snapshot copy did not end %.0f s after it was cancelled; its connection stays open",
                            CLOSE_WAIT_S)
                return
        try:
            self.conn.close()
        finally:
            self._copying.release()

    def end(self) -> None:
        """Ends the transaction, keeping the connection."""
        with self.conn.cursor() as cur:
            cur.execute("ROLLBACK")


def parse_csv(data: Union[bytes, pa.Buffer], column_count: int) -> pa.Table:
    """COPY's CSV as string columns ``c0..cN``: unquoted empty = NULL, quoted empty = ''."""
    names = [f"c{i}" for i in range(column_count)]
    if not len(data):
        return pa.table({n: pa.array([], pa.string()) for n in names})
    return pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, double_quote=True),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, null_values=[""],
            strings_can_be_null=True, quoted_strings_can_be_null=False))


def _after(table: SourceTable, after: Optional[Sequence[str]]) -> tuple[str, list]:
    """The ``WHERE`` clause (and its parameters) of the keys after ``after``; none for None."""
    if after is None:
        return "", []
    keys = ", ".join(_quote(k) for k in table.primary_keys)
    return f" WHERE ({keys}) > ({', '.join(['%s'] * len(after))})", list(after)


def _text(key_value) -> str:
    """A key column's value as text (``CopyColumns`` reads only integer and text keys natively)."""
    return key_value if isinstance(key_value, str) else str(key_value)


def _columns(table: SourceTable) -> str:
    return ", ".join(_quote(c.name) for c in table.columns)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
