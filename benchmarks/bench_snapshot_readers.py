"""Which way of reading a PostgreSQL table into typed Arrow is fastest (the snapshot reader's
choice), on one private server in one run:

* the raw COPY drain (``copy_out``, bytes only, no parsing): the ceiling;
* ``COPY ... (FORMAT binary)`` drained in C (``operators/postgres/copy_out.py``) and decoded in C
  into typed Arrow columns (``operators/postgres/binary_copy.py``): what the snapshot reader does;
* ``COPY ... (FORMAT csv)`` drained the same way, parsed by pyarrow.csv into strings, then the
  vectorised text converters (``operators/postgres/types.py``): the reader's fallback, and what it
  did before binary COPY;
* ADBC's PostgreSQL driver ``fetch_arrow_table`` (Arrow-native, binary COPY inside), measured
  only if ``adbc-driver-postgresql`` is installed (it is not a dependency of the project:
  ``pip install adbc-driver-postgresql==1.13.0`` into a separate virtualenv with this project);
* psycopg2 ``fetchall`` (Python objects per row): the naive way.

    .venv/bin/python benchmarks/bench_snapshot_readers.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import psycopg2  # noqa: E402

from benchmarks.common import machine, publish  # noqa: E402
from operators.postgres.binary_copy import CopyColumns, decode  # noqa: E402
from operators.postgres.copy_out import copy_out  # noqa: E402
from operators.postgres.local_server import LocalPostgres  # noqa: E402
from operators.postgres.replication import SESSION_OPTIONS  # noqa: E402
from operators.postgres.snapshot_reader import parse_csv  # noqa: E402
from operators.postgres.types import TypeRegistry, paimon_type, text_column_to_arrow  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "snapshot_readers.md")
TABLE = ("CREATE TABLE t (id bigint PRIMARY KEY, k int, v text, amount numeric(12,2), ts timestamp)")


def copy_raw(server: LocalPostgres) -> int:
    conn = psycopg2.connect(server.dsn)
    conn.autocommit = True
    copy_out(conn, "COPY t TO STDOUT WITH (FORMAT csv)")
    conn.close()
    return -1


def table_columns(conn) -> list[tuple[str, int, int]]:
    """(name, type oid, type modifier) of the table's columns."""
    with conn.cursor() as cur:
        cur.execute("SELECT attname, atttypid, atttypmod FROM pg_attribute WHERE attrelid = 't'::regclass"
                    " AND attnum > 0 ORDER BY attnum")
        return cur.fetchall()


def copy_binary_typed(server: LocalPostgres) -> int:
    conn = psycopg2.connect(server.dsn, options=SESSION_OPTIONS)
    columns = table_columns(conn)
    registry = TypeRegistry(conn)
    pg_types = [registry.get(oid) for _, oid, _ in columns]
    copy = CopyColumns.of([name for name, _, _ in columns], pg_types, [mod for _, _, mod in columns],
                          [paimon_type(t, mod, True) for t, (_, _, mod) in zip(pg_types, columns)], ["id"])
    rows = decode(copy_out(conn, f"COPY (SELECT {copy.select_list()} FROM t) TO STDOUT WITH (FORMAT binary)"), copy)
    conn.close()
    return rows.num_rows


def copy_csv_typed(server: LocalPostgres) -> int:
    conn = psycopg2.connect(server.dsn, options=SESSION_OPTIONS)
    columns = table_columns(conn)
    strings = parse_csv(copy_out(conn, "COPY t TO STDOUT WITH (FORMAT csv)"), len(columns))
    registry = TypeRegistry(conn)
    arrays = [text_column_to_arrow(strings.column(i), registry.get(oid), mod,
                                   paimon_type(registry.get(oid), mod, True))
              for i, (_, oid, mod) in enumerate(columns)]
    conn.close()
    return len(arrays[0])


def adbc(server: LocalPostgres) -> int:
    import adbc_driver_postgresql.dbapi as dbapi
    with dbapi.connect(f"postgresql://postgres:postgres@127.0.0.1:{server.port}/postgres") as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT * FROM t")
            return cur.fetch_arrow_table().num_rows


def fetchall(server: LocalPostgres) -> int:
    conn = psycopg2.connect(server.dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM t")
        count = len(cur.fetchall())
    conn.close()
    return count


def best_of(runs: int, function, server) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(runs):
        started = time.perf_counter()
        count = function(server)
        best = min(best, time.perf_counter() - started)
    return best, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    candidates = [("raw COPY drain, no parsing (ceiling)", copy_raw),
                  ("COPY binary + C decoder into typed Arrow (the snapshot reader)", copy_binary_typed),
                  ("COPY csv + pyarrow + typed converters (the reader's fallback)", copy_csv_typed),
                  ("ADBC fetch_arrow_table", adbc), ("psycopg2 fetchall", fetchall)]
    try:
        import adbc_driver_postgresql  # noqa: F401
    except ImportError:
        candidates = [c for c in candidates if c[1] is not adbc]
    with LocalPostgres() as server:
        server.execute(TABLE)
        server.execute(f"INSERT INTO t SELECT g, g % 1000, 'value ' || g, g * 0.01, TIMESTAMP '2024-01-01'"
                       f" + g * INTERVAL '1 second' FROM generate_series(1, {args.rows}) g")
        server.execute("VACUUM ANALYZE t")
        timings = [(name, *best_of(2, function, server)) for name, function in candidates]
    ours = timings[1][1]
    lines = [f"# Snapshot readers: PostgreSQL table -> typed Arrow ({args.rows:,} rows, 5 columns)", "",
             f"Machine: {machine()}", "", "| reader | seconds (best of 2) | rows/s | time vs ours |",
             "|---|---:|---:|---:|"]
    for name, seconds, count in timings:
        if count not in (-1, args.rows):
            raise AssertionError(f"{name} read {count} rows, expected {args.rows}")
        lines.append(f"| {name} | {seconds:.2f} | {args.rows / seconds:,.0f} | {seconds / ours:.2f}x |")
    if not any(name.startswith("ADBC") for name, *_ in timings):
        lines += ["", "ADBC not installed here; see the module docstring to include it."]
    publish("\n".join(lines) + "\n", RESULTS, "snapshot_readers")


if __name__ == "__main__":
    main()
