"""``paimon-cdc verify``: every captured table's row count and checksums in the source and in the
lake, at the same point (``operators/cdc/verification.py``); exit code 1 when any table differs."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from operators.cdc.source_position import PositionStore
from operators.cdc.verification import SourceLag, TableVerdict, Verification, verify
from operators.console.lake import CommandError, add_warehouse_arguments, open_lake
from operators.console.output import Result, Table
from operators.console.sources import add_source_arguments, check_published, open_source

COLUMNS = ["table", "result", "source_rows", "lake_rows", "source_checksum", "lake_checksum", "differing_columns",
           "first_keys"]


def register(commands, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("verify", parents=[common], help="compare every captured table of a database "
                                                                   "with its source (exit 1 on a difference)")
    add_warehouse_arguments(parser)
    parser.add_argument("--database", required=True, help="the lake database the job writes (its --database)")
    add_source_arguments(parser, required=True)
    parser.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                        help="how long to wait for the lake to reach the source's position (default 60)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> Result:
    catalog = open_lake(args)
    if args.database not in catalog.list_databases():
        raise CommandError(f"database {args.database!r} does not exist in the warehouse — it has: "
                           f"{', '.join(catalog.list_databases()) or 'no databases'} (give the job's --database)")
    source = open_source(args, args.database)
    check_published(PositionStore.of(catalog), source)
    verification = verify(source, catalog, args.database, args.timeout)
    rows = [[t.table, _result(t), t.source_rows, t.lake_rows, t.source_checksum, t.lake_checksum,
             t.differing_columns, [_key_text(k) for k in t.first_keys]] for t in verification.tables]
    return Result([Table(COLUMNS, rows)], {**asdict(verification), "equal": verification.equal},
                  0 if verification.equal else 1, "\n".join(summary(verification)))


def _result(verdict: TableVerdict) -> str:
    if verdict.lake_rows is None:
        return "missing in lake"
    if verdict.equal:
        return "equal (rows changing)" if verdict.changing else "equal"
    parts = [f"{n} {what}" for n, what in ((verdict.missing_in_lake, "missing in lake"),
                                            (verdict.extra_in_lake, "extra in lake"), (verdict.changed, "changed"))
             if n]
    return "DIFFERENT" + (f" ({', '.join(parts)})" if parts else "")


def _key_text(key: dict) -> str:
    return "/".join(str(v) for v in key.values())


def summary(verification: Verification) -> list[str]:
    """The closing lines of the text form: where both sides were read, lag, what was not compared."""
    lines = [f"source {verification.source_id} read at {verification.source_position}; "
             f"lake at {verification.lake_position or 'no published position'}"
             + (f" (read {verification.attempts} times: only what every read shows counts)"
                if verification.attempts > 1 else "")]
    if verification.lag is not None:
        lines.append(_behind(verification.lag))
    lake_only: dict[tuple[str, ...], list[str]] = {}
    for verdict in verification.tables:
        if verdict.not_compared:
            lake_only.setdefault(tuple(verdict.not_compared), []).append(verdict.table)
    lines += [f"not compared (only in the lake): {', '.join(c)} of {', '.join(t)}" for c, t in lake_only.items()]
    changing = [t.table for t in verification.tables if t.changing]
    if changing:
        lines.append(f"{', '.join(changing)}: differences moved between the reads (a live workload), none stayed")
    differing = sum(not t.equal for t in verification.tables)
    lines.append(f"{differing} of {len(verification.tables)} tables differ" if differing
                 else f"all {len(verification.tables)} tables equal")
    return lines


def _behind(lag: SourceLag) -> str:
    amounts = [f"{lag.bytes_behind} bytes"] if lag.bytes_behind is not None else []
    amounts += [f"{lag.transactions_behind} transactions"] if lag.transactions_behind else []
    return (f"the lake did not reach the source's position in time: it is behind by "
            f"{', '.join(amounts) or 'an unknown amount'} (source now at {lag.source_position}) — "
            f"is the sync job running?")
