"""``paimon_py.config_option``: one declarative option type for table, source and catalog options,
one error with one line ``<key>=<value> is <what> — <how to fix>``."""

from __future__ import annotations

import pytest

from operators.cdc.catalog import InvalidCatalogOption, catalog_options
from operators.cdc.errors import UserError
from operators.postgres.source_config import InvalidSourceOption, PostgresSourceConfig
from paimon_py.config_option import (BOOLEAN, DURATION, INT, MEMORY, REGEX, ConfigOption, OptionSet, at_least,
                                     enum)
from paimon_py.exceptions import OptionError

OPTIONS = OptionSet("--demo_conf", [
    ConfigOption("name", required=True, description="a name"),
    ConfigOption("size", MEMORY, "8 mb", "a size"),
    ConfigOption("every", DURATION, "1 h", "a duration"),
    ConfigOption("count", INT, "3", "a count", checks=(at_least(2),)),
    ConfigOption("mode", enum("a", "b"), "a", "a mode | pipe"),
    ConfigOption("pattern", REGEX, None, "a regex"),
    ConfigOption("flag", BOOLEAN, "false", "a flag", fallback_keys=("old.flag", "older.flag")),
], see="README")


def test_values_are_typed_defaults_parsed_and_fallback_keys_read_in_order():
    values = OPTIONS.parse({"name": "n", "size": "2 kb", "mode": " B ", "older.flag": "true"})
    assert values == {"name": "n", "size": 2048, "every": 3_600_000, "count": 3, "mode": "b", "pattern": None,
                      "flag": True}
    assert OPTIONS.parse({"name": "n", "old.flag": "false", "older.flag": "true"})["flag"] is False
    assert OPTIONS.parse({"name": "n", "flag": "true", "old.flag": "false"})["flag"] is True


@pytest.mark.parametrize("conf, message", [
    ({"count": "x"}, "count=x is not an integer — give a whole number"),
    ({"count": "1"}, "count=1 is too small — give at least 2"),
    ({"mode": "c"}, "mode=c is unknown — use one of a, b"),
    ({"size": "lots"}, "size=lots is not a memory size — write it like '128 mb' or '1 gb'"),
    ({"every": "soon"}, "every=soon is not a duration — write it like '1 h', '30 min' or '10 s'"),
    ({"pattern": "(x"}, "pattern=(x is not a valid regex"),
    ({"old.flag": "yes"}, "old.flag=yes is not a boolean — use true or false"),
    ({"nmae": "n"}, "nmae is not a --demo_conf option — known: name, size, every, count, mode, pattern, flag "
                    "(descriptions: README)"),
    ({"x": "1", "y": "2"}, "x, y are not --demo_conf options — known: "),
])
def test_one_error_with_one_line(conf, message):
    with pytest.raises(OptionError) as error:
        OPTIONS.parse({"name": "n", **conf})
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value) and " — " in str(error.value)


def test_missing_required_options():
    with pytest.raises(OptionError, match="^missing --demo_conf name=... — add it$"):
        OPTIONS.parse({})
    with pytest.raises(OptionError, match="^missing --demo_conf name=..., pattern=... — add them$"):
        OPTIONS.parse({"name": ""}, also_required=["pattern"])
    assert OPTIONS.parse({"name": "n", "extra": "kept"}, allow_unknown=True)["name"] == "n"


def test_markdown_table():
    lines = OPTIONS.markdown().splitlines()
    assert lines[:3] == ["| key | default | description |", "|---|---|---|", "| `name` | required | a name |"]
    assert "| `count` | `3` | a count (at least 2) |" in lines
    assert "| `mode` | `a` | a mode \\| pipe |" in lines
    assert "| `flag` | `false` | a flag (also read from `old.flag`, `older.flag`) |" in lines


def test_operators_wrap_option_errors_into_user_errors():
    base = {"hostname": "h", "username": "u", "database-name": "d", "slot.name": "s"}
    with pytest.raises(InvalidSourceOption) as error:
        PostgresSourceConfig.parse({**base, "port": "0"}, table_required=False)
    assert isinstance(error.value, UserError) and str(error.value) == "port=0 is too small — give at least 1"
    with pytest.raises(InvalidSourceOption, match="^missing --postgres_conf table-name=... — add it$"):
        PostgresSourceConfig.parse(base, table_required=True)
    with pytest.raises(InvalidCatalogOption, match="^s3.path.style.access=maybe is not a boolean"):
        catalog_options("/a", {"s3.path.style.access": "maybe"})
    with pytest.raises(InvalidCatalogOption, match="^metastore=hive is not supported — use filesystem"):
        catalog_options("/a", {"metastore": "hive"})


def test_postgres_config_keeps_its_fields_and_defaults():
    config = PostgresSourceConfig.parse({"hostname": "h", "username": "u", "database-name": "d",
                                         "slot.name": "s"}, table_required=False)
    assert (config.port, config.password, config.schema_pattern, config.table_pattern, config.publication,
            config.startup_mode, config.chunk_size, config.heartbeat_ms, config.poll_max_rows) == \
        (5432, "", "public", ".*", "s_pub", "initial", 100_000, 10_000, 50_000)
