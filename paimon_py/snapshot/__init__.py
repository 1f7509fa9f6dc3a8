from paimon_py.snapshot.snapshot import CommitKind, Snapshot
from paimon_py.snapshot.snapshot_manager import SnapshotManager

__all__ = ["CommitKind", "Snapshot", "SnapshotManager"]
