"""``DataFileWriter`` and ``RollingFileWriter``: Arrow batches into Paimon data files, described exactly.

A rolling writer streams batches into one file until it reaches ``target-file-size`` bytes, then
starts the next, gathering each file's metadata (row count, key range, statistics, sequence range,
retraction count) as it goes, so memory stays bounded by the batch size. Parquet is written the
way Paimon's readers expect (§6.4): no dictionary encoding for DECIMAL columns (Java cannot read
dictionary-encoded FLBA decimals), timestamps in their precision's unit, LTZ adjusted to UTC.
Dictionary encoding is chosen per column and file from the file's first rows: only where at most
half of them are distinct. Arrow's writer, unlike parquet-mr, keeps a dictionary until its page
limit however little it saves; on near-unique columns (keys, sequence numbers, measurements) that
made writing ~3x slower and the files larger.
"""

from __future__ import annotations

import datetime
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.orc as orc
import pyarrow.parquet as pq

from paimon_py.data.binary_row import BinaryRow
from paimon_py.fs.file_io import FileIO
from paimon_py.io.data_file_meta import FILE_SOURCE_APPEND, DataFileMeta
from paimon_py.io.key_value import KEY_PREFIX, SEQUENCE_NUMBER, VALUE_KIND
from paimon_py.io.path_factory import FileStorePathFactory
from paimon_py.io.row_tracking import RowIdRun
from paimon_py.schema.table_schema import ROW_ID, TableSchema
from paimon_py.stats.stats_collector import StatsCollector

_COMPRESSION = {"none": None, "uncompressed": None}
_EPOCH = datetime.datetime(1970, 1, 1)
RETRACT_KINDS = pa.array([1, 3], pa.int8())
ROW_GROUP_BYTES = 8 << 20
"""Largest uncompressed row group written; bounds what compaction holds per sorted run."""
DICTIONARY_SAMPLE_ROWS = 1 << 14
"""First rows of a file whose distinct values decide which columns are dictionary-encoded."""
DICTIONARY_MAX_DISTINCT = 0.5
"""Largest share of distinct values in the sample for which a column is dictionary-encoded."""


class DataFileWriter:
    """Creates rolling writers for the data files of one table schema."""

    def __init__(self, file_io: FileIO, path_factory: FileStorePathFactory, schema: TableSchema):
        self.file_io = file_io
        self.path_factory = path_factory
        self.schema = schema
        options = schema.core_options
        self.compression = _COMPRESSION.get(options.file_compression, options.file_compression)
        self.zstd_level = options.zstd_level
        self.target_file_size = options.target_file_size(bool(schema.primary_keys))
        self.key_names = schema.trimmed_primary_keys
        self.key_types = schema.types_of(self.key_names)
        self.value_names = schema.field_names
        self.value_types = [f.type for f in schema.fields]
        self.row_tracking = options.row_tracking_enabled

    def key_value_writer(self, partition_path: str, bucket: int, level: int = 0,
                         file_source: int = FILE_SOURCE_APPEND, changelog: bool = False) -> "RollingFileWriter":
        """Writer of key-value rows sorted by key (unique keys, unless ``changelog``)."""
        return RollingFileWriter(self, partition_path, bucket, key_value=True, level=level,
                                 file_source=file_source, changelog=changelog)

    def append_writer(self, partition_path: str, bucket: int, first_sequence: int,
                      file_source: int = FILE_SOURCE_APPEND) -> "RollingFileWriter":
        """Writer of append-table rows; sequence numbers count rows from ``first_sequence``. New
        files of a row-tracking table are each numbered from 0 instead: the commit gives them its
        snapshot id (Paimon's ``RowTrackingCommitUtils``). Rows with ``_ROW_ID`` and
        ``_SEQUENCE_NUMBER`` columns (compaction of a row-tracking table) keep them."""
        restart = self.row_tracking and file_source == FILE_SOURCE_APPEND
        return RollingFileWriter(self, partition_path, bucket, key_value=False, file_source=file_source,
                                 first_sequence=0 if restart else first_sequence, restart_sequence=restart)

    def write_key_value(self, kv: pa.Table, partition_path: str, bucket: int, level: int = 0,
                        file_source: int = FILE_SOURCE_APPEND, changelog: bool = False) -> list[DataFileMeta]:
        writer = self.key_value_writer(partition_path, bucket, level, file_source, changelog)
        writer.write(kv)
        return writer.close()

    def write_append(self, data: pa.Table, partition_path: str, bucket: int,
                     first_sequence: int) -> list[DataFileMeta]:
        writer = self.append_writer(partition_path, bucket, first_sequence)
        writer.write(data)
        return writer.close()

    def open_format_writer(self, out, first: pa.Table, file_format: str, unique_keys: bool = False):
        """A writer of ``first``'s schema; ``first`` (the file's first rows) picks Parquet's
        dictionary columns. ``unique_keys``: a key-value file with one record per key (not a
        changelog), whose system columns' answers are known without sampling."""
        if file_format == "orc":
            return orc.ORCWriter(out, compression=self.compression or "uncompressed")
        known = self.unique_key_encodings() if unique_keys else {}
        return pq.ParquetWriter(out, first.schema, compression=self.compression,
                                compression_level=self.zstd_level if self.compression == "zstd" else None,
                                use_dictionary=dictionary_columns(first, known))

    def unique_key_encodings(self) -> dict[str, bool]:
        """Dictionary or not, for columns of a file with one record per key: sequence numbers and a
        single key column (and its value column) never repeat; row kinds do."""
        known = {SEQUENCE_NUMBER: False, VALUE_KIND: True}
        if len(self.key_names) == 1:
            known.update({KEY_PREFIX + self.key_names[0]: False, self.key_names[0]: False})
        return known


