"""The jobs refuse Flink settings that break exactly-once, with messages that say what to set."""

import pytest

from operators.job_config import UnsafeCheckpointing, load_settings, parse_key_values


def test_defaults_are_exactly_once():
    settings = load_settings()
    assert settings["execution.checkpointing.mode"] == "EXACTLY_ONCE"
    assert settings["execution.checkpointing.unaligned.enabled"] == "false"


@pytest.mark.parametrize("override, message", [
    ({"execution.checkpointing.interval": "0"}, "execution.checkpointing.interval"),
    ({"execution.checkpointing.mode": "AT_LEAST_ONCE"}, "EXACTLY_ONCE"),
    ({"execution.checkpointing.unaligned.enabled": "true"}, "unaligned.enabled=false"),
    ({"execution.checkpointing.aligned-checkpoint-timeout": "30 s"}, "set it to 0"),
])
def test_unsafe_settings_are_refused(override, message):
    with pytest.raises(UnsafeCheckpointing, match=message):
        load_settings(override)


def test_key_values():
    assert parse_key_values(["a=1", "b = x=y"], "--flink_conf") == {"a": "1", "b": "x=y"}
    with pytest.raises(ValueError, match="--flink_conf expects key=value"):
        parse_key_values(["oops"], "--flink_conf")
