"""``paimon-cdc expire``, ``remove-orphans`` and ``rollback``: paimon_py's ``ExpireSnapshots``,
``OrphanFilesClean`` and ``rollback_to`` on one table; each says what it did."""

from __future__ import annotations

import argparse
import time

from operators.console.lake import CommandError, add_table_arguments, open_table, parse_duration, positive
from operators.console.output import Result, Table
from paimon_py.operation.expire_snapshots import ExpireSnapshots
from paimon_py.operation.orphan_files_clean import OrphanFilesClean
from paimon_py.table.file_store_table import FileStoreTable


def register(commands, common: argparse.ArgumentParser) -> None:
    expire = commands.add_parser("expire", parents=[common], help="expire old snapshots and the files only they use")
    add_table_arguments(expire)
    expire.add_argument("--retain-max", type=positive, metavar="N", help="keep at most N snapshots")
    expire.add_argument("--retain-min", type=positive, metavar="N", help="keep at least N snapshots")
    expire.add_argument("--older-than", metavar="DURATION",
                        help="expire snapshots older than this, e.g. 2h (default: the table's snapshot.time-retained)")
    expire.set_defaults(func=run_expire)

    orphans = commands.add_parser("remove-orphans", parents=[common],
                                  help="delete files no snapshot, tag or branch uses")
    add_table_arguments(orphans)
    orphans.add_argument("--older-than", default="1d", metavar="DURATION",
                         help="only files older than this (default 1d, as Paimon: younger files may belong to a "
                              "commit in progress)")
    orphans.add_argument("--dry-run", action="store_true", help="list the orphan files, delete nothing")
    orphans.set_defaults(func=run_remove_orphans)

    rollback = commands.add_parser("rollback", parents=[common],
                                   help="make an older snapshot or a tag the latest state again")
    add_table_arguments(rollback)
    target = rollback.add_mutually_exclusive_group(required=True)
    target.add_argument("--to-snapshot", type=positive, metavar="N", help="the snapshot id")
    target.add_argument("--to-tag", metavar="TAG", help="the tag name")
    rollback.set_defaults(func=run_rollback)


def snapshot_range(table: FileStoreTable) -> list[int | None]:
    manager = table.snapshot_manager
    return [manager.earliest_snapshot_id(), manager.latest_snapshot_id()]


def run_expire(args: argparse.Namespace) -> Result:
    table = open_table(args)
    retain_min, retain_max = args.retain_min, args.retain_max
    if retain_min is not None and retain_max is not None and retain_max < retain_min:
        raise CommandError(f"--retain-max {retain_max} is less than --retain-min {retain_min} — "
                           f"give a --retain-max of at least {retain_min}")
    if retain_max is not None and retain_min is None:
        retain_min = min(retain_max, table.options.snapshot_num_retained_min)
    time_retained = None if args.older_than is None else parse_duration(args.older_than, "--older-than")
    before = snapshot_range(table)
    expired = ExpireSnapshots(table, retain_min=retain_min, retain_max=retain_max,
                              time_retained_ms=time_retained).expire()
    after = snapshot_range(table)
    document = {"table": table.identifier, "expired": expired, "before": before, "after": after}
    return Result(tables=[Table(["", "earliest", "latest"], [["before", *before], ["after", *after]])],
                  document=document, message=f"expired {expired} snapshot(s) of {table.identifier}")


def run_remove_orphans(args: argparse.Namespace) -> Result:
    table = open_table(args)
    older_than = int(time.time() * 1000) - parse_duration(args.older_than, "--older-than")
    paths = OrphanFilesClean(table, older_than_millis=older_than, dry_run=args.dry_run).clean()
    relative = sorted(p[len(table.table_path):].lstrip("/") if p.startswith(table.table_path) else p for p in paths)
    verb = "would delete" if args.dry_run else "deleted"
    document = {"table": table.identifier, "dry_run": args.dry_run, "files": relative}
    return Result(tables=[Table(["file"], [[p] for p in relative])] if relative else [], document=document,
                  message=f"{verb} {len(relative)} orphan file(s) of {table.identifier} older than {args.older_than}")


def run_rollback(args: argparse.Namespace) -> Result:
    table = open_table(args)
    target = args.to_tag if args.to_tag is not None else args.to_snapshot
    check_rollback_target(table, target)
    latest = table.snapshot_manager.latest_snapshot_id()
    tags_before = set(table.list_tags())
    table.rollback_to(target)
    snapshot = table.snapshot_manager.latest_snapshot_id()
    removed_tags = sorted(tags_before - set(table.list_tags()))
    removed = list(range(snapshot + 1, latest + 1)) if latest and latest > snapshot else []
    document = {"table": table.identifier, "snapshot": snapshot, "removed_snapshots": removed,
                "removed_tags": removed_tags}
    what = f"tag {args.to_tag} (snapshot {snapshot})" if args.to_tag is not None else f"snapshot {snapshot}"
    gone = "; nothing newer to remove" if not removed else (
        f"; removed snapshot {removed[0]}" if len(removed) == 1 else f"; removed snapshots {removed[0]}..{removed[-1]}")
    tags = f" and tags {', '.join(removed_tags)}" if removed_tags else ""
    return Result(document=document, message=f"rolled {table.identifier} back to {what}{gone}{tags}")


def check_rollback_target(table: FileStoreTable, target: int | str) -> None:
    tags = table.tag_manager().tags()
    if isinstance(target, str):
        if target not in tags:
            raise CommandError(f"tag {target!r} of {table.identifier} does not exist — its tags: "
                               f"{', '.join(sorted(tags)) or 'none'}")
        return
    manager = table.snapshot_manager
    if not manager.snapshot_exists(target) and target not in {s.id for s in tags.values()}:
        ids = manager.list_ids()
        raise CommandError(f"snapshot {target} of {table.identifier} does not exist (nor a tag of it) — "
                           f"the table has snapshots {ids[0]}..{ids[-1]}" if ids else
                           f"snapshot {target} of {table.identifier} does not exist — the table has no snapshots")
