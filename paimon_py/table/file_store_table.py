"""``FileStoreTable``: one Paimon table; builds the readers, writers and committers for it."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Callable

import numpy as np

from paimon_py.config_option import parse_duration_ms
from paimon_py.data.binary_row import BinaryRow
from paimon_py.deletionvectors.index_file import DeletionVectorsIndexFile
from paimon_py.exceptions import SnapshotNotFound
from paimon_py.fs.file_io import FileIO
from paimon_py.index.bucket_assigner import HashBucketAssigner
from paimon_py.index.hash_index_file import HashIndexFile
from paimon_py.io.data_file_reader import DataFileReader
from paimon_py.io.data_file_writer import DataFileWriter
from paimon_py.io.path_factory import FileStorePathFactory
from paimon_py.manifest.avro import avro_codec
from paimon_py.manifest.index_manifest import HASH_INDEX, IndexManifestFile
from paimon_py.manifest.manifest_file import ManifestFile
from paimon_py.manifest.manifest_list import ManifestList
from paimon_py.operation.file_store_commit import FileStoreCommit
from paimon_py.operation.file_store_scan import FileStoreScan
from paimon_py.operation.file_store_write import FileStoreWrite
from paimon_py.operation.rollback import rollback_to
from paimon_py.operation.split_read import SplitRead
from paimon_py.partition import PartitionComputer
from paimon_py.schema.schema_manager import SchemaManager
from paimon_py.schema.table_schema import TableSchema
from paimon_py.snapshot.snapshot_manager import SnapshotManager
from paimon_py.tag.tag_manager import TagManager

if TYPE_CHECKING:
    from paimon_py.operation.expire_snapshots import ExpireSnapshots
    from paimon_py.operation.full_compaction import FullCompaction
    from paimon_py.table.read_builder import ReadBuilder
    from paimon_py.table.stream_read_builder import StreamReadBuilder
    from paimon_py.table.write_builder import BatchWriteBuilder


class FileStoreTable:
    """A table at ``table_path`` as of its latest schema."""

    def __init__(self, file_io: FileIO, table_path: str, identifier: str, schema: TableSchema):
        self.file_io = file_io
        self.table_path = table_path
        self.identifier = identifier
        self.schema = schema
        self.options = schema.core_options
        self.schema_manager = SchemaManager(file_io, table_path)
        self.snapshot_manager = SnapshotManager(file_io, table_path)

    def copy(self, dynamic_options: dict[str, str]) -> "FileStoreTable":
        """The same table with some options changed for this handle only (the schema file is
        not changed), e.g. ``{"write-only": "false"}`` for a dedicated compaction."""
        schema = replace(self.schema, options={**self.schema.options, **dynamic_options})
        return FileStoreTable(self.file_io, self.table_path, self.identifier, schema)

    @property
    def primary_keys(self) -> list[str]:
        return list(self.schema.primary_keys)

    @property
    def partition_keys(self) -> list[str]:
        return list(self.schema.partition_keys)

    def new_path_factory(self) -> FileStorePathFactory:
        return FileStorePathFactory(self.table_path, self.options.data_file_prefix,
                                    self.options.changelog_file_prefix, self.options.file_format,
                                    self.options.changelog_file_format)

    @property
    def partition_computer(self) -> PartitionComputer:
        return self.schema.partition_computer

    def new_scan(self, path_factory: FileStorePathFactory | None = None) -> FileStoreScan:
        path_factory = path_factory or self.new_path_factory()
        codec = avro_codec(self.options.manifest_compression)
        manifest_list = ManifestList(self.file_io, path_factory, codec)
        manifest_file = ManifestFile(self.file_io, path_factory, self.schema.partition_types, codec,
                                     self.options.manifest_target_file_size, self.schema.id)
        return FileStoreScan(manifest_list, manifest_file, self.schema.partition_types,
                             self.snapshot_manager)

    def new_file_store_write(self, ignore_previous_files: bool = False) -> FileStoreWrite:
        path_factory = self.new_path_factory()
        writer = DataFileWriter(self.file_io, path_factory, self.schema)
        reader = DataFileReader(self.file_io, path_factory, self.schema_manager, self.schema)
        return FileStoreWrite(self.schema, writer, reader, self.new_scan(path_factory),
                              self.snapshot_manager, self.partition_computer,
                              self.new_index_manifest_file(path_factory), ignore_previous_files)

    def new_file_store_commit(self, commit_user: str | None = None) -> FileStoreCommit:
        path_factory = self.new_path_factory()
        scan = self.new_scan(path_factory)
        return FileStoreCommit(self.file_io, self.schema, path_factory, self.snapshot_manager,
                               scan.manifest_list, scan.manifest_file, scan,
                               self.new_index_manifest_file(path_factory), commit_user)

    def new_index_manifest_file(self, path_factory: FileStorePathFactory) -> IndexManifestFile:
        return IndexManifestFile(self.file_io, path_factory, avro_codec(self.options.manifest_compression))

    def new_bucket_assigner(self, num_channels: int, num_assigners: int, assign_id: int) -> HashBucketAssigner:
        """Assigner ``assign_id`` of ``num_channels`` of this dynamic-bucket table; it loads a
        partition's index from the latest snapshot when it first sees the partition."""
        path_factory = self.new_path_factory()
        index_manifest_file = self.new_index_manifest_file(path_factory)
        hash_index_file = HashIndexFile(self.file_io, path_factory)
        partition_types = self.schema.partition_types

        def load(partition: tuple) -> list[tuple[int, np.ndarray]]:
            snapshot = self.snapshot_manager.latest_snapshot()
            if snapshot is None:
                return []
            key = BinaryRow.serialize(partition, partition_types)
            return [(e.bucket, hash_index_file.read(e.index_file))
                    for e in index_manifest_file.read(snapshot.index_manifest)
                    if e.partition == key and e.index_file.index_type == HASH_INDEX]
        return HashBucketAssigner.of(self.schema, load, num_channels, num_assigners, assign_id)

    def new_expire_snapshots(self) -> "ExpireSnapshots":
        from paimon_py.operation.expire_snapshots import ExpireSnapshots
        return ExpireSnapshots(self)

    def new_full_compaction(self, partition_filter: Callable[[tuple], bool] | None = None,
                            max_attempts: int = 3) -> "FullCompaction":
        """A one-shot full compaction of the table (or of the partitions ``partition_filter``
        holds for), retried from the latest snapshot after a commit conflict."""
        from paimon_py.operation.full_compaction import FullCompaction
        return FullCompaction(self, partition_filter, max_attempts)

    def new_split_read(self) -> SplitRead:
        path_factory = self.new_path_factory()
        reader = DataFileReader(self.file_io, path_factory, self.schema_manager, self.schema)
        return SplitRead(self.schema, reader, self.partition_computer,
                         DeletionVectorsIndexFile(self.file_io, path_factory))

    def tag_manager(self) -> TagManager:
        return TagManager(self.file_io, self.table_path)

    def create_tag(self, tag_name: str, snapshot_id: int | None = None, ignore_if_exists: bool = False,
                   time_retained: str | None = None) -> None:
        """Tag a snapshot (the latest by default); ``time_retained`` such as ``"1 d"`` expires the tag."""
        snapshot = (self.snapshot_manager.latest_snapshot() if snapshot_id is None
                    else self.snapshot_manager.get_snapshot_by_id(snapshot_id))
        if snapshot is None:
            raise SnapshotNotFound(f"Cannot tag {self.identifier}: snapshot "
                                   f"{'latest' if snapshot_id is None else snapshot_id} does not exist.")
        retained = None if time_retained is None else parse_duration_ms(time_retained)
        self.tag_manager().create_tag(tag_name, snapshot, retained, ignore_if_exists)

    def delete_tag(self, tag_name: str) -> bool:
        return self.tag_manager().delete_tag(tag_name)

    def list_tags(self) -> list[str]:
        return self.tag_manager().list_tags()

    def rollback_to(self, target: int | str) -> None:
        """Make snapshot ``target`` (an id) or tag ``target`` (a name) the latest state again."""
        rollback_to(self.snapshot_manager, self.tag_manager(), target)

    def new_batch_write_builder(self) -> "BatchWriteBuilder":
        from paimon_py.table.write_builder import BatchWriteBuilder
        return BatchWriteBuilder(self)

    def new_stream_read_builder(self) -> "StreamReadBuilder":
        from paimon_py.table.stream_read_builder import StreamReadBuilder
        return StreamReadBuilder(self)

    def new_read_builder(self) -> "ReadBuilder":
        from paimon_py.table.read_builder import ReadBuilder
        return ReadBuilder(self)
