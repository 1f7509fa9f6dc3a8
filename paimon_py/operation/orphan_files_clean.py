"""``OrphanFilesClean``: deletes files no snapshot, tag, branch or changelog references (format §9).

Follows Java's ``LocalOrphanFilesClean``:

* candidates are the files directly inside ``manifest/``, ``index/``, ``statistics/`` and every
  bucket directory (``<k1>=<v1>/…/bucket-<b>/``, at the depth of the partition keys) whose
  modification time is before ``older_than_millis``; in ``snapshot/`` and ``changelog/`` (of the
  main branch and of every branch) every old file other than ``snapshot-<n>``/``changelog-<n>``
  and the ``EARLIEST``/``LATEST`` hints (leftover ``.snapshot-<n>.<uuid>.tmp`` files);
* a candidate survives if its *name* is used by any snapshot, tag or decoupled changelog of any
  branch: manifest lists, manifests, index manifest and its index files, statistics file,
  changelog files, and the data files (with their extra files) *live* in a snapshot or tag.
  Java keeps every data file any of those manifests names, even one ADDed and DELETEd again
  before the snapshot (its expiration removes those); we merge the entries instead, so files
  that only a deleted tag kept alive are freed too. Decoupled changelogs keep Java's rule
  (their delta files are changelog);
* candidates are listed *before* the used files are read, so a file committed while the clean
  runs is either too young to be a candidate or already visible in a snapshot;
* snapshots are read again until a listing shows none that was not read yet: a job's expiration
  may remove a snapshot's manifests while they are read (read as empty, as Java does), and the
  files it shared with newer snapshots are then found in those (with tight retention all the
  snapshots of the first listing can expire during one clean);
* ``schema/``, ``tag/``, ``consumer/`` and the ``branch/`` metadata are never touched; empty
  bucket/partition directories left behind are removed.

The default ``older_than_millis`` is one day ago (Java's default): files of a write that has not
been committed yet must not be removed, so never pass a threshold later than the oldest
in-flight write.
"""

from __future__ import annotations

import logging
import os
import re
import time

import pyarrow.fs as pafs

from paimon_py.manifest.manifest_entry import FileKind, ManifestEntry, merge_entries
from paimon_py.operation.table_files import TableFiles
from paimon_py.snapshot.snapshot import Snapshot
from paimon_py.tag.tag_manager import TagManager, branch_path

LOG = logging.getLogger(__name__)

_SNAPSHOT_NAME = re.compile(r"^snapshot-\d+$")
_CHANGELOG_NAME = re.compile(r"^changelog-\d+$")
_HINTS = ("EARLIEST", "LATEST")
ONE_DAY_MS = 24 * 3600 * 1000


