"""``paimon-cdc describe``: a table's schema (field ids, Paimon types), keys, options, partitions
and schema history."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from typing import Any

from operators.console.lake import add_table_arguments, open_table, partition_text
from operators.console.output import Result, Table, millis_to_datetime
from operators.console.tables import bucket_mode
from paimon_py.schema.table_schema import TableSchema
from paimon_py.table.file_store_table import FileStoreTable
from paimon_py.types import DataField, DataType


FIELD_COLUMNS = ["id", "name", "type", "nullable", "key", "description"]


@dataclass
class PartitionSummary:
    partition: str
    values: dict[str, Any]
    records: int
    files: int
    bytes: int


def register(commands, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("describe", parents=[common],
                                 help="schema, keys, options, partitions and schema history of a table")
    add_table_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> Result:
    table = open_table(args)
    schema = table.schema
    fields = [field_row(f, schema) for f in schema.fields]
    partitions = partition_summaries(table)
    history = schema_history(table)
    document = {"table": table.identifier, "primary_keys": table.primary_keys,
                "partition_keys": table.partition_keys, "bucket_mode": bucket_mode(table),
                "schema_id": schema.id, "comment": schema.comment,
                "fields": [dict(zip(FIELD_COLUMNS, row)) for row in fields],
                "options": dict(sorted(schema.options.items())),
                "partitions": [asdict(p) for p in partitions], "schemas": history}
    keys = (f"{table.identifier}: primary key ({', '.join(table.primary_keys) or 'none'}), partitioned by "
            f"({', '.join(table.partition_keys) or 'nothing'}), bucket {bucket_mode(table)}, schema {schema.id}")
    return Result(tables=[
        Table(FIELD_COLUMNS, fields, title=keys),
        Table(["option", "value"], sorted(schema.options.items()), title="options"),
        Table(["partition", "records", "files", "bytes"],
              [[p.partition or "(unpartitioned)", p.records, p.files, p.bytes] for p in partitions],
              title="partitions (latest snapshot)"),
        Table(["schema", "committed", "changes"], [[h["id"], h["committed"], "; ".join(h["changes"])] for h in history],
              title="schema history"),
    ], document=document)


def field_row(field: DataField, schema: TableSchema) -> list:
    key = [k for k, names in (("primary", schema.primary_keys), ("partition", schema.partition_keys))
           if field.name in names]
    return [field.id, field.name, type_text(field.type.to_json()), field.type.nullable, ",".join(key) or None,
            field.description]


def type_text(json_type: str | dict) -> str:
    """A Paimon type as its SQL text, e.g. ``DECIMAL(10, 2) NOT NULL`` or ``ARRAY<INT>``."""
    if isinstance(json_type, str):
        return json_type
    name, _, not_null = json_type["type"].partition(" ")
    if "fields" in json_type:
        inner = ", ".join(f"{f['name']} {type_text(f['type'])}" for f in json_type["fields"])
    elif "key" in json_type:
        inner = f"{type_text(json_type['key'])}, {type_text(json_type['value'])}"
    else:
        inner = type_text(json_type["element"])
    return f"{name}<{inner}>" + (f" {not_null}" if not_null else "")


def partition_summaries(table: FileStoreTable) -> list[PartitionSummary]:
    """Records (net of deletion vectors), files and bytes of every partition of the latest snapshot."""
    scan = table.new_scan()
    summaries: dict[tuple, PartitionSummary] = {}
    for entry in scan.live_entries(table.snapshot_manager.latest_snapshot()):
        partition = scan.partition_of(entry.partition)
        if partition not in summaries:
            summaries[partition] = PartitionSummary(partition_text(table, partition),
                                                    dict(zip(table.partition_keys, partition)), 0, 0, 0)
        summary = summaries[partition]
        summary.records += entry.file.row_count - (entry.file.delete_row_count or 0)
        summary.files += 1
        summary.bytes += entry.file.file_size
    return sorted(summaries.values(), key=lambda s: s.partition)


def schema_history(table: FileStoreTable) -> list[dict[str, Any]]:
    """Every schema id with when it was committed and what changed from the one before."""
    history = []
    previous = None
    for schema_id in table.schema_manager.list_ids():
        schema = table.schema_manager.schema(schema_id)
        changes = schema_changes(previous, schema) if previous else ["created"]
        history.append({"id": schema_id, "committed": millis_to_datetime(schema.time_millis or None),
                        "changes": changes})
        previous = schema
    return history


def schema_changes(old: TableSchema, new: TableSchema) -> list[str]:
    """What ``new`` changed: fields (matched by id) added, dropped, renamed, retyped; options; comment."""
    before = {f.id: f for f in old.fields}
    after = {f.id: f for f in new.fields}
    changes = [f"added {f.name} {_type(f.type)}" for i, f in after.items() if i not in before]
    changes += [f"dropped {f.name}" for i, f in before.items() if i not in after]
    for i in before.keys() & after.keys():
        was, now = before[i], after[i]
        if was.name != now.name:
            changes.append(f"renamed {was.name} to {now.name}")
        if was.type != now.type:
            changes.append(f"{now.name}: {_type(was.type)} -> {_type(now.type)}")
        if was.description != now.description:
            changes.append(f"{now.name}: comment changed")
    if [f.id for f in old.fields if f.id in after] != [f.id for f in new.fields if f.id in before]:
        changes.append("columns reordered")
    changes += [f"set {k}={v}" for k, v in sorted(new.options.items()) if old.options.get(k) != v]
    changes += [f"removed {k}" for k in sorted(old.options.keys() - new.options.keys())]
    if old.comment != new.comment:
        changes.append("table comment changed")
    return changes or ["no change"]


def _type(data_type: DataType) -> str:
    return type_text(data_type.to_json())
