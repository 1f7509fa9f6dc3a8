"""New lake tables' options: primary-key tables in dynamic bucket mode unless told otherwise, as
Paimon's CDC actions create them."""

import pytest

from operators.cdc.errors import InvalidJobOption
from operators.cdc.targets import database_targets, table_targets


def test_new_primary_key_tables_are_dynamic_bucket_tables():
    spec = database_targets("lake", "", "", {}).spec_of("public", "orders", ("id",))
    assert spec.options["bucket"] == "-1"


def test_table_conf_bucket_gives_fixed_buckets():
    spec = database_targets("lake", "", "", {"bucket": "8"}).spec_of("public", "orders", ("id",))
    assert spec.options["bucket"] == "8"


def test_dynamic_bucket_options_stay_off_append_tables():
    options = {"dynamic-bucket.target-row-num": "10", "dynamic-bucket.assigner-parallelism": "2"}
    spec = database_targets("lake", "", "", options).spec_of("public", "log", ())
    assert spec.options == {"bucket": "-1"}


def test_partition_keys_outside_the_primary_key_need_fixed_buckets():
    targets = table_targets("lake", "t", ["id"], ["day"], {})
    with pytest.raises(InvalidJobOption, match=r"partition key\(s\) \['day'\] are not in the primary key"):
        targets.spec_of("public", "t", ())
    assert table_targets("lake", "t", ["id"], ["day"], {"bucket": "4"}).spec_of("public", "t", ()).options == \
        {"bucket": "4"}


def test_deletion_vectors_shape_primary_key_tables_only():
    """A database-wide ``--table_conf deletion-vectors.enabled=true``: paimon_py writes deletion
    vectors for primary-key tables only, so an append table is created without them."""
    options = {"deletion-vectors.enabled": "true"}
    targets = database_targets("lake", "", "", options)
    assert targets.spec_of("public", "orders", ("id",)).options["deletion-vectors.enabled"] == "true"
    assert targets.spec_of("public", "log", ()).options == {"bucket": "-1"}
    bucketed = database_targets("lake", "", "", {**options, "bucket": "2", "bucket-key": "k"})
    assert bucketed.spec_of("public", "log", ()).options == {"bucket": "2", "bucket-key": "k"}
