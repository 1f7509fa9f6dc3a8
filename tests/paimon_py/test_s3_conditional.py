"""Creating snapshot and schema files on S3 only if absent, atomically (``fs/s3_conditional.py``),
against a private S3-compatible server (moto): the second create of a key fails even when it
passed the existence check (the race two committers run), racing creates have one winner, and
committers racing on an S3 table all land (read back by paimon_py and pypaimon)."""

from __future__ import annotations

import threading

import pyarrow as pa
import pyarrow.fs as pafs
import pytest

import paimon_py
import pypaimon
from paimon_py import Schema
from paimon_py.fs.file_io import FileIO
from tests.support.helpers import run_in_threads
from tests.support.s3_server import moto_server

pytestmark = pytest.mark.slow

BUCKET = "conditional-bucket"
PA_SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("v", pa.string())])


@pytest.fixture
def s3_options(tmp_path):
    with moto_server(str(tmp_path / "moto.log")) as endpoint:
        options = {"s3.endpoint": endpoint, "s3.access-key": "user", "s3.secret-key": "secret",
                   "s3.region": "us-east-1"}
        pafs.S3FileSystem(endpoint_override=endpoint, access_key="user", secret_key="secret",
                          region="us-east-1", allow_bucket_creation=True).create_dir(BUCKET)
        yield options


def file_io(options) -> tuple[FileIO, str]:
    return FileIO.for_uri(f"s3://{BUCKET}/warehouse", options)


def test_a_create_that_passed_the_existence_check_still_fails_on_an_existing_object(s3_options, monkeypatch):
    io, root = file_io(s3_options)
    assert io.try_create(f"{root}/snapshot-1", b"first")
    assert not io.try_create(f"{root}/snapshot-1", b"second")
    monkeypatch.setattr(io, "exists", lambda path: False)  # another committer created it just after the check
    assert not io.try_create(f"{root}/snapshot-1", b"third")
    assert io.read_bytes(f"{root}/snapshot-1") == b"first"


def test_racing_creates_have_one_winner(s3_options):
    for key in range(4):
        won, barrier = [], threading.Barrier(6)

        def create(i: int) -> None:
            io, root = file_io(s3_options)  # a committer of its own
            io.exists = lambda path: False  # all of them past the check at once
            barrier.wait()
            if io.try_create(f"{root}/schema-{key}", f"writer {i}".encode()):
                won.append(i)

        assert run_in_threads(create, 6) == []
        io, root = file_io(s3_options)
        assert len(won) == 1 and io.read_bytes(f"{root}/schema-{key}") == f"writer {won[0]}".encode()


def test_committers_racing_on_an_s3_table_all_land(s3_options):
    options = {"warehouse": f"s3://{BUCKET}/warehouse", **s3_options}
    catalog = paimon_py.CatalogFactory.create(options)
    catalog.create_database("db")
    catalog.create_table("db.t", Schema.from_pyarrow_schema(  # write-only: no compaction to conflict
        PA_SCHEMA, primary_keys=["id"], options={"bucket": "2", "write-only": "true"}))

    def committer(i: int) -> None:
        table = paimon_py.CatalogFactory.create(options).get_table("db.t")
        for round_ in range(3):
            write = table.new_file_store_write()
            ids = [i * 100 + round_ * 10, i * 100 + round_ * 10 + 1]
            write.write(pa.table({"id": ids, "v": [f"w{i}"] * 2}, schema=PA_SCHEMA))
            table.new_file_store_commit(f"w{i}").commit(write.prepare_commit())

    assert run_in_threads(committer, 4) == []
    table = catalog.get_table("db.t")
    assert table.snapshot_manager.list_ids() == list(range(1, 13))
    expected = sorted(i * 100 + r * 10 + k for i in range(4) for r in range(3) for k in (0, 1))
    for library in (paimon_py, pypaimon):  # pypaimon: Paimon's own reader finds the table whole
        read = library.CatalogFactory.create(options).get_table("db.t").new_read_builder()
        assert sorted(read.new_read().to_arrow(read.new_scan().plan().splits()).column("id").to_pylist()) == expected
