"""The tables a ``MySqlSourceConfig`` captures, as ``information_schema`` describes them now.

``list_tables`` reads ``TABLES``, ``COLUMNS``, ``STATISTICS`` (the primary key, in key order) and
``CHECK_CONSTRAINTS`` (MariaDB's JSON is LONGTEXT with a ``json_valid`` check) into
``MySqlTable``s. Views, sequences and system-versioned tables are never captured (their binlog
rows are not the table's rows, see docs/mysql.md §6.1): they are named in one WARNING. The
system databases never match.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Optional

from operators.mysql.source_config import SYSTEM_DATABASES, MySqlSourceConfig
from operators.mysql.source_table import MySqlColumn, MySqlTable, MySqlType

log = logging.getLogger(__name__)

CAPTURED_TABLE_TYPES = ("BASE TABLE",)
WITH_DISPLAY_WIDTH = frozenset({"tinyint", "smallint", "mediumint", "int", "bigint"})
TEMPORAL = frozenset({"time", "datetime", "timestamp"})

_SYSTEM = ", ".join(f"'{d}'" for d in sorted(SYSTEM_DATABASES))
_TABLES = f"SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES " \
          f"WHERE TABLE_SCHEMA NOT IN ({_SYSTEM})"
_COLUMNS = ("SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, NUMERIC_PRECISION,"
            " NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_MAXIMUM_LENGTH, CHARACTER_SET_NAME"
            " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN ({}) ORDER BY ORDINAL_POSITION")
_PRIMARY_KEYS = ("SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS"
                 " WHERE TABLE_SCHEMA IN ({}) AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX")
_JSON_CHECKS = ("SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS"
                " WHERE CONSTRAINT_SCHEMA IN ({}) AND CHECK_CLAUSE LIKE 'json\\_valid(%%'")


@dataclass(frozen=True)
class ColumnRow:
    """One row of ``information_schema.COLUMNS``."""
    name: str
    data_type: str
    column_type: str
    nullable: bool
    precision: Optional[int]
    scale: Optional[int]
    fsp: Optional[int]
    char_length: Optional[int]
    charset: Optional[str]


def list_tables(conn, config: MySqlSourceConfig) -> list[MySqlTable]:
    """The captured tables matching ``config``, sorted by database and name."""
    names, skipped = _matching_names(conn, config)
    if skipped:
        log.warning("not captured (views, sequences and system-versioned tables are not supported): %s",
                    ", ".join(skipped))
    if not names:
        return []
    databases = sorted({db for db, _ in names})
    columns = _columns(conn, databases)
    keys = _by_table(conn, _PRIMARY_KEYS, databases)
    json_columns = _json_columns(conn, databases)
    return [MySqlTable(db, name, tuple(column_of(row, row.name in json_columns[(db, name)])
                                       for row in columns[(db, name)]), tuple(keys[(db, name)]))
            for db, name in names]


def _matching_names(conn, config: MySqlSourceConfig) -> tuple[list[tuple[str, str]], list[str]]:
    names, skipped = [], []
    with conn.cursor() as cur:
        cur.execute(_TABLES)
        for db, name, table_type in sorted(cur.fetchall()):
            if not config.matches(db, name):
                continue
            if table_type in CAPTURED_TABLE_TYPES:
                names.append((db, name))
            else:
                skipped.append(f"{db}.{name} ({table_type.lower()})")
    return names, skipped


def _placeholders(values: list[str]) -> str:
    return ", ".join(["%s"] * len(values))


def _columns(conn, databases: list[str]) -> dict[tuple[str, str], list[ColumnRow]]:
    found: dict[tuple[str, str], list[ColumnRow]] = defaultdict(list)
    with conn.cursor() as cur:
        cur.execute(_COLUMNS.format(_placeholders(databases)), databases)
        for db, table, *values in cur.fetchall():
            name, data_type, column_type, nullable, precision, scale, fsp, length, charset = values
            found[(db, table)].append(ColumnRow(name, data_type.lower(), column_type, nullable == "YES",
                                                precision, scale, fsp, length, charset))
    return found


def _by_table(conn, query: str, databases: list[str]) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    with conn.cursor() as cur:
        cur.execute(query.format(_placeholders(databases)), databases)
        for db, table, value in cur.fetchall():
            found[(db, table)].append(value)
    return found


def _json_columns(conn, databases: list[str]) -> dict[tuple[str, str], set[str]]:
    """Columns with a ``json_valid(`c`)`` check (MariaDB's JSON type)."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for key, clauses in _by_table(conn, _JSON_CHECKS, databases).items():
        for clause in clauses:
            match = re.fullmatch(r"json_valid\(`((?:[^`]|``)+)`\)", clause.strip())
            if match:
                found[key].add(match.group(1).replace("``", "`"))
    return found


def column_of(row: ColumnRow, is_json: bool) -> MySqlColumn:
    return MySqlColumn(row.name, type_of(row, is_json), row.nullable)


def type_of(row: ColumnRow, is_json: bool = False) -> MySqlType:
    """The ``MySqlType`` of a ``COLUMNS`` row."""
    name = "json" if is_json and row.data_type == "longtext" else row.data_type
    return MySqlType(name=name, unsigned=" unsigned" in row.column_type.lower(), length=_length(row),
                     precision=row.precision if name in ("decimal", "numeric") else None,
                     scale=row.scale if name in ("decimal", "numeric") else None,
                     fsp=(row.fsp or 0) if name in TEMPORAL else 0, charset=row.charset,
                     elements=enum_elements(row.column_type) if name in ("enum", "set") else ())


def _length(row: ColumnRow) -> Optional[int]:
    if row.data_type in WITH_DISPLAY_WIDTH or row.data_type == "bit":
        match = re.match(r"\w+\((\d+)\)", row.column_type)
        return int(match.group(1)) if match else (1 if row.data_type == "bit" else None)
    if row.data_type in ("char", "varchar", "binary", "varbinary"):
        return row.char_length
    return None


def enum_elements(column_type: str) -> tuple[str, ...]:
    """``enum('a','it''s')`` -> ``('a', "it's")``."""
    body = column_type[column_type.index("(") + 1:column_type.rindex(")")]
    return tuple(m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", body))


def is_captured_type(conn, database: str, table: str) -> bool:
    """Whether a table that appeared while streaming is a base table (not a sequence or a
    system-versioned table, whose binlog rows are not the table's rows); said once when not."""
    with conn.cursor() as cur:
        cur.execute("SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                    (database, table))
        row = cur.fetchone()
    if row is None or row[0] in CAPTURED_TABLE_TYPES:
        return True
    log.warning("not captured (views, sequences and system-versioned tables are not supported): %s.%s (%s)",
                database, table, row[0])
    return False


def estimated_rows(conn, table: MySqlTable) -> int:
    """The table's row count from the statistics (``TABLES.TABLE_ROWS``; 0 when unknown)."""
    with conn.cursor() as cur:
        cur.execute("SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                    (table.database, table.name))
        row = cur.fetchone()
    return int(row[0] or 0) if row else 0


def snapshot_chunks(conn, tables: list[MySqlTable], chunk_size: int) -> int:
    """How many chunks a snapshot of ``tables`` takes, from the table statistics (one per table
    without a primary key, one more per table for the empty last chunk)."""
    return sum(-(-estimated_rows(conn, t) // chunk_size) + 1 if t.primary_keys else 1 for t in tables)
