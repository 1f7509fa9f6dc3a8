"""``FileStoreWrite``: routes input batches (``RowRouter``) to one writer per (partition, bucket).

Primary-key tables get a ``MergeTreeWriter`` (LSM: write buffer, level-0 flushes, background
universal compaction); append tables an ``AppendOnlyWriter``. All writers share one memory budget
(``write-buffer-size``) and one compaction thread pool. Writers restore their bucket's files from
the latest snapshot, so sequence numbers continue and compaction sees the whole LSM tree.

Dynamic-bucket primary-key tables (``bucket = -1``): a ``HashBucketAssigner`` (assigner 0 of 1)
gives every key its bucket, unless the caller gives the buckets (a Flink job's assigners did);
each bucket's ``DynamicBucketIndexMaintainer`` adds the keys written to its HASH index file.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paimon_py.data.binary_row import BinaryRow
from paimon_py.data.row_kind import RowKind
from paimon_py.deletionvectors.index_file import DeletionVectorsIndexFile
from paimon_py.deletionvectors.maintainer import DeletionVectorsMaintainer
from paimon_py.exceptions import InvalidDataError, OptionError, UnsupportedFeatureError
from paimon_py.io.data_file_meta import DataFileMeta
from paimon_py.io.data_file_reader import DataFileReader
from paimon_py.io.data_file_writer import DataFileWriter
from paimon_py.index.bucket_assigner import HashBucketAssigner
from paimon_py.index.hash_index_file import HashIndexFile
from paimon_py.index.index_maintainer import DynamicBucketIndexMaintainer
from paimon_py.io.key_value import VALUE_KIND
from paimon_py.manifest.index_manifest import DELETION_VECTORS_INDEX, HASH_INDEX, IndexFileMeta, IndexManifestFile
from paimon_py.mergetree.append_only_writer import AppendOnlyWriter
from paimon_py.mergetree.compact.compact_manager import MergeTreeCompactManager
from paimon_py.mergetree.compact.universal_compaction import UniversalCompaction
from paimon_py.mergetree.key_value_io import BucketFiles
from paimon_py.mergetree.levels import Levels
from paimon_py.mergetree.merge_function import create_merge_function
from paimon_py.mergetree.merge_tree_writer import MergeTreeWriter
from paimon_py.mergetree.spill import SpillFiles, new_spill_directory
from paimon_py.mergetree.write_buffer import WriteBuffer
from paimon_py.mergetree.write_stats import WriteStats
from paimon_py.operation.commit_message import CommitMessage
from paimon_py.operation.file_store_scan import FileStoreScan
from paimon_py.operation.input_validation import conform_to_schema, row_kinds
from paimon_py.operation.row_router import RowRouter, Routing
from paimon_py.partition import PartitionComputer
from paimon_py.schema.table_schema import TableSchema
from paimon_py.snapshot.snapshot_manager import SnapshotManager

SEQUENCE_BYTES = 8
"""Bytes per row a primary-key bucket writer adds to a batch it buffers (its sequence number)."""

COMPACTION_FILE_SIZE_RATIO = 0.7
"""Files below this share of ``target-file-size`` are merged with their neighbours by compaction."""

KEY_HASH = "_KEY_HASH"
"""A column that carries the key hashes of a dynamic-bucket table's rows to their bucket."""
NEW_KEY = "_NEW_KEY"
"""A column that says which of those keys the assigner placed now (new to the bucket's index)."""


