"""``TagManager``: named, long-lived snapshots in ``tag/tag-<name>`` (format §1, §9 "Tags").

A tag file is the snapshot's JSON. As in Java's ``TagManager.createOrReplaceTag``, the tag keys
``tagCreateTime`` (Jackson ``LocalDateTime`` array ``[y, mo, d, h, mi, s, ns]``, trailing zero
fields omitted) and ``tagTimeRetained`` (decimal seconds) are written only when the tag has a
retention: Paimon <= 0.7 readers cannot read a tag carrying them. Readers (Java, pypaimon's
``TagManager.get`` / ``scan.tag-name``, this module) ignore unknown keys.

Tags keep the files of their snapshot alive: snapshot expiration and orphan cleanup consult
:meth:`TagManager.tagged_snapshots`. Deleting a tag only removes its file here; files that only
the tag kept alive are removed by the next :class:`~paimon_py.operation.orphan_files_clean.OrphanFilesClean`
run (Java's ``deleteTag`` cleans them eagerly when the tagged snapshot has already expired).
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import replace

from paimon_py.exceptions import TagAlreadyExists
from paimon_py.fs.file_io import FileIO
from paimon_py.snapshot.snapshot import Snapshot

TAG_PREFIX = "tag-"
TAG_KEYS = ("tagCreateTime", "tagTimeRetained")
_BRANCH_NAME = re.compile(r"^[^/\\]+$")


def branch_path(table_path: str, branch: str | None) -> str:
    """Root of a branch's metadata (Java ``BranchManager.branchPath``); ``main`` is the table root."""
    if not branch or branch == "main":
        return table_path
    return f"{table_path}/branch/branch-{branch}"


def local_date_time_array(value: datetime.datetime) -> list[int]:
    """Jackson's ``LocalDateTime`` array form: seconds/nanos only when non-zero."""
    out = [value.year, value.month, value.day, value.hour, value.minute]
    nanos = value.microsecond * 1000
    if value.second or nanos:
        out.append(value.second)
    if nanos:
        out.append(nanos)
    return out


class TagManager:
    """Tags of one table (or of one branch of it)."""

    def __init__(self, file_io: FileIO, table_path: str, branch: str = "main"):
        self.file_io = file_io
        self.table_path = table_path.rstrip("/")
        self.branch = branch or "main"

    def tag_directory(self) -> str:
        return f"{branch_path(self.table_path, self.branch)}/tag"

    def tag_path(self, name: str) -> str:
        return f"{self.tag_directory()}/{TAG_PREFIX}{name}"

    @staticmethod
    def _check_name(name: str) -> None:
        if not name or name.isspace():
            raise ValueError("Tag name shouldn't be blank.")
        if not _BRANCH_NAME.match(name):
            raise ValueError(f"Tag name {name!r} must not contain '/' or '\\'.")

    def tag_exists(self, name: str) -> bool:
        self._check_name(name)
        return self.file_io.exists(self.tag_path(name))

    def create_tag(self, name: str, snapshot: Snapshot, time_retained_ms: int | None = None,
                   ignore_if_exists: bool = False) -> None:
        """Write ``tag/tag-<name>``; an existing tag is an error unless ``ignore_if_exists``."""
        self._check_name(name)
        if self.tag_exists(name):
            if ignore_if_exists:
                return
            raise TagAlreadyExists(f"Tag '{name}' already exists.")
        data = json.loads(_trim(snapshot).to_json())
        if time_retained_ms is not None:
            data["tagCreateTime"] = local_date_time_array(datetime.datetime.now())
            data["tagTimeRetained"] = time_retained_ms / 1000
        self.file_io.write_text(self.tag_path(name), json.dumps(data, indent=2))

    def get(self, name: str) -> Snapshot | None:
        """The tagged snapshot (tag keys stay in ``Snapshot.extra``), or None."""
        self._check_name(name)
        try:
            return Snapshot.from_json(self.file_io.read_text(self.tag_path(name)))
        except FileNotFoundError:
            return None

    def delete_tag(self, name: str) -> bool:
        """Remove the tag file; False if there was no such tag."""
        self._check_name(name)
        path = self.tag_path(name)
        if not self.file_io.exists(path):
            return False
        self.file_io.delete(path)
        return True

    def list_tags(self) -> list[str]:
        """Tag names, sorted."""
        return sorted(n[len(TAG_PREFIX):] for n in self.file_io.list_names(self.tag_directory())
                      if n.startswith(TAG_PREFIX))

    def tags(self) -> dict[str, Snapshot]:
        """name -> tagged snapshot (as a plain snapshot); tags deleted meanwhile are skipped."""
        out = {}
        for name in self.list_tags():
            snapshot = self.get(name)
            if snapshot is not None:
                out[name] = _trim(snapshot)
        return out

    def tagged_snapshots(self) -> list[Snapshot]:
        """Distinct tagged snapshots, ordered by id (Java ``TagManager.taggedSnapshots``)."""
        by_id: dict[int, Snapshot] = {}
        for snapshot in self.tags().values():
            by_id.setdefault(snapshot.id, snapshot)
        return [by_id[i] for i in sorted(by_id)]


def _trim(snapshot: Snapshot) -> Snapshot:
    """The snapshot without tag-only keys (Java ``Tag.trimToSnapshot``)."""
    if not any(k in snapshot.extra for k in TAG_KEYS):
        return snapshot
    return replace(snapshot, extra={k: v for k, v in snapshot.extra.items() if k not in TAG_KEYS})
