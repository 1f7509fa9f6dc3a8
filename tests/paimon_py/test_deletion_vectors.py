"""Deletion vectors: the roaring format, index files, writing at compaction, reading (format §10)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pyarrow as pa
import pyroaring
import pytest

from paimon_py import SchemaChange
from paimon_py.deletionvectors import roaring
from paimon_py.deletionvectors.index_file import MAGIC, MAGIC_64, DeletionVectorsIndexFile, deserialize_vector
from paimon_py.exceptions import TableFormatError, UnsupportedFeatureError
from paimon_py.fs.file_io import FileIO
from paimon_py.io.path_factory import FileStorePathFactory
from paimon_py.manifest.index_manifest import DELETION_VECTORS_INDEX
from tests.support import helpers as h

SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("v", pa.string()),
                    pa.field("rk", pa.string())])
DV = {"bucket": "2", "deletion-vectors.enabled": "true", "rowkind.field": "rk"}

BITMAPS = {
    "empty": np.array([], np.uint32),
    "sparse": np.array([0, 5, 65535, 65536, 2**31 - 1], np.uint32),
    "array and bitmap": np.unique(np.random.default_rng(1).integers(0, 300_000, 100_000)).astype(np.uint32),
    "dense ranges": np.concatenate([np.arange(10, 200_000), np.arange(300_000, 300_003)]).astype(np.uint32),
}


# --- roaring ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", BITMAPS)
def test_roaring_round_trip_against_croaring(name):
    values = BITMAPS[name]
    ours = roaring.serialize(values)
    assert list(pyroaring.BitMap.deserialize(ours)) == values.tolist()
    theirs = pyroaring.BitMap(values.tolist())
    theirs.run_optimize()                       # run containers, as Java's runOptimize() writes
    assert np.array_equal(roaring.deserialize(theirs.serialize()), values)
    assert np.array_equal(roaring.deserialize(ours), values)


def test_roaring_bytes_follow_the_spec():
    # cookie 12346, 1 container; key 0, cardinality-1 = 2; offset 16; values 1, 2, 1000
    expected = struct.pack("<IIHHI", 12346, 1, 0, 2, 16) + struct.pack("<HHH", 1, 2, 1000)
    assert roaring.serialize(np.array([1, 2, 1000], np.uint32)) == expected
    # cookie 12347 (one run container, no offsets below 4 containers): run [5, 9]
    runs = struct.pack("<IB", 12347, 1) + struct.pack("<HH", 0, 4) + struct.pack("<HHH", 1, 5, 4)
    assert roaring.deserialize(runs).tolist() == [5, 6, 7, 8, 9]


def test_roaring_refuses_what_is_not_a_bitmap():
    with pytest.raises(TableFormatError, match="cookie"):
        roaring.deserialize(struct.pack("<II", 1, 0))


# --- index files -----------------------------------------------------------------------------

def _index_file(tmp_path) -> DeletionVectorsIndexFile:
    return DeletionVectorsIndexFile(FileIO.for_uri(str(tmp_path))[0], FileStorePathFactory(str(tmp_path)))


def test_index_file_layout_and_round_trip(tmp_path):
    index_file = _index_file(tmp_path)
    vectors = {"data-a.parquet": np.array([1, 7], np.uint32), "data-b.parquet": BITMAPS["dense ranges"]}
    meta = index_file.write(vectors)
    content = (tmp_path / "index" / meta.file_name).read_bytes()
    assert meta.index_type == DELETION_VECTORS_INDEX and meta.row_count == 2
    assert meta.file_size == len(content) and content[0] == 1
    first = meta.dv_ranges[0]
    assert (first.data_file_name, first.offset, first.cardinality) == ("data-a.parquet", 1, 2)
    size, magic = struct.unpack_from(">ii", content, first.offset)
    assert size == first.length and magic == MAGIC
    data = content[first.offset + 4:first.offset + 4 + size]
    assert struct.unpack_from(">I", content, first.offset + 4 + size)[0] == zlib.crc32(data)
    read = index_file.read_all(meta)
    assert {k: v.tolist() for k, v in read.items()} == {k: v.tolist() for k, v in vectors.items()}
    files = index_file.deletion_files([_entry(meta)])
    assert index_file.read(files[(b"", 0, "data-b.parquet")]).tolist() == vectors["data-b.parquet"].tolist()


def _entry(meta):
    from paimon_py.manifest.index_manifest import IndexManifestEntry
    from paimon_py.manifest.manifest_entry import FileKind
    return IndexManifestEntry(FileKind.ADD, b"", 0, meta)


def test_index_file_checksum_is_checked(tmp_path):
    index_file = _index_file(tmp_path)
    meta = index_file.write({"data-a.parquet": np.array([3], np.uint32)})
    path = tmp_path / "index" / meta.file_name
    content = bytearray(path.read_bytes())
    content[-1] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(TableFormatError, match="CRC32"):
        index_file.read_all(meta)


def test_64_bit_vectors_are_refused():
    with pytest.raises(UnsupportedFeatureError, match="bitmap64"):
        deserialize_vector(struct.pack(">i", MAGIC_64) + b"\0" * 8)


# --- tables ----------------------------------------------------------------------------------

def _batches(seed: int, commits: int, keys: int, per_commit: int) -> list[list[dict]]:
    rng = np.random.default_rng(seed)
    batches = []
    for c in range(commits):
        ids = rng.choice(keys, per_commit, replace=False)
        kinds = rng.choice(["+I", "-D", "+U"], per_commit, p=[0.5, 0.2, 0.3])
        batches.append([{"id": int(i), "v": f"c{c}-{i}", "rk": str(k)} for i, k in zip(ids, kinds)])
    return batches


def _write_all(table, batches) -> None:
    for rows in batches:
        h.write_rows(table, SCHEMA, rows)


def test_reads_equal_merge_on_read_of_the_same_data(tmp_path):
    catalog = h.paimon_py_catalog(tmp_path)
    batches = _batches(seed=3, commits=8, keys=3000, per_commit=900)
    with_dv = h.create_table(catalog, "dv", SCHEMA, primary_keys=["id"], options=DV)
    merged = h.create_table(catalog, "mor", SCHEMA, primary_keys=["id"],
                            options={"bucket": "2", "rowkind.field": "rk"})
    _write_all(with_dv, batches)
    _write_all(merged, batches)
    expected = h.rows_sorted(catalog.get_table(f"{h.DB}.mor"), ["id"])
    assert h.rows_sorted(catalog.get_table(f"{h.DB}.dv"), ["id"]) == expected
    pypaimon_table = h.pypaimon_catalog(tmp_path).get_table(f"{h.DB}.dv")
    assert h.rows_sorted(pypaimon_table, ["id"]) == expected


def test_compaction_writes_one_index_file_per_bucket(tmp_path):
    catalog = h.paimon_py_catalog(tmp_path)
    table = h.create_table(catalog, "t", SCHEMA, primary_keys=["id"], options=DV)
    _write_all(table, _batches(seed=5, commits=3, keys=500, per_commit=300))
    table = catalog.get_table(f"{h.DB}.t")
    snapshot = table.snapshot_manager.latest_snapshot()
    entries = table.new_index_manifest_file(table.new_path_factory()).read(snapshot.index_manifest)
    assert sorted(e.bucket for e in entries) == [0, 1]
    splits = table.new_read_builder().new_scan().plan().splits()
    assert all(f.level > 0 for s in splits for f in s.files)
    assert sum(d.cardinality for s in splits for d in s.deletion_files if d) > 0


def test_level0_files_are_invisible_until_compacted(tmp_path):
    catalog = h.paimon_py_catalog(tmp_path)
    table = h.create_table(catalog, "t", SCHEMA, primary_keys=["id"],
                           options={**DV, "write-only": "true"})
    h.write_rows(table, SCHEMA, [{"id": 1, "v": "a", "rk": "+I"}])
    assert h.rows_sorted(catalog.get_table(f"{h.DB}.t"), ["id"]) == []


def test_full_rewrite_drops_the_bucket_index_file(tmp_path):
    catalog = h.paimon_py_catalog(tmp_path)
    table = h.create_table(catalog, "t", SCHEMA, primary_keys=["id"], options={**DV, "bucket": "1"})
    h.write_rows(table, SCHEMA, [{"id": i, "v": "a", "rk": "+I"} for i in range(10)])
    h.write_rows(table, SCHEMA, [{"id": 3, "v": None, "rk": "-D"}])
    table = catalog.get_table(f"{h.DB}.t")
    assert table.snapshot_manager.latest_snapshot().index_manifest is not None
    catalog.alter_table(f"{h.DB}.t", [SchemaChange.set_option("full-compaction.delta-commits", "1")])
    table = catalog.get_table(f"{h.DB}.t")
    h.write_rows(table, SCHEMA, [{"id": 4, "v": "b", "rk": "+U"}])
    snapshot = table.snapshot_manager.latest_snapshot()
    assert table.new_index_manifest_file(table.new_path_factory()).read(snapshot.index_manifest) == []
    rows = h.rows_sorted(table, ["id"])
    assert [r["id"] for r in rows] == [0, 1, 2, 4, 5, 6, 7, 8, 9] and rows[3]["v"] == "b"


@pytest.mark.parametrize("options, match", [
    ({"merge-engine": "partial-update"}, "deduplicate"),
    ({"sequence.field": "v"}, "deduplicate"),
    ({"changelog-producer": "full-compaction"}, "full-compaction"),
])
def test_unsupported_writes_are_refused(tmp_path, options, match):
    catalog = h.paimon_py_catalog(tmp_path)
    table = h.create_table(catalog, "t", SCHEMA, primary_keys=["id"], options={**DV, **options})
    with pytest.raises(UnsupportedFeatureError, match=match):
        h.write_rows(table, SCHEMA, [{"id": 1, "v": "a", "rk": "+I"}])


def test_overwrite_is_refused(tmp_path):
    catalog = h.paimon_py_catalog(tmp_path)
    table = h.create_table(catalog, "t", SCHEMA, primary_keys=["id"], options=DV)
    with pytest.raises(UnsupportedFeatureError, match="overwrite"):
        h.write_batches(table, pa.Table.from_pylist([{"id": 1, "v": "a", "rk": "+I"}], SCHEMA), overwrite={})
