"""Parquet encodings of the data files: a dictionary only where the file's first rows repeat;
rows written in small pieces still make large row groups."""

from __future__ import annotations

import decimal
import glob
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from paimon_py.io.data_file_writer import DICTIONARY_SAMPLE_ROWS, DataFileWriter, dictionary_columns
from tests.support import helpers as h

SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("status", pa.string()),
                    pa.field("amount", pa.float64()), pa.field("price", pa.decimal128(10, 2)),
                    pa.field("tags", pa.list_(pa.string())), pa.field("flag", pa.int32())])


def rows(n: int) -> pa.Table:
    rng = np.random.default_rng(5)
    return pa.table({"id": np.arange(n), "status": pa.array(["new", "paid", "sent"] * (n // 3)),
                     "amount": rng.random(n), "price": pa.array([decimal.Decimal("1.50")] * n, SCHEMA.field("price").type),
                     "tags": pa.array([["a"]] * n), "flag": pa.array(np.arange(n) % 2, pa.int32())}, schema=SCHEMA)


def encodings(path: str) -> dict[str, set[str]]:
    meta = pq.ParquetFile(path).metadata.row_group(0)
    return {meta.column(i).path_in_schema.split(".")[0]: set(meta.column(i).encodings) for i in range(meta.num_columns)}


def test_near_unique_columns_are_written_plain_and_repeating_ones_with_a_dictionary(tmp_path):
    table = h.create_table(h.paimon_py_catalog(tmp_path), "t", SCHEMA, primary_keys=["id"], options={"bucket": "1"})
    h.write_batches(table, rows(30_000))
    [path] = glob.glob(os.path.join(h.table_dir(tmp_path, "t"), "bucket-0", "*.parquet"))
    found = encodings(path)
    dictionary = {name for name, kinds in found.items() if "RLE_DICTIONARY" in kinds or "PLAIN_DICTIONARY" in kinds}
    assert dictionary == {"_VALUE_KIND", "status", "flag"}
    assert h.read_sorted(table, ["id"]).equals(rows(30_000))


def test_the_sample_is_the_files_first_rows_and_counts_values_not_nulls():
    n = 2 * DICTIONARY_SAMPLE_ROWS
    first = pa.table({"mostly_null": pa.array([None] * (n - 2) + [1, 2], pa.int64()),
                      "unique_then_repeating": np.concatenate([np.arange(DICTIONARY_SAMPLE_ROWS),
                                                               np.zeros(DICTIONARY_SAMPLE_ROWS, np.int64)]),
                      "when": pa.array(np.arange(n) // 4, pa.timestamp("us")),
                      "text": pa.array([str(i) for i in range(n)])})
    assert dictionary_columns(first) == ["mostly_null", "when"]


def test_known_answers_are_taken_without_sampling(tmp_path):
    """A key-value file with one record per key: sequence numbers and a single key never get a
    dictionary, row kinds always do; a composite key's columns are sampled."""
    first = pa.table({"_SEQUENCE_NUMBER": pa.array([1] * 100, pa.int64()), "_VALUE_KIND": pa.array(range(100), pa.int8()),
                      "k": pa.array([7] * 100, pa.int64())})
    assert dictionary_columns(first) == ["_SEQUENCE_NUMBER", "k"]
    assert dictionary_columns(first, {"_SEQUENCE_NUMBER": False, "_VALUE_KIND": True}) == ["_VALUE_KIND", "k"]
    catalog = h.paimon_py_catalog(tmp_path)
    single = h.create_table(catalog, "single", SCHEMA, primary_keys=["id"], options={"bucket": "1"})
    pair = h.create_table(catalog, "pair", SCHEMA, primary_keys=["id", "flag"], options={"bucket": "1"})
    writer = lambda table: DataFileWriter(table.file_io, table.new_path_factory(), table.schema)  # noqa: E731
    assert writer(single).unique_key_encodings() == {"_SEQUENCE_NUMBER": False, "_VALUE_KIND": True,
                                                     "_KEY_id": False, "id": False}
    assert writer(pair).unique_key_encodings() == {"_SEQUENCE_NUMBER": False, "_VALUE_KIND": True}


def append_writer(tmp_path) -> DataFileWriter:
    schema = pa.schema([pa.field("id", pa.int64()), pa.field("name", pa.string())])
    table = h.create_table(h.paimon_py_catalog(tmp_path), "t", schema, options={"bucket": "-1"})
    return DataFileWriter(table.file_io, table.new_path_factory(), table.schema)


def pieces(count: int, rows: int) -> list[pa.Table]:
    return [pa.table({"id": pa.array(range(i * rows, (i + 1) * rows), pa.int64()),
                      "name": pa.array([f"n{j}" for j in range(rows)])}) for i in range(count)]


def test_small_writes_are_gathered_into_one_row_group(tmp_path):
    """Compaction writes a merged chunk at a time; 300 pieces of 100 rows make one row group, not 300."""
    writer = append_writer(tmp_path).append_writer("", 0, first_sequence=0)
    for piece in pieces(300, 100):
        writer.write(piece)
    [meta] = writer.close()
    path = os.path.join(h.table_dir(tmp_path, "t"), "bucket-0", meta.file_name)
    parquet = pq.ParquetFile(path)
    assert parquet.metadata.num_row_groups == 1 and meta.row_count == 30_000
    assert parquet.read().column("id").to_pylist() == list(range(30_000))


def test_abort_drops_rows_still_waiting(tmp_path):
    writer = append_writer(tmp_path).append_writer("", 0, first_sequence=0)
    writer.write(pieces(1, 10)[0])
    writer.abort()
    assert writer.close() == []
    assert not glob.glob(os.path.join(h.table_dir(tmp_path, "t"), "bucket-0", "*.parquet"))
