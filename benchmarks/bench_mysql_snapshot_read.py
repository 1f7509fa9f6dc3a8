"""How fast the MySQL snapshot reader reads a table into canonical Arrow arrays, against the
``mariadb --batch --quick`` client reading the same rows (the C client: the baseline) and
pymysql's own row decoding, on one private MariaDB server in one run:

* ``mariadb --batch --quick -e 'SELECT ...' > /dev/null``: the C client, rows as text;
* ``SnapshotReader.chunk`` at 8096 rows a chunk (Flink CDC's default) and at 50000 (ours): one
  consistent snapshot, position and server-formatted CSV value per chunk, parsed by pyarrow;
* pymysql ``fetchall`` per 50000-row chunk (Python tuples, no Arrow): the naive way.

    .venv/bin/python benchmarks/bench_mysql_snapshot_read.py [--rows 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.common import machine, publish  # noqa: E402
from operators.mysql.inspection import list_tables  # noqa: E402
from operators.mysql.local_server import ROOT_PASSWORD, LocalMariaDB, find_binary  # noqa: E402
from operators.mysql.snapshot_reader import SnapshotReader  # noqa: E402
from operators.mysql.source_config import MySqlSourceConfig  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "mysql_snapshot_read.md")
TABLE = "CREATE TABLE bench.t (id BIGINT PRIMARY KEY, a INT, s VARCHAR(32), d DECIMAL(12,2), t DATETIME)"


def load(server: LocalMariaDB, rows: int) -> None:
    server.execute("CREATE DATABASE bench")
    server.execute(TABLE)
    conn = server.connect("bench")
    with conn.cursor() as cur:
        cur.execute("SET SESSION max_recursive_iterations = %s", (rows + 1,))
        cur.execute("INSERT INTO t WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < %s)"
                    " SELECT n, n * 7 %% 100000, CONCAT('name-', n), (n %% 100000) / 100,"
                    " '2024-01-01 00:00:00' + INTERVAL n SECOND FROM seq", (rows,))
    conn.close()


def client(server: LocalMariaDB) -> int:
    with open(os.devnull, "w") as sink:
        subprocess.run([find_binary("mariadb", "mysql"), "-h127.0.0.1", f"-P{server.port}", "-uroot",
                        f"-p{ROOT_PASSWORD}", "--batch", "--quick", "-e", "SELECT id, a, s, d, t FROM bench.t"],
                       stdout=sink, check=True)
    return 0


def snapshot_reader(config: MySqlSourceConfig, chunk_rows: int) -> int:
    conn = config.connect()
    table, = list_tables(conn, config)
    conn.close()
    reader = SnapshotReader(config)
    total, after = 0, None
    while True:
        chunk = reader.chunk(table, table.primary_keys, after, chunk_rows)
        total += chunk.num_rows
        after = chunk.last_key
        if after is None:
            reader.close()
            return total


def pymysql_rows(config: MySqlSourceConfig, chunk_rows: int) -> int:
    conn = config.connect()
    total, after = 0, -1
    with conn.cursor() as cur:
        while True:
            cur.execute("SELECT id, a, s, d, t FROM bench.t WHERE id > %s ORDER BY id LIMIT %s", (after, chunk_rows))
            rows = cur.fetchall()
            total += len(rows)
            if len(rows) < chunk_rows:
                conn.close()
                return total
            after = rows[-1][0]


def timed(run, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with LocalMariaDB() as server:
        load(server, args.rows)
        config = MySqlSourceConfig.parse({**server.conf("bench"), "table-name": "t"}, True)
        readers = [("`mariadb --batch --quick` (C client, baseline)", lambda: client(server)),
                   ("SnapshotReader, 8096 rows a chunk", lambda: snapshot_reader(config, 8096)),
                   ("SnapshotReader, 50000 rows a chunk (default)", lambda: snapshot_reader(config, 50000)),
                   ("pymysql fetchall, 50000 rows a chunk (tuples)", lambda: pymysql_rows(config, 50000))]
        results = [(name, timed(run, args.runs)) for name, run in readers]
    baseline = results[0][1][len(results[0][1]) // 2]
    lines = [f"# MySQL snapshot read, {args.rows:,} rows `(id BIGINT PK, a INT, s VARCHAR(32), d DECIMAL(12,2), "
             f"t DATETIME)`, {args.runs} runs", "", machine(), "",
             "| reader | median s | best s | median rows/s | vs baseline |", "|---|---|---|---|---|"]
    for name, times in results:
        median = times[len(times) // 2]
        lines.append(f"| {name} | {median:.2f} | {times[0]:.2f} | {args.rows / median:,.0f} | "
                     f"{baseline / median:.2f}x |")
    publish("\n".join(lines) + "\n", RESULTS, "mysql_snapshot_read")


if __name__ == "__main__":
    main()
