"""The published source positions: where they live (the catalog's filesystem, one derivation for
the reader and the committer) and how they are replaced. End to end on S3: test_postgres_s3.py."""

import os

import fsspec
import pyarrow.fs as pafs
import pytest

import paimon_py
from operators.cdc.catalog import InvalidCatalogOption, catalog_options, open_catalog
from operators.postgres import job_args
from operators.cdc.source_position import PositionStore, SourcePosition
from paimon_py.fs.file_io import FileIO

SOURCE = "postgres/127.0.0.1:5432/shop/lake"


def position(seq: int) -> SourcePosition:
    return SourcePosition(SOURCE, seq, {"lsn": 1000 + seq, "tables": {}})


def test_reader_and_committer_derive_the_same_store_from_a_relative_warehouse(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    committer = PositionStore.of(open_catalog(catalog_options("lake")))
    assert committer.load(SOURCE) is None
    committer.publish(position(1))
    committer.publish(position(2))
    reader = PositionStore.of(open_catalog({"warehouse": str(tmp_path / "lake")}))
    assert reader.path(SOURCE) == committer.path(SOURCE)
    assert reader.load(SOURCE) == position(2)
    assert os.listdir(tmp_path / "lake" / ".cdc-positions") == ["postgres_127.0.0.1_5432_shop_lake.json"]
    assert open_catalog({"warehouse": "lake"}).list_databases() == []


def test_store_on_a_non_local_filesystem_writes_nothing_locally(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    memory = fsspec.filesystem("memory")
    memory.store.clear()
    catalog = paimon_py.CatalogFactory.create(
        {"warehouse": "/lake"}, filesystem=pafs.PyFileSystem(pafs.FSSpecHandler(memory)))
    store = PositionStore.of(catalog)
    store.publish(position(7))
    assert store.load(SOURCE) == position(7)
    assert memory.exists("/lake/.cdc-positions/postgres_127.0.0.1_5432_shop_lake.json")
    assert os.listdir(tmp_path) == []


def test_catalog_conf_takes_the_s3_options_and_refuses_others():
    options = catalog_options("s3://bucket/lake", {"s3.endpoint": "http://127.0.0.1:9000",
                                                   "s3.access-key": "k", "s3.secret-key": "s"})
    assert options["warehouse"] == "s3://bucket/lake"
    file_io, path = FileIO.for_uri(options["warehouse"], options)
    assert isinstance(file_io.filesystem, pafs.S3FileSystem) and not file_io.is_local
    assert path == "bucket/lake"
    with pytest.raises(InvalidCatalogOption, match="s3.acces-key"):
        catalog_options("s3://bucket/lake", {"s3.acces-key": "k"})
    with pytest.raises(InvalidCatalogOption, match="give it once"):
        catalog_options("/a", {"warehouse": "/b"})
    with pytest.raises(ValueError, match="s3.path.style.access"):
        FileIO.for_uri("s3://bucket/lake", {"s3.path.style.access": "maybe"})


def test_sync_job_passes_catalog_conf_to_its_operators():
    job = job_args.from_args(
        ["--warehouse", "s3://bucket/lake", "--database", "lake",
         "--catalog_conf", "s3.endpoint=http://127.0.0.1:9000", "--catalog_conf", "s3.region=us-east-1",
         *[x for kv in ("hostname=127.0.0.1", "port=5432", "username=u", "password=p",
                        "database-name=shop", "slot.name=lake") for x in ("--postgres_conf", kv)]],
        database_sync=True)
    assert job.catalog_options == {"warehouse": "s3://bucket/lake", "s3.endpoint": "http://127.0.0.1:9000",
                                   "s3.region": "us-east-1"}
