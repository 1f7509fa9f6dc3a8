"""``DataFileReader``: reads a data file into Arrow in the shape of the table's current schema.

Columns are matched across schema versions by field id (format §2): a file written under an
older schema is read with that schema's column names, renamed to the current names and cast to
widened types; columns added later read as NULL.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import pyarrow as pa
import pyarrow.orc as orc
import pyarrow.parquet as pq

from paimon_py.exceptions import TableFormatError
from paimon_py.fs.file_io import FileIO
from paimon_py.io.data_file_meta import DataFileMeta
from paimon_py.io.key_value import SEQUENCE_NUMBER, VALUE_KIND
from paimon_py.io.path_factory import FileStorePathFactory
from paimon_py.io.row_tracking import complete, stored_columns
from paimon_py.schema.schema_manager import SchemaManager
from paimon_py.schema.table_schema import ROW_ID, TableSchema
from paimon_py.types import to_arrow_field

SYSTEM_TYPES = {SEQUENCE_NUMBER: pa.int64(), VALUE_KIND: pa.int8(), ROW_ID: pa.int64()}


class DataFileReader:
    """Reads data files of one table as the given (current) schema."""

    def __init__(self, file_io: FileIO, path_factory: FileStorePathFactory,
                 schema_manager: SchemaManager, schema: TableSchema):
        self.file_io = file_io
        self.path_factory = path_factory
        self.schema_manager = schema_manager
        self.schema = schema
        self._schemas: dict[int, TableSchema] = {schema.id: schema}

    def file_path(self, partition_path: str, bucket: int, meta: DataFileMeta) -> str:
        if meta.external_path:
            return meta.external_path
        return f"{self.path_factory.bucket_path(partition_path, bucket)}/{meta.file_name}"

    def read(self, partition_path: str, bucket: int, meta: DataFileMeta,
             columns: Sequence[str], system_columns: Sequence[str] = ()) -> pa.Table:
        """Read ``columns`` (current names) plus physical ``system_columns`` of one file."""
        mapping = self._mapping(meta, columns)
        path = self.file_path(partition_path, bucket, meta)
        extension = _extension(path)
        with self.file_io.open_input(path) as source:
            if extension == "orc":
                raw = orc.ORCFile(source).read(columns=list(system_columns) + mapping.physical)
            else:
                raw = pq.read_table(source, columns=list(system_columns) + mapping.physical)
        return mapping.conform(raw, system_columns)

    def read_batches(self, partition_path: str, bucket: int, meta: DataFileMeta,
                     columns: Sequence[str], system_columns: Sequence[str] = (),
                     batch_rows: int = 65536) -> Iterator[pa.Table]:
        """Like :meth:`read`, in batches of at most ``batch_rows`` rows (bounded memory)."""
        mapping = self._mapping(meta, columns)
        path = self.file_path(partition_path, bucket, meta)
        physical = list(system_columns) + mapping.physical
        with self.file_io.open_input(path) as source:
            if _extension(path) == "orc":
                reader = orc.ORCFile(source)
                batches = (reader.read_stripe(i, columns=physical) for i in range(reader.nstripes))
            else:
                batches = pq.ParquetFile(source).iter_batches(batch_size=batch_rows, columns=physical)
            for batch in batches:
                yield mapping.conform(pa.Table.from_batches([batch]), system_columns)

    def read_tracked(self, partition_path: str, bucket: int, meta: DataFileMeta,
                     columns: Sequence[str]) -> pa.Table:
        """``columns`` of a row-tracking table's file, then ``_ROW_ID`` and ``_SEQUENCE_NUMBER``."""
        return complete(self.read(partition_path, bucket, meta, columns, stored_columns(meta)), meta, 0)

    def read_tracked_batches(self, partition_path: str, bucket: int, meta: DataFileMeta,
                             columns: Sequence[str]) -> Iterator[pa.Table]:
        """Like :meth:`read_tracked`, in batches."""
        position = 0
        for batch in self.read_batches(partition_path, bucket, meta, columns, stored_columns(meta)):
            yield complete(batch, meta, position)
            position += batch.num_rows

    def _mapping(self, meta: DataFileMeta, columns: Sequence[str]) -> "_ColumnMapping":
        file_schema = self._file_schema(meta.schema_id)
        return _ColumnMapping({f.id: f.name for f in file_schema.fields},
                              [self.schema.field(c) for c in columns])

    def _file_schema(self, schema_id: int) -> TableSchema:
        if schema_id not in self._schemas:
            self._schemas[schema_id] = self.schema_manager.schema(schema_id)
        return self._schemas[schema_id]


class _ColumnMapping:
    """How the current schema's columns are found in a file written under an older schema."""

    def __init__(self, file_names_by_id: dict[int, str], fields: list):
        self.physical = [file_names_by_id[f.id] for f in fields if f.id in file_names_by_id]
        self.sources = [(file_names_by_id.get(f.id), to_arrow_field(f).with_nullable(True)) for f in fields]
        """Per output column: its name in the file (None: not in the file) and its Arrow field."""

    def conform(self, raw: pa.Table, system_columns: Sequence[str]) -> pa.Table:
        arrays = [_as_type(raw.column(c), SYSTEM_TYPES[c]) for c in system_columns]
        out_fields = [pa.field(c, SYSTEM_TYPES[c], nullable=False) for c in system_columns]
        for source, arrow_field in self.sources:
            if source is None:
                arrays.append(pa.nulls(raw.num_rows, arrow_field.type))
            else:
                arrays.append(_as_type(raw.column(source), arrow_field.type))
            out_fields.append(arrow_field)
        if not arrays:  # no column read (a projection of row-tracking columns): keep the row count
            return raw.select([])
        return pa.Table.from_arrays(arrays, schema=pa.schema(out_fields))


def _as_type(column: pa.ChunkedArray, arrow_type: pa.DataType) -> pa.ChunkedArray:
    return column if column.type == arrow_type else column.cast(arrow_type)


def _extension(path: str) -> str:
    extension = path.rsplit(".", 1)[-1].lower()
    if extension not in ("orc", "parquet"):
        raise TableFormatError(f"Cannot read data file {path}: unsupported file extension '{extension}' "
                               f"(paimon_py reads .parquet and .orc).")
    return extension
