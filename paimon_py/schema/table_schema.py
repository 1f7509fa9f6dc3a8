"""``TableSchema``: the immutable ``schema/schema-<id>`` file (format §2) and what derives from it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from paimon_py.exceptions import SchemaError
from paimon_py.options import CoreOptions
from paimon_py.partition import PartitionComputer
from paimon_py.types import DataField, DataType, RowType

SCHEMA_VERSION = 3

ROW_ID = "_ROW_ID"
ROW_TRACKING_COLUMNS = (ROW_ID, "_SEQUENCE_NUMBER")
"""The system columns of a row-tracking table (Paimon's ``SpecialFields``); ``_SEQUENCE_NUMBER``
is also the sequence column of key-value files."""


@dataclass(frozen=True)
class TableSchema:
    id: int
    fields: tuple[DataField, ...]
    highest_field_id: int
    partition_keys: tuple[str, ...]
    primary_keys: tuple[str, ...]
    options: dict[str, str]
    comment: str | None = None
    time_millis: int = field(default_factory=lambda: int(time.time() * 1000))
    version: int = SCHEMA_VERSION

    def to_json(self) -> str:
        out: dict[str, Any] = {
            "version": self.version, "id": self.id,
            "fields": [f.to_json() for f in self.fields],
            "highestFieldId": self.highest_field_id,
            "partitionKeys": list(self.partition_keys), "primaryKeys": list(self.primary_keys),
            "options": self.options,
        }
        if self.comment is not None:
            out["comment"] = self.comment
        out["timeMillis"] = self.time_millis
        return json.dumps(out, indent=2, ensure_ascii=False)

    @staticmethod
    def from_json(text: str) -> "TableSchema":
        data = json.loads(text)
        version = data.get("version", 1)
        options = {str(k): str(v) for k, v in data["options"].items()}
        if version <= 1:
            options.setdefault("bucket", "1")
        if version <= 2:
            options.setdefault("file.format", "orc")
        return TableSchema(
            id=data["id"], fields=tuple(DataField.from_json(f) for f in data["fields"]),
            highest_field_id=data["highestFieldId"],
            partition_keys=tuple(data["partitionKeys"]), primary_keys=tuple(data["primaryKeys"]),
            options=options, comment=data.get("comment"), time_millis=data.get("timeMillis", 0),
            version=version)

    @cached_property
    def row_type(self) -> RowType:
        return RowType(self.fields)

    @cached_property
    def core_options(self) -> CoreOptions:
        return CoreOptions(self.options)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> DataField:
        return self.row_type.field(name)

    def types_of(self, names) -> list[DataType]:
        return [self.field(n).type for n in names]

    @cached_property
    def trimmed_primary_keys(self) -> list[str]:
        """Primary key without the partition keys: the key stored in data files."""
        trimmed = [k for k in self.primary_keys if k not in self.partition_keys]
        if self.primary_keys and not trimmed:
            raise SchemaError(f"Primary key {list(self.primary_keys)} only holds partition keys; "
                              f"add a column that is not a partition key to the primary key.")
        return trimmed

    @cached_property
    def bucket_keys(self) -> list[str]:
        """Columns hashed to pick a bucket: ``bucket-key``, else the trimmed primary key."""
        return self.core_options.bucket_key or self.trimmed_primary_keys

    @property
    def partition_types(self) -> list[DataType]:
        return self.types_of(self.partition_keys)

    @cached_property
    def partition_computer(self) -> PartitionComputer:
        """The relative directory of each partition of this schema."""
        options = self.core_options
        return PartitionComputer(list(self.partition_keys), self.partition_types,
                                 options.partition_default_name, options.partition_legacy_name)
