"""Helpers of the snapshot reader's tests: a reader in an exported snapshot of a test database, a
table as the source sees it, its mapping, and every chunk of it."""

from __future__ import annotations

import psycopg2
import pyarrow as pa

from operators.cdc.table_spec import TableSpec
from operators.postgres.replication import SESSION_OPTIONS, SourceColumn, SourceTable
from operators.postgres.snapshot_reader import SnapshotReader
from operators.postgres.table_mapping import TableMapping
from operators.postgres.types import TypeRegistry


def exported(dsn: str) -> tuple:
    """A REPEATABLE READ transaction on a new connection and its exported snapshot's name."""
    exporter = psycopg2.connect(dsn)
    with exporter.cursor() as cur:
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        cur.execute("SELECT pg_export_snapshot()")
        return exporter, cur.fetchone()[0]


def reader_of(dsn: str) -> SnapshotReader:
    exporter, name = exported(dsn)
    reader_conn = psycopg2.connect(dsn, options=SESSION_OPTIONS)
    reader_conn.autocommit = True
    reader = SnapshotReader(reader_conn, name)
    exporter.close()
    return reader


def source_table(conn, name: str, keys: tuple[str, ...] = ("id",)) -> SourceTable:
    with conn.cursor() as cur:
        cur.execute("SELECT attname, atttypid, atttypmod, NOT attnotnull FROM pg_attribute WHERE attrelid = %s::regclass"
                    " AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (name,))
        columns = tuple(SourceColumn(*row) for row in cur.fetchall())
        cur.execute("SELECT %s::regclass::oid", (name,))
        oid = cur.fetchone()[0]
    return SourceTable("public", name, oid, columns, keys, "d")


def mapping_of(conn, table: SourceTable, to_string: bool = False) -> TableMapping:
    return TableMapping.of("db." + table.name, table.columns, TypeRegistry(conn), TableSpec(table.primary_keys),
                           to_string=to_string, source_keys=table.primary_keys)


def read_all(reader: SnapshotReader, table: SourceTable, mapping: TableMapping, chunk: int = 1000) -> list[pa.Table]:
    chunks, after = [], None
    while True:
        rows, after = reader.chunk_by_key(table, mapping.copy_columns, after, chunk)
        chunks.append(rows)
        if after is None:
            return chunks
