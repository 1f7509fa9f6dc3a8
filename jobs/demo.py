"""The README's first command: postgres_sync_database (or mysql_sync_database) on an embedded default.

Starts a private PostgreSQL, or MariaDB with ``--source mariadb`` (installed server binaries, free
loopback port, temporary data directory), fills a small shop database, runs an ongoing workload
of inserts, updates and deletes while the job syncs the whole database into a local warehouse on
a local Flink mini-cluster, then waits until the lake has caught up, prints the lake beside the
source, and stops everything it started. The job's start summary, its web UI address and the
snapshot's progress lines are shown as the job prints them (its whole output is in the log).

    python jobs/demo.py [--source postgres|mariadb] [--warehouse ./warehouse] [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dataclasses import dataclass  # noqa: E402
from typing import Callable  # noqa: E402

from operators.cdc.source_position import POSITIONS_DIRECTORY  # noqa: E402
from operators.mysql.local_server import LocalMariaDB  # noqa: E402
from operators.postgres.local_server import LocalPostgres  # noqa: E402

DATABASE = "shop"
TABLES = {"customers": ["id"], "orders": ["id"], "order_events": ["order_id", "at", "event"]}

POSTGRES_SCHEMA = ["""CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email varchar(80), since date);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, amount numeric(10,2),
                     status text, placed timestamptz DEFAULT now());
CREATE TABLE order_events (order_id bigint, at timestamptz DEFAULT clock_timestamp(), event text);
INSERT INTO customers SELECT g, 'customer ' || g, 'c' || g || '@example.com', DATE '2020-01-01' + g
  FROM generate_series(1, 500) g;
INSERT INTO orders SELECT g, 1 + g % 500, (g % 1000) * 1.5, 'new', TIMESTAMPTZ '2024-01-01' + g * INTERVAL '1 minute'
  FROM generate_series(1, 20000) g;"""]

MARIADB_SCHEMA = [
    "CREATE TABLE customers (id INT PRIMARY KEY, name TEXT NOT NULL, email VARCHAR(80), since DATE)",
    """CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(10,2),
                            status TEXT, placed TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))""",
    "CREATE TABLE order_events (order_id BIGINT, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6), event TEXT)",
    """INSERT INTO customers SELECT seq, CONCAT('customer ', seq), CONCAT('c', seq, '@example.com'),
       DATE '2020-01-01' + INTERVAL seq DAY FROM seq_1_to_500""",
    """INSERT INTO orders SELECT seq, 1 + seq % 500, (seq % 1000) * 1.5, 'new',
       TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq MINUTE FROM seq_1_to_20000""",
]


@dataclass
class DemoSource:
    """One database the demo runs on: its private server, shop schema and sync job."""

    name: str
    job: str
    conf_flag: str
    server: object
    """A ``LocalPostgres`` or ``LocalMariaDB`` (started by ``main``)."""
    schema: list[str]
    version_sql: str
    connect: Callable[[], object]
    """A DB-API connection to the shop database (not in autocommit)."""
    conf: Callable[[], dict[str, str]]
    """The job's source options."""


def postgres_source() -> DemoSource:
    import psycopg2
    server = LocalPostgres()
    return DemoSource("PostgreSQL", "postgres_sync_database", "--postgres_conf", server, POSTGRES_SCHEMA,
                      "SHOW server_version", lambda: psycopg2.connect(server.dsn_for(DATABASE)),
                      lambda: {**server.conf(DATABASE), "slot.name": "demo"})


def mariadb_source() -> DemoSource:
    server = LocalMariaDB()

    def connect():
        conn = server.connect(DATABASE)
        conn.autocommit(False)
        return conn
    return DemoSource("MariaDB", "mysql_sync_database", "--mysql_conf", server, MARIADB_SCHEMA,
                      "SELECT VERSION()", connect, lambda: server.conf(DATABASE))


SOURCES = {"postgres": postgres_source, "mariadb": mariadb_source}


class Workload(threading.Thread):
    """Random small transactions against the shop until stopped."""

    def __init__(self, source: DemoSource):
        super().__init__(daemon=True)
        self.source = source
        self.stop = threading.Event()
        self.transactions = 0

    def run(self) -> None:
        conn = self.source.connect()
        rng, next_id = random.Random(7), 20001
        with conn.cursor() as cur:
            while not self.stop.is_set():
                choice = rng.random()
                if choice < 0.5:
                    cur.execute("INSERT INTO orders (id, customer_id, amount, status) VALUES (%s, %s, %s, 'new')",
                                (next_id, rng.randint(1, 500), rng.randint(100, 99999) / 100))
                    cur.execute("INSERT INTO order_events (order_id, event) VALUES (%s, 'created')", (next_id,))
                    next_id += 1
                elif choice < 0.9:
                    order = rng.randint(1, next_id - 1)
                    cur.execute("UPDATE orders SET status = %s WHERE id = %s",
                                (rng.choice(["paid", "shipped", "returned"]), order))
                    cur.execute("INSERT INTO order_events (order_id, event) VALUES (%s, 'status')", (order,))
                else:
                    cur.execute("DELETE FROM orders WHERE id = %s", (rng.randint(1, next_id - 1),))
                conn.commit()
                self.transactions += 1
                time.sleep(0.02)
        conn.close()