def dictionary_columns(first: pa.Table, known: Mapping[str, bool] = MappingProxyType({})) -> list[str]:
    """The top-level columns worth a dictionary, judged on ``first``'s leading rows: never DECIMAL
    or nested ones (their leaves go by other paths), others when at most
    ``DICTIONARY_MAX_DISTINCT`` of the sampled values differ; the answers in ``known`` as they are."""
    sample = first.slice(0, DICTIONARY_SAMPLE_ROWS)
    limit = DICTIONARY_MAX_DISTINCT * sample.num_rows
    return [field.name for field, column in zip(sample.schema, sample.columns)
            if not (pa.types.is_decimal(field.type) or pa.types.is_nested(field.type))
            and (known[field.name] if field.name in known else _distinct_count(column) <= limit)]


def _distinct_count(column: pa.ChunkedArray) -> int:
    """Distinct non-null values; numbers and times by sorting (Arrow's hash count is ~20x slower
    on near-unique numbers)."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_temporal(kind):
        values = column.drop_null().combine_chunks()
        return len(np.unique(values.to_numpy(zero_copy_only=False)))
    return pc.count_distinct(column, mode="only_valid").as_py()


class RollingFileWriter:
    """Streams batches into files of about ``target-file-size``; ``close()`` returns their metadata."""

    def __init__(self, owner: DataFileWriter, partition_path: str, bucket: int, key_value: bool,
                 level: int = 0, file_source: int = FILE_SOURCE_APPEND, changelog: bool = False,
                 first_sequence: int = 0, restart_sequence: bool = False):
        self.owner = owner
        self.directory = owner.path_factory.bucket_path(partition_path, bucket)
        self.key_value = key_value
        self.level = level
        self.file_source = file_source
        self.changelog = changelog
        self.next_sequence = first_sequence
        self.restart_sequence = restart_sequence
        self.files: list[DataFileMeta] = []
        self._file: _OpenFile | None = None
        self._pending: list[pa.Table] = []
        self._pending_bytes = 0

    def write(self, table: pa.Table) -> None:
        """Write rows. Small tables wait in memory until a row group's worth has come (callers that
        write in small chunks, as compaction does, still get large row groups); large tables go in
        slices (row groups) of a quarter of the target size or ``ROW_GROUP_BYTES`` (uncompressed),
        whichever is smaller, so files roll close to the target once compressed and readers can
        stream them in small pieces."""
        if table.num_rows == 0:
            return
        self._pending.append(table)
        self._pending_bytes += table.nbytes
        if self._pending_bytes >= self._row_group_bytes():
            self._write_pending()

    def pending_bytes(self) -> int:
        """Bytes of rows waiting for a row group's worth."""
        return self._pending_bytes

    def _row_group_bytes(self) -> float:
        return min(self.owner.target_file_size / 4, ROW_GROUP_BYTES)

    def _write_pending(self) -> None:
        if not self._pending:
            return
        table = self._pending[0] if len(self._pending) == 1 else pa.concat_tables(self._pending)
        self._pending, self._pending_bytes = [], 0
        bytes_per_row = max(1.0, table.nbytes / table.num_rows)
        step = max(1, int(self._row_group_bytes() / bytes_per_row))
        for start in range(0, table.num_rows, step):
            piece = table.slice(start, step)
            if self._file is None:
                self._file = self._open(piece)
            self._file.write(piece)
            if self._file.bytes_written() >= self.owner.target_file_size:
                self._roll()

    def close(self) -> list[DataFileMeta]:
        self._write_pending()
        self._roll()
        return self.files

    def abort(self) -> None:
        """Close and delete everything written (nothing of it was committed)."""
        self._pending, self._pending_bytes = [], 0
        self._roll()
        for meta in self.files:
            self.owner.file_io.delete(f"{self.directory}/{meta.file_name}")
        self.files = []

    def _open(self, first: pa.Table) -> "_OpenFile":
        factory = self.owner.path_factory
        name = factory.new_changelog_file() if self.changelog else factory.new_data_file()
        file_format = factory.changelog_file_format if self.changelog else factory.file_format
        self.owner.file_io.mkdirs(self.directory)
        return _OpenFile(self.owner, f"{self.directory}/{name}", name, file_format, first, self.key_value,
                         unique_keys=self.key_value and not self.changelog)

    def _roll(self) -> None:
        if self._file is None:
            return
        file, self._file = self._file, None
        size = file.finish()
        if self.key_value:
            self.files.append(file.key_value_meta(size, self.level, self.file_source))
        else:
            self.files.append(file.append_meta(size, self.next_sequence, self.file_source))
            if not self.restart_sequence:
                self.next_sequence += file.rows


