"""``SchemaManager``: creates and evolves the ``schema/schema-<id>`` files of a table."""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Sequence

from paimon_py.exceptions import OptionError, SchemaChangeError, SchemaError
from paimon_py.fs.file_io import FileIO
from paimon_py.options import CoreOptions
from paimon_py.schema.schema import Schema
from paimon_py.schema.schema_change import SchemaChange, is_widening
from paimon_py.schema.table_schema import ROW_TRACKING_COLUMNS, TableSchema
from paimon_py.types import (ArrayType, DataField, MapType, MultisetType, RowType, VarCharType)

_SCHEMA_NAME = re.compile(r"schema-(\d+)$")


class SchemaManager:
    """Schema files of one table; every change writes a new file, create-if-absent."""

    def __init__(self, file_io: FileIO, table_path: str):
        self.file_io = file_io
        self.schema_dir = f"{table_path}/schema"

    def schema_path(self, schema_id: int) -> str:
        return f"{self.schema_dir}/schema-{schema_id}"

    def list_ids(self) -> list[int]:
        names = self.file_io.list_names(self.schema_dir)
        return sorted(int(m.group(1)) for m in map(_SCHEMA_NAME.match, names) if m)

    def latest(self) -> TableSchema | None:
        ids = self.list_ids()
        return self.schema(ids[-1]) if ids else None

    def schema(self, schema_id: int) -> TableSchema:
        return self.file_io.read_parsed(self.schema_path(schema_id), "schema file",
                                        lambda data: TableSchema.from_json(data.decode()))

    def create_table(self, schema: Schema) -> TableSchema:
        """Write schema-0; raises FileExistsError if the table already has a schema."""
        table_schema = validate_new_schema(schema)
        if not self.file_io.try_create(self.schema_path(0), table_schema.to_json().encode()):
            raise FileExistsError(f"Table at {self.schema_dir} already exists.")
        return table_schema

    def commit_changes(self, changes: Sequence[SchemaChange]) -> TableSchema:
        """Apply changes to the latest schema and write it as the next schema id.

        Retries when another writer created the same id concurrently.
        """
        while True:
            current = self.latest()
            if current is None:
                raise FileNotFoundError(f"No table schema under {self.schema_dir}.")
            new_schema = apply_changes(current, changes)
            validate_table_schema(new_schema)
            if self.file_io.try_create(self.schema_path(new_schema.id), new_schema.to_json().encode()):
                return new_schema


def validate_new_schema(schema: Schema) -> TableSchema:
    """Check a Schema as Paimon does and turn it into schema-0."""
    names = [f.name for f in schema.fields]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise SchemaError(f"Duplicate column names {sorted(duplicates)} in the table schema.")
    for kind, keys in (("Primary key", schema.primary_keys), ("Partition key", schema.partition_keys)):
        missing = [k for k in keys if k not in names]
        if missing:
            raise SchemaError(f"{kind} column(s) {missing} are not in the table columns {names}.")
    fields = tuple(schema.fields)
    options = dict(schema.options)
    options.setdefault("bucket", "-1")
    options.setdefault("file.format", "parquet")
    table_schema = TableSchema(0, fields, RowType(fields).highest_field_id(),
                               tuple(schema.partition_keys), tuple(schema.primary_keys), options,
                               schema.comment)
    validate_table_schema(table_schema)
    return table_schema


def validate_table_schema(schema: TableSchema) -> None:
    """Reject schemas Paimon would reject, with a message saying what to change."""
    options = CoreOptions(schema.options)
    names = schema.field_names
    for key in schema.partition_keys:
        if isinstance(schema.field(key).type, (ArrayType, MapType, MultisetType, RowType)):
            raise SchemaError(f"Partition key '{key}' has a nested type; use an atomic type.")
    _validate_bucket(schema, options)
    _validate_row_tracking(schema, options)
    if not schema.primary_keys and options.changelog_producer != "none":
        raise OptionError("Can not set changelog-producer on table without primary keys, "
                          "please define primary keys.")
    for name in options.sequence_field:
        if name not in names:
            raise OptionError(f"Option 'sequence.field' names column '{name}' which is not in {names}.")
    rowkind = options.rowkind_field
    if rowkind is not None:
        if rowkind not in names:
            raise OptionError(f"Option 'rowkind.field' names column '{rowkind}' which is not in {names}.")
        if not isinstance(schema.field(rowkind).type, VarCharType):
            raise OptionError(f"Option 'rowkind.field' column '{rowkind}' must be STRING.")


def _validate_row_tracking(schema: TableSchema, options: CoreOptions) -> None:
    """Paimon's ``SchemaValidation.validateRowTracking`` (same messages)."""
    if not options.row_tracking_enabled:
        return
    if schema.primary_keys:
        raise OptionError("Cannot define primary-key for row tracking table.")
    if options.bucket != -1:
        raise OptionError("Cannot define bucket for row tracking table, it only support bucket = -1")
    for name in ROW_TRACKING_COLUMNS:
        if name in schema.field_names:
            raise SchemaError(f"Row tracking field name '{name}' conflicts with existing field names.")


