"""Binlog decoding speed: ``BinlogStream`` against python-mysql-replication (PMR) on the same binlog.

    .venv/bin/python benchmarks/bench_binlog_decoder.py [--rows 100000] [--pmr-rows 20000]

Starts a private MariaDB, loads ``bench.t (id BIGINT PK, a INT, s VARCHAR(32), d DECIMAL(12,2),
t DATETIME)`` in 1,000-row transactions (inserts, then updates of every row), and drains each phase
with both readers (best of two runs each) (PMR on a prefix of ``--pmr-rows`` rows: it is slow). Results
(rows/s and the ratio): ``benchmarks/results/binlog_decoder.md`` and ``binlog_decoder.png`` beside it."""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.common import machine, publish  # noqa: E402
from operators.mysql.binlog.connection import ServerSettings  # noqa: E402
from operators.mysql.binlog.server_position import current_position  # noqa: E402
from operators.mysql.binlog.stream import BinlogStream  # noqa: E402
from operators.mysql.binlog.transaction import RowsChange  # noqa: E402
from operators.mysql.local_server import ROOT_PASSWORD, LocalMariaDB  # noqa: E402


def load(server: LocalMariaDB, rows: int) -> list:
    """Positions: before inserts, before updates, end."""
    conn = server.connect()
    cur = conn.cursor()
    cur.execute("CREATE DATABASE bench")
    cur.execute("CREATE TABLE bench.t (id BIGINT PRIMARY KEY, a INT, s VARCHAR(32), d DECIMAL(12,2), t DATETIME)")
    marks = [current_position(conn)]
    for lo in range(1, rows + 1, 1000):
        cur.execute(f"INSERT INTO bench.t SELECT seq, seq % 1000, CONCAT('row-', seq), seq / 100, "
                    f"'2024-01-01' + INTERVAL seq SECOND FROM bench.seq_{lo}_to_{min(lo + 999, rows)}")
    marks.append(current_position(conn))
    for lo in range(1, rows + 1, 1000):
        cur.execute(f"UPDATE bench.t SET a = a + 1, d = d + 0.01 WHERE id BETWEEN {lo} AND {lo + 999}")
    marks.append(current_position(conn))
    conn.close()
    return marks


def ours(server, start, end) -> tuple[int, float]:
    began = time.perf_counter()
    s = BinlogStream(ServerSettings("127.0.0.1", server.port, "root", ROOT_PASSWORD), start, server_id=9101)
    rows = 0
    while s.position.file_pos() < end.file_pos():
        for t in s.poll(100_000, 1.0):
            if t.end is None or t.end.file_pos() <= end.file_pos():  # a poll may read past the phase
                rows += sum(len(c) for c in t.changes if isinstance(c, RowsChange))
    s.close()
    return rows, time.perf_counter() - began


def pmr(server, start, limit) -> tuple[int, float]:
    from pymysqlreplication import BinLogStreamReader
    from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent
    began = time.perf_counter()
    reader = BinLogStreamReader(
        connection_settings={"host": "127.0.0.1", "port": server.port, "user": "root", "passwd": ROOT_PASSWORD},
        server_id=9102, log_file=start.file, log_pos=start.pos, resume_stream=True, blocking=False,
        only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent])
    rows = 0
    for event in reader:
        for row in event.rows:
            rows += 1
            _ = row.get("values") or row.get("after_values")
        if rows >= limit:
            break
    reader.close()
    return rows, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pmr-rows", type=int, default=20_000)
    parser.add_argument("--output", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                                         "binlog_decoder.md"))
    args = parser.parse_args()
    with LocalMariaDB() as server:
        marks = load(server, args.rows)
        lines = [f"# Binlog decoding: BinlogStream vs python-mysql-replication ({args.rows:,} rows)", "",
                 f"Machine: {machine()}", "",
                 "| phase | ours rows | ours s | ours rows/s | PMR rows | PMR s | PMR rows/s | ours / PMR |",
                 "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for phase, start, end in (("insert", marks[0], marks[1]), ("update", marks[1], marks[2])):
            n1, s1 = min((ours(server, start, end) for _ in range(2)), key=lambda r: r[1])
            n2, s2 = min((pmr(server, start, args.pmr_rows) for _ in range(2)), key=lambda r: r[1])
            lines.append(f"| {phase} | {n1:,} | {s1:.2f} | {n1 / s1:,.0f} | {n2:,} | {s2:.2f} | {n2 / s2:,.0f} | "
                         f"{n1 / s1 / (n2 / s2):.1f}x |")
    publish("\n".join(lines) + "\n", args.output, "binlog_decoder")


if __name__ == "__main__":
    main()
