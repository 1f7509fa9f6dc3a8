"""``paimon-cdc tag create|delete|list``: a table's tags (a tag keeps its snapshot's files alive
through expiration and orphan cleaning; ``rollback --to-tag`` goes back to it)."""

from __future__ import annotations

import argparse

from operators.console.lake import CommandError, add_table_arguments, existing_snapshot, open_table, parse_duration
from operators.console.output import Result, Table, millis_to_datetime
from paimon_py.table.file_store_table import FileStoreTable

COLUMNS = ["tag", "snapshot", "kind", "committed", "records", "schema"]


def register(commands, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("tag", parents=[common], help="create, delete or list the tags of a table")
    parser.add_argument("action", choices=["create", "delete", "list"])
    add_table_arguments(parser)
    parser.add_argument("name", nargs="?", help="the tag (create, delete)")
    parser.add_argument("--snapshot", type=int, metavar="N", help="create: tag this snapshot (default: the latest)")
    parser.add_argument("--time-retained", metavar="DURATION", help="create: the tag expires after this, e.g. 7d")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> Result:
    table = open_table(args)
    if args.action == "list":
        if args.name:
            raise CommandError(f"tag list takes no tag name (got {args.name!r}) — leave it out")
        return list_tags(table)
    if not args.name:
        raise CommandError(f"tag {args.action} needs the tag's name — e.g. paimon-cdc tag {args.action} "
                           f"--warehouse W {table.identifier} before-backfill")
    exists = tag_exists(table, args.name)
    if args.action == "create":
        return create_tag(table, args, exists)
    if not exists:
        raise CommandError(f"tag {args.name!r} of {table.identifier} does not exist — its tags: "
                           f"{', '.join(table.list_tags()) or 'none'}")
    table.delete_tag(args.name)
    return Result(document={"table": table.identifier, "deleted": args.name},
                  message=f"deleted tag {args.name} of {table.identifier}")


def tag_exists(table: FileStoreTable, name: str) -> bool:
    try:
        return table.tag_manager().tag_exists(name)
    except ValueError as e:
        raise CommandError(f"tag name {name!r} is not valid: {e} — use letters, digits, '-' or '_'") from e


def create_tag(table: FileStoreTable, args: argparse.Namespace, exists: bool) -> Result:
    if exists:
        raise CommandError(f"tag {args.name!r} of {table.identifier} already exists — delete it first or "
                           f"choose another name")
    if args.snapshot is not None:
        snapshot = existing_snapshot(table, args.snapshot)
    else:
        snapshot = table.snapshot_manager.latest_snapshot()
        if snapshot is None:
            raise CommandError(f"{table.identifier} has no snapshot to tag — commit something first")
    if args.time_retained is not None:
        parse_duration(args.time_retained, "--time-retained")
    table.create_tag(args.name, snapshot.id, time_retained=args.time_retained)
    return Result(document={"table": table.identifier, "created": args.name, "snapshot": snapshot.id},
                  message=f"created tag {args.name} of {table.identifier} at snapshot {snapshot.id}")


def list_tags(table: FileStoreTable) -> Result:
    rows = [[name, s.id, s.commit_kind.value, millis_to_datetime(s.time_millis), s.total_record_count, s.schema_id]
            for name, s in sorted(table.tag_manager().tags().items())]
    return Result(tables=[Table(COLUMNS, rows)], message=None if rows else f"{table.identifier} has no tags")
