"""``rollback_to``: make an older snapshot, or a tag, the table's latest state again.

As Paimon's ``RollbackHelper``: snapshots and tags newer than the target are deleted, newest
first, and a tag whose snapshot has expired gets its snapshot file back. The data and manifest
files only the deleted snapshots used are left to ``OrphanFilesClean``.
"""

from __future__ import annotations

from paimon_py.exceptions import SnapshotNotFound
from paimon_py.snapshot.snapshot import Snapshot
from paimon_py.snapshot.snapshot_manager import SnapshotManager
from paimon_py.tag.tag_manager import TagManager


def rollback_to(snapshots: SnapshotManager, tags: TagManager, target: int | str) -> Snapshot:
    """Roll back to snapshot id ``target`` (an int) or tag ``target`` (a str); the snapshot."""
    snapshot = _target(snapshots, tags, target)
    for snapshot_id in range(snapshots.latest_snapshot_id() or 0, snapshot.id, -1):
        if snapshots.snapshot_exists(snapshot_id):
            snapshots.file_io.delete(snapshots.snapshot_path(snapshot_id))
    for name, tagged in tags.tags().items():
        if tagged.id > snapshot.id:
            tags.delete_tag(name)
    if not snapshots.snapshot_exists(snapshot.id):
        snapshots.file_io.write_text(snapshots.snapshot_path(snapshot.id), snapshot.to_json())
        snapshots.write_hint("EARLIEST", snapshot.id)
    snapshots.write_hint("LATEST", snapshot.id)
    return snapshot


def _target(snapshots: SnapshotManager, tags: TagManager, target: int | str) -> Snapshot:
    tagged = tags.tags()
    if isinstance(target, str):
        if target not in tagged:
            raise SnapshotNotFound(f"Rollback tag '{target}' doesn't exist; tags: {sorted(tagged)}.")
        return tagged[target]
    if snapshots.snapshot_exists(target):
        return snapshots.snapshot(target)
    by_id = {s.id: s for s in tagged.values()}
    if target not in by_id:
        raise SnapshotNotFound(f"Rollback snapshot '{target}' doesn't exist (nor a tag of it).")
    return by_id[target]