def lake_count(warehouse: str, table: str) -> int:
    import paimon_py
    catalog = paimon_py.CatalogFactory.create({"warehouse": warehouse})
    if not catalog.table_exists(f"{DATABASE}.{table}"):
        return -1
    read = catalog.get_table(f"{DATABASE}.{table}").new_read_builder()
    return read.new_read().to_arrow(read.new_scan().plan().splits()).num_rows


def source_count(source: DemoSource, table: str) -> int:
    return source.server.execute(f"SELECT count(*) FROM {table}", database=DATABASE)[0][0]


def caught_up(source: DemoSource, warehouse: str) -> bool:
    return all(lake_count(warehouse, t) == source_count(source, t) for t in TABLES)


def report(source: DemoSource, warehouse: str, workload: Workload) -> None:
    import paimon_py
    catalog = paimon_py.CatalogFactory.create({"warehouse": warehouse})
    print(f"\nworkload: {workload.transactions} transactions\n")
    print(f"{'table':<14}{'source rows':>12}{'lake rows':>12}{'snapshots':>11}  equal")
    for table in TABLES:
        snapshots = len(catalog.get_table(f"{DATABASE}.{table}").snapshot_manager.list_ids()) \
            if catalog.table_exists(f"{DATABASE}.{table}") else 0
        rows, lake = source_count(source, table), lake_count(warehouse, table)
        print(f"{table:<14}{rows:>12}{lake:>12}{snapshots:>11}  {'yes' if rows == lake else 'NO'}")
    print(f"\nThe lake is at {os.path.abspath(warehouse)} (Paimon tables {DATABASE}.*; read them with "
          f"pypaimon or any Paimon engine).")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", choices=sorted(SOURCES), default="postgres", help="the database to sync from")
    parser.add_argument("--warehouse", default="warehouse")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the workload runs")
    args = parser.parse_args(argv)
    shutil.rmtree(os.path.join(args.warehouse, f"{DATABASE}.db"), ignore_errors=True)
    shutil.rmtree(os.path.join(args.warehouse, POSITIONS_DIRECTORY), ignore_errors=True)
    os.makedirs(args.warehouse, exist_ok=True)
    source = SOURCES[args.source]()
    server = source.server.start()
    job = None
    try:
        server.execute(f"CREATE DATABASE {DATABASE}")
        for statement in source.schema:
            server.execute(statement, database=DATABASE)
        print(f"{source.name} {server.execute(source.version_sql)[0][0]} on 127.0.0.1:{server.port}, "
              f"database {DATABASE}: {', '.join(TABLES)}", flush=True)
        job = start_job(source, args.warehouse)
        JobOutput(job_log(args.warehouse), job).start()
        wait_for_tables(args.warehouse, job)
        workload = Workload(source)
        workload.start()
        time.sleep(args.seconds)
        workload.stop.set()
        workload.join()
        deadline = time.monotonic() + 60
        while not caught_up(source, args.warehouse) and time.monotonic() < deadline:
            time.sleep(1)
        report(source, args.warehouse, workload)
        return 0 if caught_up(source, args.warehouse) else 1
    finally:
        if job is not None:
            stop_job(job)
        server.stop()


def start_job(source: DemoSource, warehouse: str) -> subprocess.Popen:
    """The sync job in a child process (its own session); its output goes to a log."""
    command = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{source.job}.py"),
               "--warehouse", warehouse, "--database", DATABASE,
               "--flink_conf", "execution.checkpointing.interval=2s",
               *[x for k, v in source.conf().items() for x in (source.conf_flag, f"{k}={v}")]]
    log_path = job_log(warehouse)
    print(f"starting {source.job} on a local Flink mini-cluster (log: {log_path})", flush=True)
    with open(log_path, "wb") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def job_log(warehouse: str) -> str:
    return os.path.join(warehouse, "demo-job.log")


class JobOutput(threading.Thread):
    """Shows the job's start summary, web UI address and progress lines as they reach its log."""

    SHOWN = re.compile(r"^(Syncing into |  \S+: |--\w+_conf: |Flink web UI: |snapshot \S+: )")

    def __init__(self, path: str, job: subprocess.Popen):
        super().__init__(daemon=True)
        self.path, self.job = path, job

    def run(self) -> None:
        pending = ""
        with open(self.path, errors="replace") as log:
            while self.job.poll() is None:
                pending += log.readline()
                if not pending.endswith("\n"):
                    time.sleep(0.2)
                    continue
                if self.SHOWN.match(pending):
                    print(f"  job | {pending.rstrip()}", flush=True)
                pending = ""


def wait_for_tables(warehouse: str, job: subprocess.Popen, timeout_s: float = 180) -> None:
    """Until the initial snapshot is in the lake (then the workload starts: streaming)."""
    deadline = time.monotonic() + timeout_s
    while lake_count(warehouse, "orders") <= 0:
        if job.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the job did not start; see {job_log(warehouse)}")
        time.sleep(0.5)


def stop_job(job: subprocess.Popen) -> None:
    """Ends the job and its mini-cluster by process group (its last checkpoint is in the lake)."""
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(job.pid, sig)
        except ProcessLookupError:
            return
        try:
            job.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


if __name__ == "__main__":
    sys.exit(main())
