"""paimon_py's errors share one root, and keep the builtin bases callers catch."""

import inspect

import pyarrow as pa
import pytest

import paimon_py
from paimon_py import exceptions

SCHEMA = pa.schema([pa.field("id", pa.int32(), nullable=False), pa.field("v", pa.string())])


def test_every_error_derives_from_the_root_and_is_exported():
    classes = [c for _, c in inspect.getmembers(exceptions, inspect.isclass) if c.__module__ == exceptions.__name__]
    assert all(issubclass(c, paimon_py.PaimonError) for c in classes)
    assert {c.__name__ for c in classes} <= set(paimon_py.__all__)


def test_catalog_errors_name_what_is_missing_or_there(tmp_path):
    catalog = paimon_py.CatalogFactory.create({"warehouse": str(tmp_path)})
    with pytest.raises(paimon_py.DatabaseNotFound, match="'db'"):
        catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(SCHEMA))
    catalog.create_database("db")
    with pytest.raises(paimon_py.DatabaseAlreadyExists):
        catalog.create_database("db")
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(SCHEMA))
    with pytest.raises(paimon_py.TableAlreadyExists, match="'db.t'"):
        catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(SCHEMA))
    with pytest.raises(paimon_py.TableNotFound, match="'db.u'"):
        catalog.get_table("db.u")
    with pytest.raises(ValueError):
        catalog.get_table("no_database")


def test_user_errors_are_still_value_errors(tmp_path):
    catalog = paimon_py.CatalogFactory.create({"warehouse": str(tmp_path)})
    catalog.create_database("db")
    with pytest.raises(paimon_py.OptionError) as error:
        catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(
            SCHEMA, primary_keys=["id"], options={"bucket": "2", "merge-engine": "foo"}))
    assert isinstance(error.value, ValueError)
    catalog.create_table("db.t", paimon_py.Schema.from_pyarrow_schema(SCHEMA, primary_keys=["id"],
                                                                      options={"bucket": "2"}))
    write = catalog.get_table("db.t").new_batch_write_builder().new_write()
    with pytest.raises(paimon_py.InvalidDataError) as error:
        write.write_arrow(pa.table({"id": pa.array([None], pa.int32()), "v": ["x"]}))
    assert isinstance(error.value, ValueError)
    write.close()
