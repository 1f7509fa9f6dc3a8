"""The chaos suite's tables and the live workload that runs on them throughout a run.

Three tables, the same on PostgreSQL and MariaDB: ``accounts`` and ``orders`` with a primary key,
``events`` without one (an append table in the lake; every row has a unique ``seq``, so a
duplicate or a lost row shows as a difference of the multiset). The workload, in a thread of its
own with its own connection, commits small transactions back to back from a seeded
``random.Random``: inserts, updates, deletes, updates that change an order's primary key, bulk
updates of many rows, and multi-table transactions (a transfer between two accounts with an order
and an event, one transaction); every transaction also appends an event.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

TABLES = {
    "accounts": "CREATE TABLE accounts (id BIGINT PRIMARY KEY, owner VARCHAR(64) NOT NULL, "
                "balance DECIMAL(14,2) NOT NULL)",
    "orders": "CREATE TABLE orders (id BIGINT PRIMARY KEY, account BIGINT NOT NULL, amount DECIMAL(12,2), "
              "qty INT, note VARCHAR(200))",
    "events": "CREATE TABLE events (seq BIGINT NOT NULL, kind VARCHAR(16) NOT NULL, ref BIGINT)",
}
KEYS = {"accounts": ["id"], "orders": ["id"], "events": ["seq"]}
"""The columns each table's rows are sorted by for the comparison (``events``: unique, no key)."""

ACCOUNTS = 500


def fill_statements(series: Callable[[int, int], str], orders: int) -> list[str]:
    """The initial rows: ``ACCOUNTS`` accounts, ``orders`` orders and as many events.
    ``series(first, last)``: the dialect's row source of integers ``seq`` from first to last."""
    return [
        f"INSERT INTO accounts (id, owner, balance) SELECT seq, CONCAT('owner ', seq), 1000 FROM {series(1, ACCOUNTS)}",
        f"INSERT INTO orders (id, account, amount, qty, note) SELECT seq, seq % {ACCOUNTS} + 1, seq * 1.25, "
        f"seq % 13, CONCAT('n', seq) FROM {series(1, orders)}",
        f"INSERT INTO events (seq, kind, ref) SELECT seq, 'fill', seq FROM {series(1, orders)}",
    ]


@dataclass
class WorkloadCounts:
    """What the workload committed, by kind of transaction."""
    transactions: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class Workload:
    """Transactions back to back (``pause_s`` between two) until ``stop()``, in a thread."""

    def __init__(self, connect: Callable[[], object], seed: int, orders: int, pause_s: float = 0.03):
        """``connect()``: a new DB-API connection (autocommit off); ``orders``: the filled orders
        (ids and event seqs continue after them)."""
        self.connect, self.rng, self.pause_s = connect, random.Random(seed), pause_s
        self.next_order = self.next_event = orders + 1
        self.max_order = orders
        self.counts = WorkloadCounts()
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-workload", daemon=True)

    def start(self) -> "Workload":
        self._thread.start()
        return self

    def stop(self) -> WorkloadCounts:
        """Stops after the transaction in progress; raises what the workload failed with."""
        self._stop.set()
        if self._thread.ident is None:  # never started
            return self.counts
        self._thread.join(60)
        assert not self._thread.is_alive(), "the workload did not stop"
        if self.error is not None:
            raise AssertionError(f"the workload failed: {self.error!r}") from self.error
        return self.counts

    def _run(self) -> None:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                while not self._stop.is_set():
                    kind = self.rng.choices(KINDS, WEIGHTS)[0]
                    for sql, params in getattr(self, f"_{kind}")():
                        cur.execute(sql, params)
                    cur.execute("INSERT INTO events (seq, kind, ref) VALUES (%s, %s, %s)",
                                (self._event(), kind, self.counts.transactions))
                    conn.commit()
                    self.counts.transactions += 1
                    self.counts.by_kind[kind] = self.counts.by_kind.get(kind, 0) + 1
                    time.sleep(self.pause_s)
        except BaseException as e:  # reported by stop()
            self.error = e
        finally:
            conn.close()

    def _event(self) -> int:
        self.next_event += 1
        return self.next_event - 1

    def _order_id(self) -> int:
        return self.rng.randint(1, self.max_order)

    def _insert(self):
        self.next_order += 1
        self.max_order = self.next_order - 1
        return [("INSERT INTO orders (id, account, amount, qty, note) VALUES (%s, %s, %s, %s, %s)",
                 (self.max_order, self.rng.randint(1, ACCOUNTS), self.rng.randint(1, 99999) / 100,
                  self.rng.randint(1, 20), f"w{self.max_order}"))]

    def _update(self):
        return [("UPDATE orders SET qty = qty + 1, note = %s WHERE id = %s", (f"u{self.rng.random():.6f}",
                                                                               self._order_id()))]

    def _delete(self):
        return [("DELETE FROM orders WHERE id = %s", (self._order_id(),))]

    def _key_change(self):
        """An update that moves an order to a new primary key."""
        self.next_order += 1
        self.max_order = self.next_order - 1
        return [("UPDATE orders SET id = %s WHERE id = %s", (self.max_order, self._order_id()))]

    def _bulk(self):
        """Many rows in one statement."""
        return [("UPDATE orders SET amount = amount + 1 WHERE id %% 97 = %s", (self.rng.randint(0, 96),))]

    def _transfer(self):
        """A multi-table transaction: two accounts, a new order, (and the event every one has)."""
        a, b = self.rng.sample(range(1, ACCOUNTS + 1), 2)
        amount = self.rng.randint(1, 5000) / 100
        return [("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, a)),
                ("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, b)),
                *self._insert()]


KINDS = ("insert", "update", "delete", "key_change", "bulk", "transfer")
WEIGHTS = (30, 30, 10, 8, 2, 20)