class FileStoreWrite:
    """Writer for one table schema: ``write`` batches, then ``prepare_commit`` per checkpoint."""

    def __init__(self, schema: TableSchema, file_writer: DataFileWriter, file_reader: DataFileReader,
                 scan: FileStoreScan, snapshot_manager: SnapshotManager,
                 partition_computer: PartitionComputer, index_manifest_file: IndexManifestFile,
                 ignore_previous_files: bool = False):
        """``ignore_previous_files``: write as if the table were empty, without compaction (for
        an overwrite, whose commit replaces the old files anyway)."""
        self.schema = schema
        self.options = schema.core_options
        self.file_writer = file_writer
        self.file_reader = file_reader
        self.scan = scan
        self.snapshot_manager = snapshot_manager
        self.partition_computer = partition_computer
        self.index_manifest_file = index_manifest_file
        self.dv_index_file = DeletionVectorsIndexFile(file_reader.file_io, index_manifest_file.path_factory)
        self.hash_index_file = HashIndexFile(file_reader.file_io, index_manifest_file.path_factory)
        self.ignore_previous_files = ignore_previous_files
        self.has_primary_key = bool(schema.primary_keys)
        self.num_buckets = self.options.bucket
        self.total_buckets = self.num_buckets if self.num_buckets > 0 else -1
        self.dynamic = self.has_primary_key and self.num_buckets == -1
        self._check_writable()
        self.router = RowRouter(schema)
        self.merge_function = create_merge_function(schema) if self.has_primary_key else None
        self.write_buffer = WriteBuffer(self.options.write_buffer_size)
        self.executor = ThreadPoolExecutor(max_workers=os.cpu_count() or 1,
                                           thread_name_prefix="paimon-compaction")
        self.writers: dict[tuple, MergeTreeWriter | AppendOnlyWriter] = {}
        self._restored: dict[tuple, dict[int, list[DataFileMeta]]] = {}
        self._restored_index: dict[tuple[tuple, int, str], IndexFileMeta] = {}
        self._taken_over_dvs: dict[tuple, DeletionVectorsMaintainer] = {}
        self.hash_maintainers: dict[tuple, DynamicBucketIndexMaintainer] = {}
        self.assigner = self._new_assigner() if self.dynamic else None
        self._spill_dir: str | None = None
        self._totals = WriteStats()
        """Rows written, and the totals of the writers taken over from an older schema (``take_over``)."""
        key_types = schema.types_of(schema.trimmed_primary_keys)
        self.key_of = lru_cache(maxsize=65536)(lambda data: BinaryRow.deserialize(data, key_types))

    def _check_writable(self) -> None:
        if self.num_buckets == -2:
            raise UnsupportedFeatureError("paimon_py cannot write postpone-bucket (bucket=-2) tables; create "
                                          "the table with 'bucket' -1 (dynamic) or a positive number.")
        if self.dynamic:
            self._check_dynamic_bucket()
        if self.options.deletion_vectors_enabled:
            self._check_deletion_vectors()

    def _check_dynamic_bucket(self) -> None:
        """Dynamic bucket mode where a key stays in its partition, without overwrite."""
        missing = [k for k in self.schema.partition_keys if k not in self.schema.primary_keys]
        if missing:
            raise UnsupportedFeatureError(
                f"paimon_py does not write dynamic-bucket tables whose primary key lacks partition "
                f"column(s) {missing} (cross-partition updates); add them to the primary key or set "
                f"'bucket' to a positive number.")
        if self.ignore_previous_files:
            raise UnsupportedFeatureError("paimon_py cannot overwrite dynamic-bucket (bucket=-1) tables; "
                                          "delete rows with -D records instead.")
        if self.options.dynamic_bucket_max_buckets == 0:
            raise OptionError("dynamic-bucket.max-buckets=0 is not allowed — use -1 (unlimited) or a "
                              "positive number")

    def _new_assigner(self) -> HashBucketAssigner:
        """The one assigner of a single writer; it reads the index files ``_restore`` found."""
        def load(partition: tuple) -> list[tuple[int, np.ndarray]]:
            return [(bucket, self.hash_index_file.read(meta))
                    for (p, bucket, kind), meta in self._restored_index.items()
                    if p == partition and kind == HASH_INDEX]
        return HashBucketAssigner.of(self.schema, load)

    def _check_deletion_vectors(self) -> None:
        """Deletion vectors are written for what the key alone decides: the newest row wins."""
        options = self.options
        if not self.has_primary_key:
            raise UnsupportedFeatureError("paimon_py writes deletion vectors for primary-key tables only; "
                                          "create the table without 'deletion-vectors.enabled'.")
        if options.merge_engine != "deduplicate" or options.sequence_field:
            raise UnsupportedFeatureError(
                "paimon_py writes deletion vectors with merge-engine=deduplicate and no sequence.field "
                "only; create the table without 'deletion-vectors.enabled' or with those settings.")
        if options.changelog_producer == "full-compaction":
            raise UnsupportedFeatureError(
                "paimon_py does not write deletion vectors with changelog-producer=full-compaction; "
                "use 'lookup' or 'input'.")
        if self.ignore_previous_files:
            raise UnsupportedFeatureError("paimon_py cannot overwrite deletion-vector tables; delete "
                                          "rows with -D records instead.")

    # ---- input -------------------------------------------------------------------------------

    def write(self, data: pa.Table, kinds: pa.Array | None = None, buckets: np.ndarray | None = None,
              new_keys: np.ndarray | None = None) -> None:
        """Write rows; their kinds (0 +I, 1 -U, 2 +U, 3 -D) come from ``kinds`` if given, else
        from the ``rowkind.field`` column, else all +I. ``buckets``: the bucket of every row of a
        dynamic-bucket table, chosen by the caller's assigners (default: this writer's own);
        ``new_keys``: which of those rows' keys the assigners placed now (bool; default: any may
        be new, so the bucket's index file is read at commit to find out)."""
        data = conform_to_schema(data, self.schema)
        if not data.num_rows:
            return
        kinds = row_kinds(data, self.schema) if kinds is None else kinds.cast(pa.int8())
        if not self.has_primary_key and pc.any(pc.not_equal(kinds, 0)).as_py():
            raise InvalidDataError("Table has no primary key, so it accepts only inserts (+I); the "
                                   "input holds -U/+U/-D rows. Define a primary key to apply changes.")
        data = data.append_column(pa.field(VALUE_KIND, pa.int8(), False), kinds)
        if buckets is not None:
            if not self.dynamic:
                raise ValueError("Buckets are given only for dynamic-bucket tables.")
            data = data.append_column("_BUCKET", pa.array(buckets, pa.int32()))
            if new_keys is not None:
                data = data.append_column(NEW_KEY, pa.array(new_keys, pa.bool_()))
        ignored = self._ignored_kinds()
        if ignored:
            data = data.filter(pc.invert(pc.is_in(kinds, pa.array(ignored, pa.int8()))))
        if not data.num_rows:
            return
        self._totals.rows_written += data.num_rows
        self.write_buffer.ensure_budget(incoming=data.nbytes + SEQUENCE_BYTES * data.num_rows)
        routing = self.router.assign(data)
        self._restore({p for p in routing.partitions if p not in self._restored})
        if self.dynamic:
            data = self._assign_buckets(data, routing)
        for partition, bucket, rows in self.router.group(data, routing):
            if self.dynamic:
                hashes = rows.column(KEY_HASH).to_numpy()
                if NEW_KEY in rows.column_names:
                    hashes = hashes[rows.column(NEW_KEY).to_numpy(zero_copy_only=False)]
                self._maintainer(partition, bucket).notify(hashes)
                rows = rows.drop_columns([c for c in (KEY_HASH, NEW_KEY) if c in rows.column_names])
            self._writer(partition, bucket).write(rows)
        self.write_buffer.ensure_budget()

    def _assign_buckets(self, data: pa.Table, routing: Routing) -> pa.Table:
        """Sets the routing's buckets (given in a ``_BUCKET`` column, else from the assigner) and
        returns ``data`` with the key hashes added (``KEY_HASH``), ``_BUCKET`` dropped and, where
        known, whether each key is new to the index (``NEW_KEY``)."""
        hashes = self.router.key_hashes(data)
        if "_BUCKET" in data.column_names:
            routing.bucket_of_row = data.column("_BUCKET").to_numpy().astype(np.int32)
            data = data.drop_columns(["_BUCKET"])
        else:
            assigned = self.assigner.assign_rows(routing.partitions, routing.partition_of_row, hashes)
            routing.bucket_of_row = assigned.buckets
            data = data.append_column(NEW_KEY, pa.array(assigned.new, pa.bool_()))
        return data.append_column(KEY_HASH, pa.array(hashes, pa.int32()))

    def _ignored_kinds(self) -> list[int]:
        """Row kinds dropped on write, as Paimon's writers do for ``ignore-delete`` and
        ``ignore-update-before``."""
        ignored = []
        if self.options.ignore_delete:
            ignored.append(int(RowKind.DELETE))
        if self.options.ignore_update_before or self.options.ignore_delete:
            ignored.append(int(RowKind.UPDATE_BEFORE))
        return ignored

    def compact(self, partition: tuple, bucket: int, full_compaction: bool = True) -> None:
        """Compact a bucket now (Java ``FileStoreWrite.compact``), from its files in the latest
        snapshot and what this writer wrote since; the result comes with ``prepare_commit``.
        ``full_compaction``: a primary-key bucket becomes one sorted run at the highest level, an
        append bucket's small files are merged (two or more, order kept)."""
        if self.options.write_only or self.ignore_previous_files:
            raise UnsupportedFeatureError("This writer does not compact ('write-only' or an overwrite); "
                                          "use a writer of the table copied with write-only=false.")
        self._restore({partition} - self._restored.keys())
        self._writer(partition, bucket).compact(full_compaction)

    # ---- commit ------------------------------------------------------------------------------

    def prepare_commit(self, wait_compaction: bool = True) -> list[CommitMessage]:
        """Flush every writer (in parallel) and collect what each has for the next snapshot."""
        writers = list(self.writers.items())

        def prepare(item: tuple[tuple, MergeTreeWriter | AppendOnlyWriter]) -> CommitMessage:
            (partition, bucket), writer = item
            message = CommitMessage.of(partition, bucket, self.total_buckets,
                                       writer.prepare_commit(wait_compaction))
            if self.dynamic:
                new, replaced = self._maintainer(partition, bucket).prepare_commit()
                message.new_index_files += new
                message.deleted_index_files += replaced
            return message

        if len(writers) <= 1:
            messages = [prepare(item) for item in writers]
        else:
            with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                messages = list(pool.map(prepare, writers))
        return [m for m in messages if not m.is_empty()]

    def stats(self) -> WriteStats:
        """What this table's writers did (totals since the first of them started) and hold now."""
        total = self._totals
        for writer in self.writers.values():
            total = total.plus(writer.stats())
        return total

    def take_over(self, previous: "FileStoreWrite") -> None:
        """Continue where a writer of an older schema of the same table stopped (after its
        ``prepare_commit``): its buckets' files, committed or not, become this writer's starting
        point, so sequence numbers keep increasing and compaction sees every file; its totals
        continue in ``stats``."""
        self._totals = self._totals.plus(replace(previous.stats(), buffer_bytes=0, max_sorted_runs=0))
        for partition, buckets in previous._restored.items():
            self._restored[partition] = {bucket: list(files) for bucket, files in buckets.items()}
        self._restored_index.update(previous._restored_index)
        self.hash_maintainers.update(previous.hash_maintainers)
        if self.assigner is not None and previous.assigner is not None:
            self.assigner.partitions.update(previous.assigner.partitions)
        for (partition, bucket), writer in previous.writers.items():
            files = writer.levels.all_files() if isinstance(writer, MergeTreeWriter) else writer.files
            self._restored[partition][bucket] = list(files)
            if isinstance(writer, MergeTreeWriter) and writer.compact_manager is not None \
                    and writer.compact_manager.dv_maintainer is not None:
                self._taken_over_dvs[(partition, bucket)] = writer.compact_manager.dv_maintainer

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        self.executor.shutdown(wait=True)
        self.writers.clear()
        if self._spill_dir is not None:
            shutil.rmtree(self._spill_dir, ignore_errors=True)
            self._spill_dir = None

    # ---- writers -----------------------------------------------------------------------------

    def _restore(self, partitions: set[tuple]) -> None:
        """Load the live files of new partitions from the latest snapshot (one manifest scan)."""
        if not partitions:
            return
        for partition in partitions:
            self._restored[partition] = {}
        if self.ignore_previous_files:
            return
        latest = self.snapshot_manager.latest_snapshot()
        for entry in self.scan.live_entries(latest, lambda p: p in partitions):
            partition = self.scan.partition_of(entry.partition)
            if self.num_buckets > 0 and entry.total_buckets not in (self.num_buckets, -1, 0):
                raise OptionError(
                    f"Partition {partition} was written with {entry.total_buckets} buckets but the "
                    f"table option 'bucket' is {self.num_buckets}; rescale it with an overwrite.")
            self._restored[partition].setdefault(entry.bucket, []).append(entry.file)
        if (self.options.deletion_vectors_enabled or self.dynamic) and latest is not None:
            for entry in self.index_manifest_file.read(latest.index_manifest):
                partition = self.scan.partition_of(entry.partition)
                if partition in partitions:
                    self._restored_index[(partition, entry.bucket, entry.index_file.index_type)] = entry.index_file

    def _writer(self, partition: tuple, bucket: int):
        key = (partition, bucket)
        if key not in self.writers:
            files = self._restored[partition].get(bucket, [])
            writer = self._new_merge_tree_writer(partition, bucket, files) if self.has_primary_key \
                else self._new_append_writer(partition, bucket, files)
            self.writers[key] = writer
            self.write_buffer.register(writer)
        return self.writers[key]

    def _new_append_writer(self, partition: tuple, bucket: int, files: list[DataFileMeta]) -> AppendOnlyWriter:
        options = self.options
        compacts = not (options.write_only or self.ignore_previous_files)
        return AppendOnlyWriter(bucket, self.file_writer, self.file_reader if compacts else None,
                                self.partition_computer.path(partition), files,
                                options.compaction_min_file_num, options.compaction_max_file_num,
                                int(options.target_file_size(False) * COMPACTION_FILE_SIZE_RATIO))

    def _full_compaction_delta_commits(self) -> int | None:
        """``full-compaction.delta-commits``; the full-compaction producer defaults it to 1."""
        value = self.options.full_compaction_delta_commits
        if value is None and self.options.changelog_producer == "full-compaction":
            return 1
        return value

    def _new_merge_tree_writer(self, partition: tuple, bucket: int, files: list[DataFileMeta]) -> MergeTreeWriter:
        options = self.options
        bucket_files = BucketFiles(self.schema, self.file_reader, self.file_writer, self.merge_function,
                                   self.partition_computer.path(partition), bucket, self.key_of)
        levels = Levels(self.key_of, files, options.num_levels)
        manager = None
        if not (options.write_only or self.ignore_previous_files):
            strategy = UniversalCompaction(options.max_size_amplification_percent,
                                           options.compaction_size_ratio,
                                           options.num_sorted_runs_compaction_trigger)
            min_file_size = int(options.target_file_size(True) * COMPACTION_FILE_SIZE_RATIO)
            manager = MergeTreeCompactManager(self.executor, levels, strategy, bucket_files,
                                              min_file_size, options.num_sorted_runs_stop_trigger,
                                              options.changelog_producer, self._force_level0(),
                                              self._dv_maintainer(partition, bucket))
            if manager.dv_maintainer is not None:
                bucket_files.deleted = manager.dv_maintainer.deleted
        spill = SpillFiles(self._spill_directory) if options.write_buffer_spillable else None
        return MergeTreeWriter(bucket_files, manager, levels.max_sequence_number() + 1,
                               options.changelog_producer,
                               self._full_compaction_delta_commits(), spill, self._force_level0())

    def _force_level0(self) -> bool:
        """Level 0 is compacted at every commit for the ``lookup`` producer (so each commit has
        its changelog) and for ``first-row`` and deletion-vector tables (readers skip level 0
        there), as in Paimon."""
        return (self.options.changelog_producer == "lookup" or self.options.merge_engine == "first-row"
                or self.options.deletion_vectors_enabled)

    def _dv_maintainer(self, partition: tuple, bucket: int) -> DeletionVectorsMaintainer | None:
        if not self.options.deletion_vectors_enabled:
            return None
        key = (partition, bucket)
        if key in self._taken_over_dvs:
            return self._taken_over_dvs.pop(key)
        return DeletionVectorsMaintainer(self.dv_index_file,
                                         self._restored_index.get((partition, bucket, DELETION_VECTORS_INDEX)))

    def _maintainer(self, partition: tuple, bucket: int) -> DynamicBucketIndexMaintainer:
        """The HASH index of a bucket of a dynamic-bucket table, restored when first needed."""
        key = (partition, bucket)
        if key not in self.hash_maintainers:
            self.hash_maintainers[key] = DynamicBucketIndexMaintainer(
                self.hash_index_file, self._restored_index.get((partition, bucket, HASH_INDEX)))
        return self.hash_maintainers[key]

    def _spill_directory(self) -> str:
        if self._spill_dir is None:
            self._spill_dir = new_spill_directory()
        return self._spill_dir