class OrphanFilesClean:
    """Removes unreferenced files of ``table`` older than ``older_than_millis`` (epoch ms)."""

    def __init__(self, table, older_than_millis: int | None = None, dry_run: bool = False):
        now = int(time.time() * 1000)
        if older_than_millis is None:
            older_than_millis = now - ONE_DAY_MS
        if older_than_millis > now:
            raise ValueError("older_than_millis must be in the past: files being written and not "
                             "yet committed would be deleted.")
        self.table = table
        self.file_io = table.file_io
        self.table_path = table.table_path
        self.older_than_millis = older_than_millis
        self.dry_run = dry_run
        self.files = TableFiles(table)
        self.partition_depth = len(table.partition_keys)

    # ---- public -----------------------------------------------------------------------------

    def clean(self) -> list[str]:
        """Delete orphan files (or, with ``dry_run``, only report them); returns their paths."""
        branches = self._branches()
        deleted: list[str] = []
        for branch in branches:
            root = branch_path(self.table_path, branch)
            deleted += self._clean_metadata_dir(f"{root}/snapshot", _SNAPSHOT_NAME)
            deleted += self._clean_metadata_dir(f"{root}/changelog", _CHANGELOG_NAME)

        empty_dirs: list[str] = []
        candidates: dict[str, list[str]] = {}
        for directory in self._file_dirs():
            infos = self._list(directory)
            if not infos:
                if self._old_enough_dir(directory):
                    empty_dirs.append(directory)
                continue
            for info in infos:
                if info.type == pafs.FileType.File and self._old_enough(info):
                    candidates.setdefault(info.base_name, []).append(info.path)
        if candidates:
            used = self._used_names(branches)
            for name, paths in candidates.items():
                if name not in used:
                    for path in paths:
                        self._delete(path)
                        deleted.append(path)
        if not self.dry_run:
            self._clean_empty_dirs(empty_dirs, deleted)
        return deleted

    # ---- listing ----------------------------------------------------------------------------

    def _branches(self) -> list[str]:
        branches = []
        for name in self.file_io.list_names(f"{self.table_path}/branch"):
            if not name.startswith("branch-"):
                continue
            branch = name[len("branch-"):]
            schemas = [n for n in self.file_io.list_names(f"{self.table_path}/branch/{name}/schema")
                       if n.startswith("schema-")]
            if not schemas:
                raise RuntimeError(f"Branch '{branch}' has no schema. Orphan files cleaning aborted; "
                                   f"check the branch manually.")
            branches.append(branch)
        return ["main"] + branches

    def _list(self, directory: str) -> list[pafs.FileInfo]:
        selector = pafs.FileSelector(directory, allow_not_found=True, recursive=False)
        return self.file_io.filesystem.get_file_info(selector)

    def _file_dirs(self) -> list[str]:
        dirs = [f"{self.table_path}/manifest", f"{self.table_path}/index",
                f"{self.table_path}/statistics"]
        dirs += self._data_dirs(self.table_path, self.partition_depth)
        return dirs

    def _data_dirs(self, directory: str, level: int) -> list[str]:
        subdirs = [i for i in self._list(directory) if i.type == pafs.FileType.Directory]
        if level == 0:
            return [i.path for i in subdirs if i.base_name.startswith("bucket-")]
        result = []
        for info in subdirs:
            if "=" not in info.base_name:
                continue  # unknown directories are left alone
            below = self._data_dirs(info.path, level - 1)
            result += below if below else [info.path]  # an empty partition: clean it up
        return result

    def _old_enough(self, info: pafs.FileInfo) -> bool:
        return info.mtime_ns is not None and info.mtime_ns // 1_000_000 < self.older_than_millis

    def _old_enough_dir(self, directory: str) -> bool:
        info = self.file_io.filesystem.get_file_info(directory)
        return info.type == pafs.FileType.Directory and self._old_enough(info)

    def _clean_metadata_dir(self, directory: str, pattern: re.Pattern) -> list[str]:
        deleted = []
        for info in self._list(directory):
            name = info.base_name
            if (info.type != pafs.FileType.File or pattern.match(name) or name in _HINTS
                    or not self._old_enough(info)):
                continue
            self._delete(info.path)
            deleted.append(info.path)
        return deleted

    # ---- what is used -----------------------------------------------------------------------

    def _all_snapshots(self, branch: str, seen: set[tuple[str, int]]) -> tuple[list[Snapshot], list[Snapshot]]:
        """(snapshots and tags, decoupled changelogs) of a branch not in ``seen`` (which gets their
        ``(kind, id)``); files vanishing meanwhile are skipped."""
        root = branch_path(self.table_path, branch)
        found: dict[str, list[Snapshot]] = {"snapshot": [], "changelog": []}
        for kind, pattern in (("snapshot", _SNAPSHOT_NAME), ("changelog", _CHANGELOG_NAME)):
            directory = f"{root}/{kind}"
            for name in self.file_io.list_names(directory):
                key = (kind, int(name.rsplit("-", 1)[1])) if pattern.match(name) else None
                if key is not None and key not in seen:
                    try:
                        found[kind].append(Snapshot.from_json(self.file_io.read_text(f"{directory}/{name}")))
                        seen.add(key)
                    except FileNotFoundError:
                        pass
        tags = [t for t in TagManager(self.file_io, self.table_path, branch).tagged_snapshots()
                if ("snapshot", t.id) not in seen]
        seen.update(("snapshot", t.id) for t in tags)
        return found["snapshot"] + tags, found["changelog"]

    def _used_names(self, branches: list[str]) -> set[str]:
        used = _UsedNames(self.files)
        for branch in branches:
            seen: set[tuple[str, int]] = set()
            while True:  # again while new snapshots appeared (see the module's docstring)
                snapshots, changelogs = self._all_snapshots(branch, seen)
                if not snapshots and not changelogs:
                    break
                for snapshot in snapshots:
                    used.add_snapshot(snapshot)
                for changelog in changelogs:
                    used.add_changelog(changelog)
        return used.names

    # ---- deleting ---------------------------------------------------------------------------

    def _delete(self, path: str) -> None:
        if self.dry_run:
            return
        if self.file_io.is_dir(path):
            LOG.error("Refusing to delete directory %s in orphan file cleanup.", path)
            return
        self.file_io.delete(path)

    def _clean_empty_dirs(self, empty_dirs: list[str], deleted: list[str]) -> None:
        root = os.path.normpath(self.table_path)
        # directories found empty (and old), then their parents while they become empty
        pending = set(empty_dirs)
        while pending:
            parents = set()
            for directory in pending:
                if os.path.normpath(directory) != root and self.files.try_delete_empty_dir(directory):
                    parents.add(os.path.dirname(directory))
            pending = {p for p in parents if os.path.normpath(p) != root
                       and os.path.normpath(p).startswith(root)}
        # bucket directories emptied by this clean, then their partition directories
        buckets = {os.path.dirname(p) for p in deleted
                   if os.path.basename(os.path.dirname(p)).startswith("bucket-")}
        parents = {os.path.dirname(b) for b in buckets if self.files.try_delete_empty_dir(b)}
        for _ in range(self.partition_depth):
            parents = {os.path.dirname(p) for p in parents
                       if os.path.normpath(p) != root and self.files.try_delete_empty_dir(p)}



