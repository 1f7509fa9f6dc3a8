"""The large-transaction tests' run and check: a sync job of table ``t`` into ``lake.t`` while
whole-table UPDATEs add 1 to ``k`` of all rows, one at a time; then per lake snapshot the distinct
values of ``k``. A snapshot that holds a part of a transaction shows two values."""

from __future__ import annotations

from typing import Callable

import pyarrow.compute as pc

from paimon_py.catalog import FileSystemCatalog
from tests.support.jobs import Job
from tests.support.waiting import wait_until

ROWS = 250_000
"""Rows of ``t``: each UPDATE is three parts of the readers' ``PART_ROWS`` (100,000)."""
UPDATES = 3
JOB_ARGS = ["--database", "lake", "--table", "t",
            "--table_conf", "snapshot.num-retained.min=1000", "--table_conf", "snapshot.num-retained.max=1000"]
"""Every snapshot is kept, to be read one by one."""


def check_whole_transactions(job: Job, warehouse: str, update: Callable[[], None]) -> None:
    """Runs ``UPDATES`` updates, each once the previous one is in the lake; stops ``job``; checks
    that no snapshot holds two generations and that every generation was seen."""
    try:
        for generation in range(1, UPDATES + 1):
            wait_until(lambda: latest_generation(warehouse) == [generation - 1], 180,
                       f"generation {generation - 1} in the lake", job.output, interval=1.0)
            update()
        wait_until(lambda: latest_generation(warehouse) == [UPDATES], 180, f"generation {UPDATES} in the lake",
                   job.output, interval=1.0)
    finally:
        job.stop()
    seen = generations(warehouse)
    assert all(len(values) <= 1 for values in seen.values()), f"a snapshot with a part of a transaction: {seen}"
    assert {v for values in seen.values() for v in values} == set(range(UPDATES + 1))


def generations(warehouse: str, latest_only: bool = False) -> dict[int, list[int]]:
    """Per lake snapshot id (or the latest's only), the distinct values of ``k``."""
    catalog = FileSystemCatalog(warehouse)
    if not catalog.table_exists("lake.t"):
        return {}
    table = catalog.get_table("lake.t")
    out = {}
    for snapshot in table.snapshot_manager.snapshots_backwards():
        read = table.new_read_builder().with_snapshot(snapshot.id)
        rows = read.new_read().to_arrow(read.new_scan().plan().splits())
        out[snapshot.id] = sorted(pc.unique(rows.column("k")).to_pylist()) if rows.num_rows else []
        if latest_only:
            break
    return out


def latest_generation(warehouse: str) -> list[int]:
    return next(iter(generations(warehouse, latest_only=True).values()), [])
