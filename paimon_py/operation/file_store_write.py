"""``FileStoreWrite``: routes input batches (``RowRouter``) to one writer per (partition, bucket).

Primary-key tables get a ``MergeTreeWriter`` (LSM: write buffer, level-0 flushes, background
universal compaction); append tables an ``AppendOnlyWriter``. All writers share one memory budget
(``write-buffer-size``) and one compaction thread pool. Writers restore their bucket's files from
the latest snapshot, so sequence numbers continue and compaction sees the whole LSM tree.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

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
from paimon_py.io.key_value import VALUE_KIND
from paimon_py.manifest.index_manifest import DELETION_VECTORS_INDEX, IndexFileMeta, IndexManifestFile
from paimon_py.mergetree.append_only_writer import AppendOnlyWriter
from paimon_py.mergetree.compact.compact_manager import MergeTreeCompactManager
from paimon_py.mergetree.compact.universal_compaction import UniversalCompaction
from paimon_py.mergetree.key_value_io import BucketFiles
from paimon_py.mergetree.levels import Levels
from paimon_py.mergetree.merge_function import create_merge_function
from paimon_py.mergetree.merge_tree_writer import MergeTreeWriter
from paimon_py.mergetree.spill import SpillFiles, new_spill_directory
from paimon_py.mergetree.write_buffer import WriteBuffer
from paimon_py.operation.commit_message import CommitMessage
from paimon_py.operation.file_store_scan import FileStoreScan
from paimon_py.operation.input_validation import conform_to_schema, row_kinds
from paimon_py.operation.row_router import RowRouter
from paimon_py.partition import PartitionComputer
from paimon_py.schema.table_schema import TableSchema
from paimon_py.snapshot.snapshot_manager import SnapshotManager

COMPACTION_FILE_SIZE_RATIO = 0.7
"""Files below this share of ``target-file-size`` are merged with their neighbours by compaction."""


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
        self.ignore_previous_files = ignore_previous_files
        self.has_primary_key = bool(schema.primary_keys)
        self.num_buckets = self.options.bucket
        self.total_buckets = self.num_buckets if self.num_buckets > 0 else -1
        self._check_writable()
        self.router = RowRouter(schema)
        self.merge_function = create_merge_function(schema) if self.has_primary_key else None
        self.write_buffer = WriteBuffer(self.options.write_buffer_size)
        self.executor = ThreadPoolExecutor(max_workers=os.cpu_count() or 1,
                                           thread_name_prefix="paimon-compaction")
        self.writers: dict[tuple, MergeTreeWriter | AppendOnlyWriter] = {}
        self._restored: dict[tuple, dict[int, list[DataFileMeta]]] = {}
        self._restored_dv_index: dict[tuple, IndexFileMeta] = {}
        self._taken_over_dvs: dict[tuple, DeletionVectorsMaintainer] = {}
        self._spill_dir: str | None = None
        key_types = schema.types_of(schema.trimmed_primary_keys)
        self.key_of = lru_cache(maxsize=65536)(lambda data: BinaryRow.deserialize(data, key_types))

    def _check_writable(self) -> None:
        if self.has_primary_key and self.num_buckets <= 0:
            raise UnsupportedFeatureError(
                f"paimon_py writes primary-key tables with a fixed bucket count only; this table "
                f"has bucket={self.num_buckets} (dynamic or postpone buckets). Create the table "
                f"with option 'bucket' set to a positive number.")
        if not self.has_primary_key and self.num_buckets == -2:
            raise UnsupportedFeatureError("paimon_py cannot write postpone-bucket (bucket=-2) tables.")
        if self.options.deletion_vectors_enabled:
            self._check_deletion_vectors()

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

    def write(self, data: pa.Table, kinds: pa.Array | None = None) -> None:
        """Write rows; their kinds (0 +I, 1 -U, 2 +U, 3 -D) come from ``kinds`` if given, else
        from the ``rowkind.field`` column, else all +I."""
        data = conform_to_schema(data, self.schema)
        if not data.num_rows:
            return
        kinds = row_kinds(data, self.schema) if kinds is None else kinds.cast(pa.int8())
        if not self.has_primary_key and pc.any(pc.not_equal(kinds, 0)).as_py():
            raise InvalidDataError("Table has no primary key, so it accepts only inserts (+I); the "
                                   "input holds -U/+U/-D rows. Define a primary key to apply changes.")
        data = data.append_column(pa.field(VALUE_KIND, pa.int8(), False), kinds)
        ignored = self._ignored_kinds()
        if ignored:
            data = data.filter(pc.invert(pc.is_in(kinds, pa.array(ignored, pa.int8()))))
        groups = self.router.route(data)
        self._restore({p for p, _, _ in groups if p not in self._restored})
        for partition, bucket, rows in groups:
            self._writer(partition, bucket).write(rows)
        self.write_buffer.ensure_budget()

    def _ignored_kinds(self) -> list[int]:
        """Row kinds dropped on write, as Paimon's writers do for ``ignore-delete`` and
        ``ignore-update-before``."""
        ignored = []
        if self.options.ignore_delete:
            ignored.append(int(RowKind.DELETE))
        if self.options.ignore_update_before or self.options.ignore_delete:
            ignored.append(int(RowKind.UPDATE_BEFORE))
        return ignored

    # ---- commit ------------------------------------------------------------------------------

    def prepare_commit(self, wait_compaction: bool = True) -> list[CommitMessage]:
        """Flush every writer (in parallel) and collect what each has for the next snapshot."""
        writers = list(self.writers.items())

        def prepare(item: tuple[tuple, MergeTreeWriter | AppendOnlyWriter]) -> CommitMessage:
            (partition, bucket), writer = item
            return CommitMessage.of(partition, bucket, self.total_buckets,
                                    writer.prepare_commit(wait_compaction))

        if len(writers) <= 1:
            messages = [prepare(item) for item in writers]
        else:
            with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                messages = list(pool.map(prepare, writers))
        return [m for m in messages if not m.is_empty()]

    def take_over(self, previous: "FileStoreWrite") -> None:
        """Continue where a writer of an older schema of the same table stopped (after its
        ``prepare_commit``): its buckets' files, committed or not, become this writer's starting
        point, so sequence numbers keep increasing and compaction sees every file."""
        for partition, buckets in previous._restored.items():
            self._restored[partition] = {bucket: list(files) for bucket, files in buckets.items()}
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
        if self.options.deletion_vectors_enabled and latest is not None:
            for entry in self.index_manifest_file.read(latest.index_manifest):
                partition = self.scan.partition_of(entry.partition)
                if entry.index_file.index_type == DELETION_VECTORS_INDEX and partition in partitions:
                    self._restored_dv_index[(partition, entry.bucket)] = entry.index_file

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
        spill = SpillFiles(self._spill_directory()) if options.write_buffer_spillable else None
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
        return DeletionVectorsMaintainer(self.dv_index_file, self._restored_dv_index.get(key))

    def _spill_directory(self) -> str:
        if self._spill_dir is None:
            self._spill_dir = new_spill_directory()
        return self._spill_dir
