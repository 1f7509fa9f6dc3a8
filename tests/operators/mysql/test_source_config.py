"""``--mysql_conf`` parsing (``MySqlSourceConfig``) and ``--type_mapping`` (``TypeMapping``)."""

from __future__ import annotations

import pytest

from operators.cdc.errors import InvalidJobOption
from operators.mysql.source_config import InvalidSourceOption, MySqlSourceConfig, TypeMapping

BASE = {"hostname": "db1", "username": "cdc", "database-name": "shop"}


def parse(table_required: bool = False, **extra: str) -> MySqlSourceConfig:
    return MySqlSourceConfig.parse({**BASE, **{k.replace("_", "-"): v for k, v in extra.items()}}, table_required)


def test_defaults():
    config = parse()
    assert (config.port, config.password, config.table_pattern, config.startup_mode) == (3306, "", ".*", "initial")
    assert (config.chunk_size, config.heartbeat_ms, config.connect_timeout_ms, config.poll_max_rows) == \
        (50000, 30000, 30000, 50000)
    assert config.server_time_zone is None and config.specific_offset is None


def test_durations_and_ranges():
    config = MySqlSourceConfig.parse({**BASE, "heartbeat.interval": "500ms", "connect.timeout": "5s",
                                      "server-id": "5400-5408"}, False)
    assert (config.heartbeat_ms, config.connect_timeout_ms, config.server_id) == (500, 5000, 5400)
    assert config.source_id == "mysql/db1:3306/5400"


def test_derived_server_id_is_stable_and_depends_on_the_capture():
    first, again = parse(table_name="orders"), parse(table_name="orders")
    other = parse(table_name="items")
    assert first.server_id == again.server_id != other.server_id
    assert 5400 <= first.server_id < 2 ** 32


def test_matches_fullmatch_and_never_system_databases():
    config = MySqlSourceConfig.parse({**BASE, "database-name": "shop|mysql", "table-name": "o.*"}, True)
    assert config.matches("shop", "orders")
    assert not config.matches("shop2", "orders")
    assert not config.matches("shop", "xorders")
    assert not config.matches("mysql", "orders")


@pytest.mark.parametrize("options, message", [
    ({}, "missing --mysql_conf table-name"),
    ({"table-name": "t", "port": "x"}, "port=x is not an integer"),
    ({"table-name": "t", "server-id": "9-3"}, "server-id=9-3 is not a server id range"),
    ({"table-name": "t", "server-id": "abc"}, "server-id=abc is not a server id"),
    ({"table-name": "t", "server-time-zone": "+2"}, "server-time-zone=+2 is not a time zone"),
    ({"table-name": "t", "scan.startup.mode": "later"}, "scan.startup.mode=later is unknown"),
    ({"table-name": "t", "scan.startup.mode": "specific-offset"}, "specific-offset needs a position"),
    ({"table-name": "t", "scan.startup.mode": "specific-offset", "scan.startup.specific-offset.file": "b.1"},
     "specific-offset needs a position"),
    ({"table-name": "t", "scan.startup.specific-offset.pos": "4"}, "but scan.startup.mode is initial"),
    ({"table-name": "t", "scan.startup.mode": "timestamp"}, "timestamp-millis go together"),
    ({"table-name": "t", "scan.startup.timestamp-millis": "1"}, "timestamp-millis go together"),
    ({"table-name": "t", "heartbeat.interval": "soon"}, "heartbeat.interval=soon is not a duration"),
    ({"table-name": "t", "table-name2": "x"}, "table-name2 is not a --mysql_conf option"),
    ({"table-name": "("}, "table-name=( is not a valid regex"),
])
def test_bad_options(options, message):
    with pytest.raises(InvalidSourceOption, match=message.replace("(", r"\(").replace("+", r"\+")):
        MySqlSourceConfig.parse({**BASE, **options}, table_required=True)


def test_startup_offsets():
    by_file = MySqlSourceConfig.parse({**BASE, "scan.startup.mode": "specific-offset",
                                       "scan.startup.specific-offset.file": "binlog.000002",
                                       "scan.startup.specific-offset.pos": "154"}, False)
    assert (by_file.specific_offset.file, by_file.specific_offset.pos) == ("binlog.000002", 154)
    by_gtid = MySqlSourceConfig.parse({**BASE, "scan.startup.mode": "specific-offset",
                                       "scan.startup.specific-offset.gtid-set": "0-1-5"}, False)
    assert by_gtid.specific_offset.gtid_set == "0-1-5"
    at = MySqlSourceConfig.parse({**BASE, "scan.startup.mode": "timestamp",
                                  "scan.startup.timestamp-millis": "1700000000000"}, False)
    assert at.startup_timestamp_ms == 1700000000000


def test_type_mapping():
    assert TypeMapping.parse(None) == TypeMapping()
    mapping = TypeMapping.parse("to-nullable, char-to-string,bigint-unsigned-to-bigint")
    assert mapping == TypeMapping(to_nullable=True, char_to_string=True, bigint_unsigned_to_bigint=True)
    with pytest.raises(InvalidJobOption, match="--type_mapping decimal_no_change: unknown — use .*tinyint1-not-bool"):
        TypeMapping.parse("to-string,decimal_no_change")