def _validate_bucket(schema: TableSchema, options: CoreOptions) -> None:
    bucket, bucket_key = options.bucket, options.bucket_key
    if bucket == 0 or bucket < -2:
        raise OptionError(f"Invalid value {bucket} for table option 'bucket': use a positive bucket "
                          f"count, or -1 for dynamic (primary key) / unaware (append) buckets.")
    if bucket_key and bucket == -1:
        raise OptionError("Option 'bucket-key' requires a fixed bucket count; set 'bucket' > 0.")
    if bucket_key:
        unknown = [k for k in bucket_key if k not in schema.field_names]
        if unknown:
            raise OptionError(f"Option 'bucket-key' names unknown column(s) {unknown}.")
        if schema.primary_keys and not set(bucket_key) <= set(schema.trimmed_primary_keys):
            raise OptionError(f"Option 'bucket-key' {bucket_key} must be a subset of the primary "
                              f"key without partition keys {schema.trimmed_primary_keys}.")
    if schema.primary_keys:
        schema.trimmed_primary_keys  # raises when the key only holds partition columns
    elif bucket > 0 and not bucket_key:
        raise OptionError("You should define a 'bucket-key' for bucketed append mode "
                          f"(bucket={bucket}); or use bucket=-1 for an unaware-bucket append table.")


IMMUTABLE_OPTIONS = ("row-tracking.enabled",)
"""Options a schema change may not set or remove (those of Paimon's that paimon_py interprets)."""


def apply_changes(schema: TableSchema, changes: Sequence[SchemaChange]) -> TableSchema:
    fields = list(schema.fields)
    options = dict(schema.options)
    highest = schema.highest_field_id
    for change in changes:
        if change.action in ("set_option", "remove_option") and change.name in IMMUTABLE_OPTIONS:
            raise SchemaChangeError(f"Change '{change.name}' is not supported yet.")
        if change.action == "set_option":
            options[change.name] = change.value
        elif change.action == "remove_option":
            options.pop(change.name, None)
        elif change.action == "add_column":
            if any(f.name == change.name for f in fields):
                raise SchemaChangeError(f"Column '{change.name}' already exists; cannot add it again.")
            highest += 1
            fields.append(DataField(highest, change.name, change.data_type, change.comment))
        elif change.action == "drop_column":
            fields.pop(_droppable_index(schema, fields, change.name))
        else:
            index = _field_index(fields, change.name)
            fields[index] = _change_field(schema, fields[index], change)
    return dataclasses.replace(schema, id=schema.id + 1, fields=tuple(fields),
                               highest_field_id=highest, options=options,
                               time_millis=int(time.time() * 1000))


def _change_field(schema: TableSchema, field: DataField, change: SchemaChange) -> DataField:
    if change.action == "rename_column":
        if field.name in schema.primary_keys or field.name in schema.partition_keys:
            raise SchemaChangeError(f"Cannot rename key column '{field.name}'.")
        return dataclasses.replace(field, name=change.new_name)
    if change.action == "update_column_type":
        new_type = change.data_type.copy(field.type.nullable)
        if not is_widening(field.type, new_type):
            raise SchemaChangeError(f"Cannot change column '{field.name}' from {field.type} to {new_type}: "
                                    f"only widening changes are allowed (e.g. INT to BIGINT, FLOAT to "
                                    f"DOUBLE, longer VARCHAR).")
        if field.name in schema.primary_keys or field.name in schema.partition_keys:
            raise SchemaChangeError(f"Cannot change the type of key column '{field.name}'.")
        return dataclasses.replace(field, type=new_type)
    if change.action == "drop_not_null":
        if field.name in schema.primary_keys:
            raise SchemaChangeError(f"Primary key column '{field.name}' must stay NOT NULL.")
        return dataclasses.replace(field, type=field.type.copy(nullable=True))
    raise SchemaChangeError(f"Unknown schema change action {change.action!r}.")


def _droppable_index(schema: TableSchema, fields: list[DataField], name: str) -> int:
    """Where the column to drop is; key columns and the last column cannot be dropped (as Paimon)."""
    if name in schema.primary_keys or name in schema.partition_keys:
        raise SchemaChangeError(f"Cannot drop key column '{name}'.")
    index = _field_index(fields, name)
    if len(fields) == 1:
        raise SchemaChangeError(f"Cannot drop '{name}', the table's only column.")
    return index


def _field_index(fields: list[DataField], name: str) -> int:
    for i, f in enumerate(fields):
        if f.name == name:
            return i
    raise SchemaError(f"Column '{name}' does not exist in {[f.name for f in fields]}.")
