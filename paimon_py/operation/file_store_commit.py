"""``FileStoreCommit``: turns commit messages into snapshots (format §9).

One call of :meth:`FileStoreCommit.commit` makes an APPEND snapshot for new files (and their
changelog) and, when the messages hold compaction results, a COMPACT snapshot after it, both
with the same commit identifier. Snapshot files are created only if absent; when another writer
took the id, the commit re-reads the latest snapshot, re-checks conflicts and retries.

Exactly-once: a job keeps one ``commit_user`` for its lifetime and uses strictly increasing
identifiers (checkpoint ids); :meth:`filter_committed` drops identifiers that already reached a
snapshot, so a restored job can re-commit its pending messages safely.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Sequence

from paimon_py.data.binary_row import BinaryRow
from paimon_py.exceptions import CommitConflictError, FileDeletionConflict, InvalidDataError
from paimon_py.fs.file_io import FileIO
from paimon_py.io.data_file_meta import DataFileMeta
from paimon_py.io.path_factory import FileStorePathFactory
from paimon_py.manifest.index_manifest import HASH_INDEX, IndexFileMeta, IndexManifestEntry, IndexManifestFile
from paimon_py.manifest.manifest_entry import FileKind, ManifestEntry, live_files
from paimon_py.manifest.manifest_file import ManifestFile
from paimon_py.manifest.manifest_list import ManifestFileMeta, ManifestList
from paimon_py.operation.commit_message import CommitMessage
from paimon_py.operation.file_store_scan import FileStoreScan, PartitionPredicate
from paimon_py.operation.row_tracking_commit import assign_row_tracking
from paimon_py.schema.table_schema import TableSchema
from paimon_py.snapshot.snapshot import BATCH_COMMIT_IDENTIFIER, CommitKind, Snapshot
from paimon_py.snapshot.snapshot_manager import SnapshotManager
from paimon_py.version import __version__


@dataclass
class _Attempt:
    """Files written for one commit attempt (removed again if the attempt loses the race)."""

    manifests: list[str]


class FileStoreCommit:
    """Commits data files of one table for one ``commit_user``."""

    def __init__(self, file_io: FileIO, schema: TableSchema, path_factory: FileStorePathFactory,
                 snapshot_manager: SnapshotManager, manifest_list: ManifestList,
                 manifest_file: ManifestFile, scan: FileStoreScan, index_manifest_file: IndexManifestFile,
                 commit_user: str | None = None):
        self.file_io = file_io
        self.schema = schema
        self.path_factory = path_factory
        self.snapshot_manager = snapshot_manager
        self.manifest_list = manifest_list
        self.manifest_file = manifest_file
        self.scan = scan
        self.index_manifest_file = index_manifest_file
        self.commit_user = commit_user or str(uuid.uuid4())
        options = schema.core_options
        self.max_retries = options.commit_max_retries
        self.merge_min_count = options.manifest_merge_min_count
        self.dynamic_partition_overwrite = options.dynamic_partition_overwrite
        self.row_tracking = options.row_tracking_enabled
        self.row_tracking_group_by_partition = options.row_tracking_partition_group_on_commit
        self.key_types = schema.types_of(schema.trimmed_primary_keys)

    # ---- public API -------------------------------------------------------------------------

    def filter_committed(self, identifiers: Sequence[int]) -> list[int]:
        """The identifiers not yet committed by this commit user (exactly-once after restore)."""
        last = self.last_committed_identifier()
        return [i for i in identifiers if last is None or i > last]

    def last_committed_identifier(self) -> int | None:
        for snapshot in self.snapshot_manager.snapshots_backwards():
            if snapshot.commit_user == self.commit_user:
                return snapshot.commit_identifier
        return None

    def commit(self, messages: Sequence[CommitMessage], identifier: int = BATCH_COMMIT_IDENTIFIER,
               allow_empty: bool = False, properties: dict[str, str] | None = None) -> list[Snapshot]:
        """APPEND snapshot for new files and HASH index changes, then COMPACT snapshot for
        compaction results and deletion-vector index changes (as Paimon). ``properties`` go into
        the snapshots' ``properties`` (e.g. a CDC source position)."""
        appended = [self._entry(FileKind.ADD, m, f) for m in messages for f in m.new_files]
        changelog = [self._entry(FileKind.ADD, m, f) for m in messages for f in m.changelog_files]
        compacted = ([self._entry(FileKind.DELETE, m, f) for m in messages for f in m.compact_before]
                     + [self._entry(FileKind.ADD, m, f) for m in messages for f in m.compact_after])
        compact_changelog = [self._entry(FileKind.ADD, m, f) for m in messages
                             for f in m.compact_changelog_files]
        index_changes = ([self._index_entry(FileKind.ADD, m, f) for m in messages for f in m.new_index_files]
                         + [self._index_entry(FileKind.DELETE, m, f) for m in messages
                            for f in m.deleted_index_files])
        hash_changes = [e for e in index_changes if e.index_file.index_type == HASH_INDEX]
        index_changes = [e for e in index_changes if e.index_file.index_type != HASH_INDEX]
        snapshots = []
        if appended or changelog or hash_changes or (allow_empty and not compacted):
            snapshots.append(self._commit_with_retry(
                CommitKind.APPEND, lambda latest: appended, changelog, identifier, check=True,
                properties=properties, index_changes=hash_changes))
        if compacted or compact_changelog or index_changes:
            snapshots.append(self._commit_with_retry(
                CommitKind.COMPACT, lambda latest: compacted, compact_changelog, identifier, check=True,
                properties=properties, index_changes=index_changes))
        return snapshots

    def overwrite(self, partition_filter: PartitionPredicate | None,
                  messages: Sequence[CommitMessage],
                  identifier: int = BATCH_COMMIT_IDENTIFIER) -> Snapshot | None:
        """Replace live files with the new files (Java's ``FileStoreCommitImpl.overwritePartition``).

        A partitioned table with ``dynamic-partition-overwrite`` (the default) replaces the
        partitions the new files are in, and nothing when there are none (no snapshot: ``None``);
        otherwise the partitions matching ``partition_filter`` (all, if no filter). New files
        outside ``partition_filter`` are refused in both modes."""
        added = [self._entry(FileKind.ADD, m, f) for m in messages for f in m.new_files]
        for entry in added:
            if partition_filter is not None and not partition_filter(self.scan.partition_of(entry.partition)):
                raise InvalidDataError(f"Overwrite writes partition {self.scan.partition_of(entry.partition)} "
                                       f"which the overwrite filter does not cover.")
        if self.schema.partition_keys and self.dynamic_partition_overwrite:
            if not added:
                return None
            written = {self.scan.partition_of(e.partition) for e in added}
            partition_filter = written.__contains__

        def entries(latest: Snapshot | None) -> list[ManifestEntry]:
            removed = [ManifestEntry(FileKind.DELETE, e.partition, e.bucket, e.total_buckets, e.file)
                       for e in self.scan.live_entries(latest, partition_filter)]
            return removed + added

        return self._commit_with_retry(CommitKind.OVERWRITE, entries, [], identifier, check=True,
                                       new_bucket_count_allowed=True)

    # ---- one commit -------------------------------------------------------------------------

    def _entry(self, kind: FileKind, message: CommitMessage, file: DataFileMeta) -> ManifestEntry:
        partition = BinaryRow.serialize(message.partition, self.schema.partition_types)
        return ManifestEntry(kind, partition, message.bucket, message.total_buckets, file)

    def _index_entry(self, kind: FileKind, message: CommitMessage, file: IndexFileMeta) -> IndexManifestEntry:
        partition = BinaryRow.serialize(message.partition, self.schema.partition_types)
        return IndexManifestEntry(kind, partition, message.bucket, file)

    def _commit_with_retry(self, kind: CommitKind,
                           delta_of: Callable[[Snapshot | None], list[ManifestEntry]],
                           changelog: list[ManifestEntry], identifier: int, check: bool,
                           new_bucket_count_allowed: bool = False,
                           properties: dict[str, str] | None = None,
                           index_changes: Sequence[IndexManifestEntry] = ()) -> Snapshot:
        outcome_unknown_after: int | None = None
        for attempt in range(self.max_retries + 1):
            latest = self.snapshot_manager.latest_snapshot()
            if outcome_unknown_after is not None:
                done = self._find_own_commit(outcome_unknown_after, identifier, kind)
                if done is not None:
                    return done
            delta = delta_of(latest)
            if check:
                self._check_conflicts(latest, delta, new_bucket_count_allowed)
                self._check_index_conflicts(latest, index_changes)
            written = _Attempt([])
            try:
                snapshot = self._write_snapshot_files(latest, kind, delta, changelog, identifier, written,
                                                      properties, index_changes)
                created = self.snapshot_manager.try_create(snapshot)
            except Exception:
                outcome_unknown_after = latest.id if latest else 0
                if attempt == self.max_retries:
                    raise
                created = False
            if created:
                return snapshot
            if outcome_unknown_after is None:
                self._clean(written)
            time.sleep(min(10.0, 0.01 * 2 ** attempt) * (0.5 + random.random()))
        raise CommitConflictError(
            f"Gave up committing after {self.max_retries} retries: other writers kept taking the "
            f"next snapshot id. Increase 'commit.max-retries' or reduce concurrent writers.")

    def _find_own_commit(self, after_id: int, identifier: int, kind: CommitKind) -> Snapshot | None:
        latest = self.snapshot_manager.latest_snapshot_id() or 0
        for snapshot_id in range(after_id + 1, latest + 1):
            s = self.snapshot_manager.snapshot(snapshot_id)
            if (s.commit_user, s.commit_identifier, s.commit_kind) == (self.commit_user, identifier, kind):
                return s
        return None

    def _write_snapshot_files(self, latest: Snapshot | None, kind: CommitKind,
                              delta: list[ManifestEntry], changelog: list[ManifestEntry],
                              identifier: int, written: _Attempt,
                              properties: dict[str, str] | None = None,
                              index_changes: Sequence[IndexManifestEntry] = ()) -> Snapshot:
        snapshot_id = (latest.id + 1) if latest else 1
        next_row_id = latest.next_row_id if latest else None
        if self.row_tracking:
            delta, next_row_id = assign_row_tracking(snapshot_id, next_row_id or 0, delta,
                                                     self.row_tracking_group_by_partition)
        base_manifests = self._base_manifests(latest, written)
        base_name, base_size = self._write_list(base_manifests, written)
        delta_name, delta_size = self._write_list(self._write_manifests(delta, written), written)
        changelog_name = changelog_size = None
        if changelog:
            changelog_name, changelog_size = self._write_list(self._write_manifests(changelog, written), written)
        index_manifest = latest.index_manifest if latest else None
        if index_changes:
            index_manifest = self.index_manifest_file.combine(index_manifest, index_changes)
            written.manifests.append(index_manifest)
        delta_rows = sum(e.file.row_count if e.kind == FileKind.ADD else -e.file.row_count for e in delta)
        schema_id = self.schema.id
        return Snapshot(
            id=snapshot_id, schema_id=schema_id,
            base_manifest_list=base_name, base_manifest_list_size=base_size,
            delta_manifest_list=delta_name, delta_manifest_list_size=delta_size,
            changelog_manifest_list=changelog_name, changelog_manifest_list_size=changelog_size,
            index_manifest=index_manifest,
            commit_user=self.commit_user, commit_identifier=identifier, commit_kind=kind,
            time_millis=int(time.time() * 1000),
            total_record_count=(latest.total_record_count if latest else 0) + delta_rows,
            delta_record_count=delta_rows,
            changelog_record_count=sum(e.file.row_count for e in changelog) if changelog else None,
            watermark=latest.watermark if latest else None,
            next_row_id=next_row_id,
            uuid=str(uuid.uuid4()), writer_version=f"paimon_py-{__version__}",
            properties=dict(properties) if properties else None)

    def _base_manifests(self, latest: Snapshot | None, written: _Attempt) -> list[ManifestFileMeta]:
        """Manifests of the latest full state; fully merged once there are many of them."""
        if latest is None:
            return []
        manifests = self.scan.data_manifests(latest)
        if len(manifests) < self.merge_min_count:
            return manifests
        return self._write_manifests(live_files(self.scan.read_entries(manifests)), written)

    def _write_manifests(self, entries: list[ManifestEntry], written: _Attempt) -> list[ManifestFileMeta]:
        metas = self.manifest_file.write(entries) if entries else []
        written.manifests += [m.file_name for m in metas]
        return metas

    def _write_list(self, metas: list[ManifestFileMeta], written: _Attempt) -> tuple[str, int]:
        name, size = self.manifest_list.write(metas)
        written.manifests.append(name)
        return name, size

    def _clean(self, written: _Attempt) -> None:
        for name in written.manifests:
            self.file_io.delete(self.path_factory.manifest_path(name))

    # ---- conflict detection -----------------------------------------------------------------

    def _check_conflicts(self, latest: Snapshot | None, delta: list[ManifestEntry],
                         new_bucket_count_allowed: bool) -> None:
        touched = {(e.partition, e.bucket) for e in delta}
        partitions = {e.partition for e in delta}
        if not touched:
            return
        live = [e for e in self.scan.live_entries(latest) if e.partition in partitions]
        try:
            merged = live_files(live + delta)
        except FileDeletionConflict as error:
            raise CommitConflictError(str(error)) from None
        if not new_bucket_count_allowed:
            self._check_bucket_counts(merged)
        if self.schema.primary_keys:
            self._check_level_overlap([e for e in merged if (e.partition, e.bucket) in touched])

    def _check_index_conflicts(self, latest: Snapshot | None, changes: Sequence[IndexManifestEntry]) -> None:
        """A bucket's new index file (deletion vectors, HASH index) was made from the one it
        replaces (a DELETE of it, or none): if another commit replaced that meanwhile, its
        deletions or keys would be lost."""
        if not changes:
            return
        current = {e.bucket_key(): e.index_file.file_name
                   for e in self.index_manifest_file.read(latest.index_manifest if latest else None)}
        added = {e.index_file.file_name for e in changes if e.kind == FileKind.ADD}
        replaced = {e.bucket_key(): e.index_file.file_name for e in changes  # the first of a chain X0 -> X1 -> X2
                    if e.kind == FileKind.DELETE and e.index_file.file_name not in added}
        for key in {e.bucket_key() for e in changes}:
            if current.get(key) != replaced.get(key):
                partition, bucket, index_type = key
                where = f"bucket {bucket} of partition {self.scan.partition_of(partition)}"
                if index_type == HASH_INDEX:
                    raise CommitConflictError(
                        f"the HASH index of {where} was changed by another writer's commit: a dynamic-bucket "
                        f"table (bucket = -1) takes one writer job — stop the other job, or give the table "
                        f"fixed buckets ('bucket' = N) to write it from several jobs")
                raise CommitConflictError(
                    f"Deletion vectors of {where} were changed by a concurrent commit; retry from the latest snapshot.")

    def _check_bucket_counts(self, entries: list[ManifestEntry]) -> None:
        counts: dict[bytes, set[int]] = {}
        for e in entries:
            if e.total_buckets > 0:
                counts.setdefault(e.partition, set()).add(e.total_buckets)
        for partition, values in counts.items():
            if len(values) > 1:
                raise CommitConflictError(
                    f"Bucket count of partition {self.scan.partition_of(partition)} would change "
                    f"({sorted(values)}); rescale a partition only with an overwrite.")

    def _check_level_overlap(self, entries: list[ManifestEntry]) -> None:
        runs: dict[tuple, list[ManifestEntry]] = {}
        for e in entries:
            if e.file.level >= 1:
                runs.setdefault((e.partition, e.bucket, e.file.level), []).append(e)
        for (partition, bucket, level), files in runs.items():
            ranges = sorted((BinaryRow.deserialize(e.file.min_key, self.key_types),
                             BinaryRow.deserialize(e.file.max_key, self.key_types)) for e in files)
            for (_, previous_max), (next_min, _) in zip(ranges, ranges[1:]):
                if not previous_max < next_min:
                    raise CommitConflictError(
                        f"LSM conflicts detected! Files of level {level} in bucket {bucket} of "
                        f"partition {self.scan.partition_of(partition)} overlap in key range.")
