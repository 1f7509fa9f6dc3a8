"""``paimon-cdc compact``: a one-shot full compaction of a table (or of some partitions) with
paimon_py's ``FullCompaction``, committed as one COMPACT snapshot. Safe beside a sync job writing
the same table: a commit conflict (a compacted file removed, deletion vectors changed meanwhile)
discards the attempt and starts again from the latest snapshot, a few times."""

from __future__ import annotations

import argparse
from operators.console.lake import (CommandError, add_partition_argument, add_table_arguments, open_table,
                                    partition_filter, positive)
from operators.console.output import Result
from paimon_py.exceptions import CommitConflictError


def register(commands, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("compact", parents=[common],
                                 help="fully compact a table or some partitions (one COMPACT snapshot)")
    add_table_arguments(parser)
    add_partition_argument(parser, "compact the buckets")
    parser.add_argument("--max-attempts", type=positive, default=3, metavar="N",
                        help="attempts when concurrent commits conflict (default 3)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> Result:
    table = open_table(args)
    compaction = table.new_full_compaction(partition_filter(table, args.partition), args.max_attempts)
    if args.partition and not compaction.buckets(table.snapshot_manager.latest_snapshot()):
        raise CommandError(f"no files of {table.identifier} match --partition {' '.join(args.partition)} — "
                           f"see the partitions with: paimon-cdc describe {table.identifier}")
    try:
        result = compaction.run()
    except CommitConflictError as e:
        raise CommandError(f"{e} — run it again when the writers are quieter, or raise --max-attempts") from e
    document = {"table": table.identifier, "snapshot": result.snapshot.id if result.snapshot else None,
                "base_snapshot": result.base_snapshot_id, "buckets": result.buckets,
                "files_before": result.files_before, "files_after": result.files_after,
                "attempts": result.attempts, "conflicts": result.conflicts}
    if result.base_snapshot_id is None:
        return Result(document=document, message=f"{table.identifier} has no snapshot yet: nothing to compact")
    if result.snapshot is None:
        return Result(document=document, message=f"{table.identifier} is already compacted: nothing to do "
                                                 f"(snapshot {result.base_snapshot_id})")
    retried = f" after {result.attempts - 1} conflict(s)" if result.attempts > 1 else ""
    return Result(document=document, message=(
        f"compacted {result.buckets} bucket(s) of {table.identifier}: {result.files_before} files -> "
        f"{result.files_after}; COMPACT snapshot {result.snapshot.id} made from snapshot "
        f"{result.base_snapshot_id}{retried}"))
