"""``paimon-cdc positions``: the source positions the sync jobs published in the warehouse
(``PositionStore``), when they were published and committed, and, given the source's conf, how
far the source is ahead of the lake."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from itertools import islice
from typing import Optional

from operators.cdc.source_position import PositionStore, PublishedPosition, SourcePosition, property_key
from operators.cdc.verification import SourceLag
from operators.console.lake import add_warehouse_arguments, open_lake
from operators.console.output import Result, Table, millis_to_datetime
from operators.console.sources import add_source_arguments, describe_position, open_source

COLUMNS = ["source", "position", "published", "committed", "age_s"]
LAG_COLUMNS = ["source_now", "caught_up", "bytes_behind", "transactions_behind", "seconds_behind", "details"]
LOOKBACK_SNAPSHOTS = 20
"""Snapshots per table searched for a position's commit (tables of other sources have none)."""


@dataclass
class PositionReport:
    source: str
    position: Optional[str]
    """In human form (PostgreSQL LSN; MySQL binlog file:pos and GTID); None: never published."""
    seq: Optional[int]
    published: Optional[datetime]
    committed: Optional[datetime]
    """Commit time of the newest lake snapshot holding this position."""
    age_s: Optional[float]
    """Seconds since it was committed (or published)."""
    lag: Optional[SourceLag] = None


def register(commands, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("positions", parents=[common],
                                 help="published source positions; with a source conf, how far the source is ahead")
    add_warehouse_arguments(parser)
    add_source_arguments(parser, required=False)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> Result:
    catalog = open_lake(args)
    published = {p.position.source: p for p in PositionStore.of(catalog).published()}
    reports = {name: report(catalog, p) for name, p in published.items()}
    source = open_source(args)
    columns = COLUMNS
    if source is not None:
        columns = COLUMNS + LAG_COLUMNS
        mine = reports.setdefault(source.source_id, PositionReport(source.source_id, None, None, None, None, None))
        known = published.get(source.source_id)
        mine.lag = source.lag(known.position if known else None)  # against the position shown
    rows = [[r.source, r.position, r.published, r.committed, r.age_s] + (_lag_cells(r.lag) if source else [])
            for r in reports.values()]
    return Result([Table(columns, rows)], [asdict(r) for r in reports.values()])


def report(catalog, published: PublishedPosition) -> PositionReport:
    position = published.position
    committed = commit_time(catalog, position)
    since = committed or published.published_at
    age = (datetime.now(timezone.utc) - since).total_seconds() if since else None
    return PositionReport(position.source, describe_position(position), position.seq, published.published_at,
                          committed, age)


def commit_time(catalog, position: SourcePosition) -> Optional[datetime]:
    """The commit time of the newest snapshot, over every lake table, holding ``position`` (or an
    earlier one of its source), among each table's ``LOOKBACK_SNAPSHOTS`` latest."""
    key = property_key(position.source)
    newest = None
    for database in catalog.list_databases():
        for name in catalog.list_tables(database):
            snapshots = catalog.get_table(f"{database}.{name}").snapshot_manager.snapshots_backwards()
            for snapshot in islice(snapshots, LOOKBACK_SNAPSHOTS):
                if snapshot.properties and key in snapshot.properties \
                        and SourcePosition.from_json(snapshot.properties[key]).seq <= position.seq:
                    newest = max(newest or 0, snapshot.time_millis)
                    break
    return millis_to_datetime(newest)


def _lag_cells(lag: Optional[SourceLag]) -> list:
    if lag is None:
        return [None] * len(LAG_COLUMNS)
    return [lag.source_position, lag.caught_up, lag.bytes_behind, lag.transactions_behind, lag.seconds_behind,
            lag.details]
