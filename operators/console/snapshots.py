"""``paimon-cdc snapshots``: a table's snapshots, newest first, with the CDC source position each
carries (snapshot ``properties`` ``cdc.position.<source>``, see ``operators/cdc/source_position``)."""

from __future__ import annotations

import argparse
import itertools
import json
from typing import Any

from operators.cdc.source_position import PROPERTY_PREFIX, SourcePosition
from operators.console.lake import add_table_arguments, open_table, positive
from operators.console.output import Result, Table, millis_to_datetime
from paimon_py.snapshot.snapshot import BATCH_COMMIT_IDENTIFIER, Snapshot

COLUMNS = ["id", "kind", "committed", "commit_user", "identifier", "delta", "total", "changelog", "schema",
           "position"]


def register(commands, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("snapshots", parents=[common],
                                 help="snapshots (newest first): kind, time, records, CDC source position")
    add_table_arguments(parser)
    parser.add_argument("--limit", type=positive, metavar="N", help="only the newest N snapshots")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> Result:
    table = open_table(args)
    snapshots = list(itertools.islice(table.snapshot_manager.snapshots_backwards(), args.limit))
    rows = [snapshot_row(s) for s in snapshots]
    document = [dict(zip(COLUMNS[:-1], row[:-1]), positions=positions(s)) for s, row in zip(snapshots, rows)]
    message = None if snapshots else f"{table.identifier} has no snapshots yet"
    return Result(tables=[Table(COLUMNS, rows)], document=document, message=message)


def snapshot_row(snapshot: Snapshot) -> list:
    identifier = snapshot.commit_identifier
    return [snapshot.id, snapshot.commit_kind.value, millis_to_datetime(snapshot.time_millis), snapshot.commit_user,
            "batch" if identifier == BATCH_COMMIT_IDENTIFIER else identifier, snapshot.delta_record_count,
            snapshot.total_record_count, snapshot.changelog_record_count, snapshot.schema_id,
            "; ".join(compact_position(p) for p in positions(snapshot).values()) or None]


def positions(snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    """The CDC source positions of a snapshot by source id, as their JSON objects."""
    return {key[len(PROPERTY_PREFIX):]: json.loads(value) for key, value in (snapshot.properties or {}).items()
            if key.startswith(PROPERTY_PREFIX)}


def compact_position(document: dict[str, Any]) -> str:
    """``<source> seq=N`` and the scalar entries of the state (nested ones as their sizes)."""
    position = SourcePosition(document["source"], int(document["seq"]), document.get("state") or {})
    parts = [f"{k}={len(v)} entries" if isinstance(v, (dict, list)) else f"{k}={v}"
             for k, v in position.state.items()]
    return " ".join([position.source, f"seq={position.seq}"] + parts)
