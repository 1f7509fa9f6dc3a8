"""``SpillFiles``: sorted, key-unique runs of a write buffer spilled to local disk (Arrow IPC).

With ``write-buffer-spillable`` (Paimon's default), a full write buffer is folded, sorted and
written to a local temporary file instead of becoming a level-0 file; at commit time the spilled
runs are merged (in bounded memory, chunk by chunk) into as few level-0 files as possible, so
the LSM tree gets fewer, larger sorted runs.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from typing import Callable, Iterator

import pyarrow as pa

BATCH_ROWS = 16384


class SpillFiles:
    def __init__(self, directory: Callable[[], str]):
        """``directory``: where the runs go, asked at the first spill (a writer that never spills,
        and one killed before it did, leaves no directory behind)."""
        self.directory = directory
        self.paths: list[str] = []

    def __len__(self) -> int:
        return len(self.paths)

    def spill(self, run: pa.Table) -> None:
        path = os.path.join(self.directory(), f"spill-{uuid.uuid4()}.arrow")
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, run.schema) as writer:
            writer.write_table(run, max_chunksize=BATCH_ROWS)
        self.paths.append(path)

    def runs(self) -> list[Iterator[pa.Table]]:
        return [_batches(path) for path in self.paths]

    def clear(self) -> None:
        for path in self.paths:
            os.unlink(path)
        self.paths = []


def _batches(path: str) -> Iterator[pa.Table]:
    """The run's batches, read one at a time into memory that goes when the batch does (a memory
    map would keep every page read resident until the merge ends: the whole run)."""
    with pa.OSFile(path) as source:
        reader = pa.ipc.open_file(source)
        for i in range(reader.num_record_batches):
            yield pa.Table.from_batches([reader.get_batch(i)])


def new_spill_directory() -> str:
    return tempfile.mkdtemp(prefix="paimon-spill-")
