"""What a commit to a row-tracking table adds to its new files (Paimon's ``RowTrackingCommitUtils``).

New files carry placeholder sequence numbers starting at 0; the commit gives them its snapshot id.
Files written by an insert (``_FILE_SOURCE`` APPEND, no ``_FIRST_ROW_ID``, no stored ``_ROW_ID``)
get consecutive row ids from the latest snapshot's ``nextRowId`` on, in commit order (grouped by
partition first, unless ``row-tracking.partition-group-on-commit`` is false); the snapshot's
``nextRowId`` is the id after the last one given. Compacted files keep what they have.
"""

from __future__ import annotations

import dataclasses

from paimon_py.io.data_file_meta import FILE_SOURCE_APPEND, DataFileMeta
from paimon_py.io.row_tracking import stored_columns
from paimon_py.manifest.manifest_entry import FileKind, ManifestEntry
from paimon_py.schema.table_schema import ROW_ID


def assign_row_tracking(snapshot_id: int, next_row_id: int, delta: list[ManifestEntry],
                        group_by_partition: bool) -> tuple[list[ManifestEntry], int]:
    """``delta`` with sequence numbers and first row ids assigned, and the snapshot's ``nextRowId``."""
    if group_by_partition:
        groups: dict[bytes, list[ManifestEntry]] = {}
        for entry in delta:
            groups.setdefault(entry.partition, []).append(entry)
        delta = [entry for group in groups.values() for entry in group]
    assigned = []
    for entry in delta:
        file = _with_snapshot_sequence(entry.file, snapshot_id)
        if entry.kind == FileKind.ADD and _needs_row_ids(file):
            file = dataclasses.replace(file, first_row_id=next_row_id)
            next_row_id += file.row_count
        assigned.append(dataclasses.replace(entry, file=file))
    return assigned, next_row_id


def _with_snapshot_sequence(file: DataFileMeta, snapshot_id: int) -> DataFileMeta:
    """A new file's placeholder sequence numbers (0) become the snapshot id."""
    if file.min_sequence_number == 0:
        return dataclasses.replace(file, min_sequence_number=snapshot_id, max_sequence_number=snapshot_id)
    if file.max_sequence_number == 0:
        return dataclasses.replace(file, max_sequence_number=snapshot_id)
    return file


def _needs_row_ids(file: DataFileMeta) -> bool:
    return (file.file_source == FILE_SOURCE_APPEND and file.first_row_id is None
            and ROW_ID not in stored_columns(file))
