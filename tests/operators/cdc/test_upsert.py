"""Which lake tables take updates without their ``-U`` rows (``operators/cdc/upsert.py``): the
rule per keys and options, and ``UpsertTables`` deciding by the existing lake table first."""

from __future__ import annotations

import pyarrow as pa
import pytest

from operators.cdc.catalog import open_catalog
from operators.cdc.table_spec import TableSpec
from operators.cdc.upsert import UpsertTables, writes_upserts
from paimon_py.schema.schema import Schema


@pytest.mark.parametrize("keys, options, upsert", [
    (("id",), {}, True),
    (("id",), {"changelog-producer": "lookup"}, True),
    (("id",), {"changelog-producer": "full-compaction", "deletion-vectors.enabled": "true"}, True),
    (("id",), {"merge-engine": "deduplicate", "ignore-delete": "true"}, True),
    ((), {}, False),  # an append table has no key to supersede anything
    (("id",), {"changelog-producer": "input"}, False),  # the changelog stores the old image
    (("id",), {"merge-engine": "partial-update"}, False),
    (("id",), {"merge-engine": "aggregation"}, False),  # retracts with the old image
    (("id",), {"merge-engine": "first-row"}, False),
    (("id",), {"sequence.field": "v"}, False),  # an old image with a larger sequence value wins
    (("id",), {"rowkind.field": "k"}, False),
])
def test_the_rule(keys, options, upsert):
    assert writes_upserts(keys, options) is upsert


def test_an_existing_table_decides_by_its_own_options(tmp_path):
    options = {"warehouse": str(tmp_path)}
    catalog = open_catalog(options)
    catalog.create_database("lake")
    catalog.create_table("lake.kept", Schema.from_pyarrow_schema(
        pa.schema([pa.field("id", pa.int64(), False), pa.field("v", pa.string())]), primary_keys=["id"],
        options={"changelog-producer": "input"}))
    spec = TableSpec(("id",), (), {"bucket": "-1"})  # what a new table would be created with
    upserts = UpsertTables(options)
    assert upserts("lake.kept", spec) is False
    assert upserts("lake.new", spec) is True
    assert UpsertTables(None)("lake.new", spec) is False  # no lake known: every -U row kept