class _OpenFile:
    """One data file being written, with its metadata gathered batch by batch."""

    def __init__(self, owner: DataFileWriter, path: str, name: str, file_format: str, first: pa.Table,
                 key_value: bool, unique_keys: bool = False):
        """``first``: the rows to be written first (they choose the format writer's settings);
        ``unique_keys``: one record per key (see ``DataFileWriter.open_format_writer``)."""
        schema = first.schema
        self.owner = owner
        self.path = path
        self.name = name
        self.file_format = file_format
        self.out = owner.file_io.open_output(path)
        self.writer = owner.open_format_writer(self.out, first, file_format, unique_keys)
        self.writer_schema = schema
        self.rows = 0
        self.value_stats = StatsCollector(owner.value_names, owner.value_types, truncate=True)
        self.key_stats = StatsCollector(owner.key_names, owner.key_types, truncate=False) if key_value else None
        self.first_key = self.last_key = None
        self.min_sequence = self.max_sequence = None
        self.deletes = 0
        self.row_ids = RowIdRun() if ROW_ID in schema.names else None

    def write(self, table: pa.Table) -> None:
        if self.file_format == "orc":
            self.writer.write(table)
        else:
            self.writer.write_table(table)
        self.rows += table.num_rows
        self.value_stats.update(table)
        if SEQUENCE_NUMBER in table.column_names:
            self._update_sequence(table.column(SEQUENCE_NUMBER))
        if self.row_ids is not None:
            self.row_ids.update(table.column(ROW_ID))
        if self.key_stats is None:
            return
        self.key_stats.update(table)
        names = self.owner.key_names
        if self.first_key is None:
            self.first_key = [table.column(k)[0].as_py() for k in names]
        self.last_key = [table.column(k)[-1].as_py() for k in names]
        self.deletes += pc.sum(pc.is_in(table.column(VALUE_KIND), RETRACT_KINDS)).as_py() or 0

    def _update_sequence(self, column: pa.ChunkedArray) -> None:
        sequence = pc.min_max(column)
        low, high = sequence["min"].as_py(), sequence["max"].as_py()
        self.min_sequence = low if self.min_sequence is None else min(self.min_sequence, low)
        self.max_sequence = high if self.max_sequence is None else max(self.max_sequence, high)

    def bytes_written(self) -> int:
        return self.out.tell()

    def finish(self) -> int:
        self.writer.close()
        self.out.close()
        return self.owner.file_io.file_size(self.path)

    def key_value_meta(self, size: int, level: int, file_source: int) -> DataFileMeta:
        key_types = self.owner.key_types
        return DataFileMeta(
            file_name=self.name, file_size=size, row_count=self.rows,
            min_key=BinaryRow.serialize(self.first_key, key_types),
            max_key=BinaryRow.serialize(self.last_key, key_types),
            key_stats=self.key_stats.result(), value_stats=self.value_stats.result(),
            min_sequence_number=self.min_sequence, max_sequence_number=self.max_sequence,
            schema_id=self.owner.schema.id, level=level, creation_time_millis=_local_millis(),
            delete_row_count=self.deletes, file_source=file_source)

    def append_meta(self, size: int, first_sequence: int, file_source: int) -> DataFileMeta:
        """An append file's metadata; one holding row-tracking columns lists them in
        ``_WRITE_COLS`` and takes its sequence range from them (Paimon's compaction output)."""
        tracked = self.row_ids is not None
        return DataFileMeta(
            file_name=self.name, file_size=size, row_count=self.rows,
            value_stats=self.value_stats.result(),
            min_sequence_number=self.min_sequence if tracked else first_sequence,
            max_sequence_number=self.max_sequence if tracked else first_sequence + self.rows - 1,
            schema_id=self.owner.schema.id, creation_time_millis=_local_millis(), file_source=file_source,
            first_row_id=self.row_ids.first_row_id() if tracked else None,
            write_cols=tuple(self.writer_schema.names) if tracked else None)


def _local_millis() -> int:
    """Java's ``LocalDateTime.now()`` stored as if UTC (format §4.3 ``_CREATION_TIME``)."""
    return (datetime.datetime.now() - _EPOCH) // datetime.timedelta(milliseconds=1)
