"""``Snapshot``: the JSON file ``snapshot/snapshot-<id>`` that makes one commit visible (format §3)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

BATCH_COMMIT_IDENTIFIER = 2**63 - 1


class CommitKind(str, Enum):
    APPEND = "APPEND"
    COMPACT = "COMPACT"
    OVERWRITE = "OVERWRITE"
    ANALYZE = "ANALYZE"


# JSON key -> attribute, in the order Java writes them. Optional keys are omitted when None.
_KEYS = {
    "version": "version", "id": "id", "schemaId": "schema_id",
    "baseManifestList": "base_manifest_list", "baseManifestListSize": "base_manifest_list_size",
    "deltaManifestList": "delta_manifest_list", "deltaManifestListSize": "delta_manifest_list_size",
    "changelogManifestList": "changelog_manifest_list",
    "changelogManifestListSize": "changelog_manifest_list_size",
    "indexManifest": "index_manifest", "commitUser": "commit_user",
    "commitIdentifier": "commit_identifier", "commitKind": "commit_kind",
    "timeMillis": "time_millis", "totalRecordCount": "total_record_count",
    "deltaRecordCount": "delta_record_count", "changelogRecordCount": "changelog_record_count",
    "watermark": "watermark", "statistics": "statistics", "properties": "properties",
    "nextRowId": "next_row_id", "uuid": "uuid", "operation": "operation",
    "writerVersion": "writer_version",
}


@dataclass
class Snapshot:
    id: int
    schema_id: int
    base_manifest_list: str
    delta_manifest_list: str
    commit_user: str
    commit_identifier: int
    commit_kind: CommitKind
    time_millis: int
    total_record_count: int
    delta_record_count: int
    version: int = 3
    base_manifest_list_size: int | None = None
    delta_manifest_list_size: int | None = None
    changelog_manifest_list: str | None = None
    changelog_manifest_list_size: int | None = None
    index_manifest: str | None = None
    changelog_record_count: int | None = None
    watermark: int | None = None
    statistics: str | None = None
    properties: dict[str, str] | None = None
    next_row_id: int | None = None
    uuid: str | None = None
    operation: str | None = None
    writer_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        out: dict[str, Any] = {}
        for key, attr in _KEYS.items():
            value = getattr(self, attr)
            if value is None or (key == "properties" and not value):
                continue
            out[key] = value.value if isinstance(value, CommitKind) else value
        out.update(self.extra)
        return json.dumps(out, indent=2)

    @staticmethod
    def from_json(text: str) -> "Snapshot":
        data = json.loads(text)
        kwargs = {attr: data.pop(key) for key, attr in _KEYS.items() if key in data}
        kwargs["commit_kind"] = CommitKind(kwargs["commit_kind"])
        data.pop("logOffsets", None)
        return Snapshot(**kwargs, extra=data)
