"""``paimon-cdc files``: the LSM shape of a table at a glance (per partition, bucket and level:
files, records, bytes, sequence numbers) or, with ``--detail``, every live data file."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime

from operators.console.lake import (CommandError, add_partition_argument, add_table_arguments, open_table,
                                    partition_filter, partition_text)
from operators.console.output import Result, Table, millis_to_datetime
from paimon_py.data.binary_row import BinaryRow
from paimon_py.manifest.manifest_entry import ManifestEntry
from paimon_py.table.file_store_table import FileStoreTable

SHAPE_COLUMNS = ["partition", "bucket", "level", "files", "records", "bytes", "min_sequence", "max_sequence"]
DETAIL_COLUMNS = ["partition", "bucket", "level", "file", "records", "deleted", "bytes", "min_sequence",
                  "max_sequence", "min_key", "max_key", "created"]


@dataclass
class LevelShape:
    partition: str
    bucket: int
    level: int
    files: int = 0
    records: int = 0
    bytes: int = 0
    min_sequence: int | None = None
    max_sequence: int | None = None

    def add(self, entry: ManifestEntry) -> None:
        f = entry.file
        self.files += 1
        self.records += f.row_count
        self.bytes += f.file_size
        self.min_sequence = min(f.min_sequence_number, f.min_sequence_number if self.min_sequence is None
                                else self.min_sequence)
        self.max_sequence = max(f.max_sequence_number, f.max_sequence_number if self.max_sequence is None
                                else self.max_sequence)


def register(commands, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("files", parents=[common],
                                 help="files, records and bytes per partition, bucket and level (--detail: every file)")
    add_table_arguments(parser)
    add_partition_argument(parser, "the files")
    parser.add_argument("--detail", action="store_true", help="list every live data file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> Result:
    table = open_table(args)
    snapshot = table.snapshot_manager.latest_snapshot()
    scan = table.new_scan()
    entries = scan.live_entries(snapshot, partition_filter(table, args.partition))
    if args.partition and not entries:
        raise CommandError(f"no files of {table.identifier} match --partition {' '.join(args.partition)} — "
                           f"see the partitions with: paimon-cdc describe {table.identifier}")
    located = sorted(((partition_text(table, scan.partition_of(e.partition)), e) for e in entries),
                     key=lambda pe: (pe[0], pe[1].bucket, pe[1].file.level, pe[1].file.min_sequence_number))
    title = f"{table.identifier} at snapshot {snapshot.id if snapshot else 'none'}"
    if args.detail:
        return Result(tables=[Table(DETAIL_COLUMNS, [detail_row(table, p, e) for p, e in located], title=title)])
    shapes: dict[tuple, LevelShape] = {}
    for partition, entry in located:
        key = (partition, entry.bucket, entry.file.level)
        shapes.setdefault(key, LevelShape(*key)).add(entry)
    rows = [[s.partition, s.bucket, s.level, s.files, s.records, s.bytes, s.min_sequence, s.max_sequence]
            for s in shapes.values()]
    return Result(tables=[Table(SHAPE_COLUMNS, rows, title=title)])


def local_time(millis: int | None) -> datetime | None:
    """A file's creation time: Paimon stores the writer's local wall-clock time as epoch millis."""
    moment = millis_to_datetime(millis)
    return None if moment is None else moment.replace(tzinfo=None)


def detail_row(table: FileStoreTable, partition: str, entry: ManifestEntry) -> list:
    f = entry.file
    key_types = table.schema.types_of(table.schema.trimmed_primary_keys) if table.primary_keys else None
    keys = [BinaryRow.deserialize(k, key_types) if key_types else None for k in (f.min_key, f.max_key)]
    return [partition, entry.bucket, f.level, f.file_name, f.row_count, f.delete_row_count, f.file_size,
            f.min_sequence_number, f.max_sequence_number, *keys, local_time(f.creation_time_millis)]