class _UsedNames:
    """The names of the files snapshots and changelogs use, their manifests read tolerantly (a
    snapshot expired meanwhile uses nothing) and each once."""

    def __init__(self, files: TableFiles):
        self.files = files
        self.names: set[str] = set()
        self._entries: dict[str, list[ManifestEntry]] = {}

    def add_snapshot(self, snapshot: Snapshot) -> None:
        # data files: those live in the snapshot (a file ADDed and DELETEd again before it is
        # named by its manifests but no longer needed)
        data = self._manifests(snapshot.base_manifest_list) + self._manifests(snapshot.delta_manifest_list)
        merged = merge_entries(e for m in data for e in self._read(m))
        for entry in merged.values():
            if entry.kind == FileKind.ADD:
                self._use(entry)
        for manifest in self._manifests(snapshot.changelog_manifest_list):
            for entry in self._read(manifest):
                self._use(entry)
        self._add_index_and_statistics(snapshot)

    def add_changelog(self, changelog: Snapshot) -> None:
        """A decoupled changelog: every file its manifests name (Java's rule)."""
        for list_name in (changelog.base_manifest_list, changelog.delta_manifest_list,
                          changelog.changelog_manifest_list):
            for manifest in self._manifests(list_name):
                for entry in self._read(manifest):
                    self._use(entry)
        self._add_index_and_statistics(changelog)

    def _read(self, manifest: str) -> list[ManifestEntry]:
        if manifest not in self._entries:
            self._entries[manifest] = self.files.read_manifest(manifest, tolerant=True)
        return self._entries[manifest]

    def _manifests(self, list_name: str | None) -> list[str]:
        if list_name is None:
            return []
        self.names.add(list_name)
        names = [m.file_name for m in self.files.read_manifest_list(list_name, tolerant=True)]
        self.names.update(names)
        return names

    def _use(self, entry: ManifestEntry) -> None:
        self.names.add(entry.file.file_name)
        self.names.update(entry.file.extra_files)

    def _add_index_and_statistics(self, snapshot: Snapshot) -> None:
        if snapshot.index_manifest is not None:
            self.names.add(snapshot.index_manifest)
            self.names.update(r["_FILE_NAME"] for r in
                              self.files.read_index_manifest(snapshot.index_manifest, tolerant=True))
        if snapshot.statistics is not None:
            self.names.add(snapshot.statistics)
