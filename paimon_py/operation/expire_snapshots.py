"""``ExpireSnapshots``: removes old snapshots and the files only they used (format §9).

Which snapshots expire (Java ``ExpireSnapshotsImpl.expire``), latest ``L``, earliest ``E``:

* ``lower = max(L - retain_max + 1, E)``: snapshots below it expire whatever their age;
* ``upper = min(L - retain_min + 1, min consumer nextSnapshot, E + expire_limit)`` (exclusive);
* for ``id`` in ``lower .. upper-1``: if snapshot ``id + 1`` was committed at or after
  ``now - time_retained``, expire ``[E, id)`` and stop; otherwise expire ``[E, upper)``.

Expiring ``[E, end)`` (Java ``innerExpireUntil``), in this order:

1. data files DELETEd in the delta manifests of snapshots ``(E, end]`` (a file deleted by
   snapshot ``k`` was live until ``k - 1`` only), unless the nearest tag before ``k`` holds it
   (liveness is an interval, so that tag is the only one that can); a file that the same delta
   ADDs again (a level upgrade) stays;
2. changelog files ADDed by the changelog manifests of the expired snapshots;
3. manifest lists, manifests, index manifests, index files and statistics files of the expired
   snapshots that snapshot ``end`` and every tag do not use — contents before the list naming them;
4. the snapshot files, in ascending id order (no gaps), then ``EARLIEST := end``.

Crash safety: snapshots ``end .. L`` never lose a file, whatever step is interrupted, and the
state left behind is exactly what an interrupted Java expiration leaves: the snapshot files of the
doomed range still exist (only they can name their manifests), so the next run, from paimon_py or
Java, sees the same ``E`` and finishes the job. Files already gone are skipped (missing manifests
read as empty, as in Java's ``tryReadManifestList``). The doomed snapshots themselves may have lost
files by then: they were being expired; retained snapshots are always complete.

Decoupled changelog retention (``changelog.num-retained.*`` / ``changelog.time-retained`` above
the snapshot settings) is not implemented: it raises ``NotImplementedError`` naming the option.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from typing import Callable, Iterable

from paimon_py.exceptions import OptionError, TableFormatError, UnsupportedFeatureError
from paimon_py.manifest.manifest_entry import FileKind, ManifestEntry
from paimon_py.operation.table_files import TableFiles
from paimon_py.snapshot.snapshot import Snapshot
from paimon_py.tag.tag_manager import TagManager, branch_path

LOG = logging.getLogger(__name__)

_CONSUMER_NAME = re.compile(r"^consumer-(.+)$")


def min_consumer_next_snapshot(file_io, table_path: str, branch: str = "main") -> int | None:
    """Smallest ``nextSnapshot`` of ``consumer/consumer-<id>`` files (Java ``ConsumerManager``)."""
    directory = f"{branch_path(table_path, branch)}/consumer"
    values = []
    for name in file_io.list_names(directory):
        if not _CONSUMER_NAME.match(name):
            continue
        text = None
        for attempt in range(10):
            try:
                text = file_io.read_text(f"{directory}/{name}")
                values.append(int(json.loads(text)["nextSnapshot"]))
                break
            except FileNotFoundError:
                break  # consumer removed meanwhile
            except (ValueError, KeyError, TypeError) as error:
                if attempt == 9:
                    raise TableFormatError(f"Cannot read consumer file {directory}/{name}: {error}; "
                                           f"content {text!r}.") from None
                time.sleep(0.2)
    return min(values) if values else None


class ExpireSnapshots:
    """Expires snapshots of ``table`` by its options (``snapshot.num-retained.min/max``,
    ``snapshot.time-retained``, ``snapshot.expire.limit``), each overridable by keyword."""

    def __init__(self, table, *, retain_min: int | None = None, retain_max: int | None = None,
                 time_retained_ms: int | None = None, expire_limit: int | None = None,
                 current_time_millis: Callable[[], int] | None = None):
        options = table.options
        self.table = table
        self.retain_min = options.snapshot_num_retained_min if retain_min is None else retain_min
        self.retain_max = options.snapshot_num_retained_max if retain_max is None else retain_max
        self.time_retained_ms = (options.snapshot_time_retained_ms if time_retained_ms is None
                                 else time_retained_ms)
        self.expire_limit = options.snapshot_expire_limit if expire_limit is None else expire_limit
        self.current_time_millis = current_time_millis or (lambda: int(time.time() * 1000))
        self.clean_empty_directories = options.snapshot_clean_empty_directories
        if self.retain_min < 1:
            raise OptionError(f"snapshot.num-retained.min should be at least 1, got {self.retain_min}.")
        if self.expire_limit < 1:
            raise OptionError(f"snapshot.expire.limit should be at least 1, got {self.expire_limit}.")
        self._check_coupled_changelog(options)
        self.file_io = table.file_io
        self.snapshot_manager = table.snapshot_manager
        self.tag_manager = TagManager(table.file_io, table.table_path)
        self.files = TableFiles(table)

    def _check_coupled_changelog(self, options) -> None:
        # Java ExpireConfig: changelog settings default to the (effective) snapshot settings;
        # larger changelog settings make the changelog lifecycle decoupled.
        checks = [("changelog.num-retained.max", options.get("changelog.num-retained.max"), self.retain_max),
                  ("changelog.num-retained.min", options.get("changelog.num-retained.min"), self.retain_min),
                  ("changelog.time-retained", options.get("changelog.time-retained"), self.time_retained_ms)]
        for key, value, snapshot_value in checks:
            if value is not None and value > snapshot_value:
                raise UnsupportedFeatureError(
                    f"Option '{key}' ({value}) exceeds the snapshot setting ({snapshot_value}): a "
                    f"decoupled changelog lifecycle (changelog/changelog-<id>) is not implemented by "
                    f"paimon_py's snapshot expiration; lower '{key}' or expire with Java.")

    # ---- which snapshots --------------------------------------------------------------------

    def expire(self) -> int:
        """Expire what the retention settings allow; returns the number of snapshots expired."""
        if self.retain_max < self.retain_min:
            raise OptionError(f"retainMax ({self.retain_max}) must not be less than retainMin "
                              f"({self.retain_min}).")
        latest = self.snapshot_manager.latest_snapshot_id()
        if latest is None:
            return 0
        earliest = self.snapshot_manager.earliest_snapshot_id()
        if earliest is None:
            return 0
        older_than = self.current_time_millis() - self.time_retained_ms
        lower = max(latest - self.retain_max + 1, earliest)
        upper = latest - self.retain_min + 1
        consumer = min_consumer_next_snapshot(self.file_io, self.table.table_path)
        if consumer is not None:
            upper = min(upper, consumer)
        upper = min(upper, earliest + self.expire_limit)
        for snapshot_id in range(lower, upper):
            try:
                following = self.snapshot_manager.snapshot(snapshot_id + 1)
            except FileNotFoundError:
                continue  # expired meanwhile by another process
            if older_than <= following.time_millis:
                return self.expire_until(earliest, snapshot_id)
        return self.expire_until(earliest, upper)

    # ---- expiring a range -------------------------------------------------------------------

    def expire_until(self, earliest_id: int, end_exclusive: int) -> int:
        """Expire snapshots ``[earliest_id, end_exclusive)``; snapshot ``end_exclusive`` becomes earliest."""
        if end_exclusive <= earliest_id:
            if not self.file_io.exists(f"{self.snapshot_manager.snapshot_dir}/EARLIEST"):
                self.snapshot_manager.write_hint("EARLIEST", earliest_id)
            return 0
        including_end = self._collect_snapshots(earliest_id, end_exclusive)
        if not including_end:
            return 0
        begin = including_end[0].id
        expiring = [s for s in including_end if s.id != end_exclusive]
        tagged = self.tag_manager.tagged_snapshots()

        # 1. data files deleted by snapshots (begin, end]
        touched_buckets: set[tuple[bytes, int]] = set()
        for path in self._data_files_to_delete(including_end, tagged, begin, touched_buckets):
            self.files.delete(path)
        # 2. changelog files of the expired snapshots
        for snapshot in expiring:
            for path in self._changelog_files(snapshot, touched_buckets):
                self.files.delete(path)
        if self.clean_empty_directories:
            self._clean_empty_directories(touched_buckets)

        last = including_end[-1]
        if last.id != end_exclusive:
            return 0  # the new earliest snapshot vanished meanwhile: leave the rest alone
        # 3. metadata files nothing retained uses
        try:
            skipping: set[str] | None = set()
            for snapshot in tagged + [last]:
                skipping |= self.files.metadata_names(snapshot)
        except Exception:  # noqa: BLE001 - Java also skips manifest cleaning then
            LOG.warning("Skip cleaning manifest files: cannot read what the retained snapshot and "
                        "tags use.", exc_info=True)
            skipping = None
        if skipping is not None:
            for snapshot in expiring:
                for path in self._metadata_files_to_delete(snapshot, skipping):
                    self.files.delete(path)
        # 4. snapshot files (ascending, so no gaps), then the hint
        for snapshot in expiring:
            self.file_io.delete(self.snapshot_manager.snapshot_path(snapshot.id))
        self.snapshot_manager.write_hint("EARLIEST", end_exclusive)
        LOG.info("Expired snapshots [%d, %d)", begin, end_exclusive)
        return len(expiring)

    def _collect_snapshots(self, first: int, last: int) -> list[Snapshot]:
        snapshots = []
        for snapshot_id in range(first, last + 1):
            try:
                snapshots.append(self.snapshot_manager.snapshot(snapshot_id))
            except FileNotFoundError:
                pass
        return snapshots

    def _data_files_to_delete(self, including_end: list[Snapshot], tagged: list[Snapshot],
                              begin: int, touched: set) -> list[str]:
        tag_files: dict[int, set | None] = {}
        paths: list[str] = []
        for snapshot in including_end:
            if snapshot.id == begin:
                continue
            # the nearest tag before this snapshot is the only one that can hold its deleted files
            previous = [t for t in tagged if t.id < snapshot.id]
            skip: set = set()
            if previous:
                tag = previous[-1]
                if tag.id not in tag_files:
                    try:
                        tag_files[tag.id] = self.files.live_data_files(tag)
                    except Exception:  # noqa: BLE001
                        LOG.warning("Cannot read the files of tag snapshot %d.", tag.id, exc_info=True)
                        tag_files[tag.id] = None
                if tag_files[tag.id] is None:
                    LOG.info("Skip cleaning data files of snapshot %d.", snapshot.id)
                    continue
                skip = tag_files[tag.id]
            paths.extend(self._deleted_in_delta(snapshot, skip, touched))
        return paths

    def _deleted_in_delta(self, snapshot: Snapshot, skip: set, touched: set) -> list[str]:
        """Files a snapshot's delta DELETEs and does not ADD again (Java ``planDeletedInDeltaManifest``)."""
        try:
            entries = []
            for meta in self.files.read_manifest_list(snapshot.delta_manifest_list, tolerant=True):
                entries.extend(self.files.read_manifest(meta.file_name, tolerant=False))
        except Exception:  # noqa: BLE001 - a partly readable delta: delete nothing for it
            LOG.warning("Cannot read the delta of snapshot %d; not deleting its files.",
                        snapshot.id, exc_info=True)
            return []
        deleted: dict[str, ManifestEntry] = {}
        added: set[str] = set()
        for entry in entries:
            path = self.files.data_file_path(entry)
            if entry.kind == FileKind.ADD:
                added.add(path)
            else:
                deleted[path] = entry
        paths = []
        for path, entry in deleted.items():
            if path in added or (entry.partition, entry.bucket, entry.file.file_name) in skip:
                continue
            paths.append(path)
            paths.extend(self.files.extra_file_paths(entry))
            touched.add((entry.partition, entry.bucket))
        return paths

    def _changelog_files(self, snapshot: Snapshot, touched: set) -> list[str]:
        paths = []
        for meta in self.files.read_manifest_list(snapshot.changelog_manifest_list, tolerant=True):
            for entry in self.files.read_manifest(meta.file_name, tolerant=True):
                if entry.kind == FileKind.ADD:
                    paths.append(self.files.data_file_path(entry))
                    touched.add((entry.partition, entry.bucket))
        return paths

    def _metadata_files_to_delete(self, snapshot: Snapshot, skipping: set[str]) -> list[str]:
        """Java ``planManifestsCleaner``; ``skipping`` also de-duplicates across snapshots.

        Order: manifests before the list naming them, index files before their index manifest,
        so an interrupted run can still find every leftover on the next run.
        """
        paths: list[str] = []
        for list_name in (snapshot.base_manifest_list, snapshot.delta_manifest_list,
                          snapshot.changelog_manifest_list):
            if list_name is None:
                continue
            for meta in self.files.read_manifest_list(list_name, tolerant=True):
                if meta.file_name not in skipping:
                    skipping.add(meta.file_name)
                    paths.append(self.files.manifest_path(meta.file_name))
            if list_name not in skipping:
                skipping.add(list_name)
                paths.append(self.files.manifest_path(list_name))
        if snapshot.index_manifest is not None:
            for record in self.files.read_index_manifest(snapshot.index_manifest, tolerant=True):
                if record["_FILE_NAME"] not in skipping:
                    skipping.add(record["_FILE_NAME"])
                    paths.append(self.files.index_file_path(record))
            if snapshot.index_manifest not in skipping:
                skipping.add(snapshot.index_manifest)
                paths.append(self.files.manifest_path(snapshot.index_manifest))
        if snapshot.statistics is not None and snapshot.statistics not in skipping:
            skipping.add(snapshot.statistics)
            paths.append(self.files.statistics_path(snapshot.statistics))
        return paths

    def _clean_empty_directories(self, buckets: Iterable[tuple[bytes, int]]) -> None:
        """``snapshot.clean-empty-directories``: drop emptied bucket, then partition directories."""
        partitions = set()
        for partition, bucket in buckets:
            if self.files.try_delete_empty_dir(self.files.bucket_dir(partition, bucket)):
                partitions.add(partition)
        for partition in partitions:
            relative = self.files.partition_path(partition)
            while relative:
                if not self.files.try_delete_empty_dir(f"{self.table.table_path}/{relative}"):
                    break
                relative = os.path.dirname(relative)
