"""Flink settings of the jobs: defaults from ``flink-conf/config.yaml``, overrides from the
command line (``--flink_conf key=value``), and a check that refuses settings under which
exactly-once cannot hold.

The sink commits when a checkpoint completes and relies on "every record before barrier n is
flushed at B(n)", which only aligned, exactly-once checkpoints guarantee.
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

import yaml  # PyYAML comes with apache-flink (through apache-beam)

DEFAULTS_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "flink-conf", "config.yaml")


class UnsafeCheckpointing(ValueError):
    """Flink settings that would break exactly-once delivery into the lake."""


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested YAML (Flink 2's config.yaml) to Flink's dotted keys."""
    out: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        else:
            out[name] = "false" if value is False else "true" if value is True else str(value)
    return out


def load_settings(overrides: Mapping[str, str] = (), defaults_file: str = DEFAULTS_FILE) -> dict[str, str]:
    with open(defaults_file) as f:
        settings = flatten(yaml.safe_load(f) or {})
    settings.update(dict(overrides))
    check_exactly_once(settings)
    return settings


def parse_key_values(pairs: list[str] | None, option: str) -> dict[str, str]:
    """``["k=v", ...]`` from repeated command-line options, with a clear error otherwise."""
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ValueError(f"{option} expects key=value, got {pair!r}.")
        key, value = pair.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def check_exactly_once(settings: Mapping[str, str]) -> None:
    interval = settings.get("execution.checkpointing.interval", "").strip()
    if not interval or _millis(interval) <= 0:
        raise UnsafeCheckpointing(
            "Checkpointing is off; the sink commits to the lake only when a checkpoint completes. "
            "Set --flink_conf execution.checkpointing.interval=10s (or a value in flink-conf/).")
    if settings.get("execution.checkpointing.mode", "EXACTLY_ONCE").upper() != "EXACTLY_ONCE":
        raise UnsafeCheckpointing(
            "execution.checkpointing.mode must be EXACTLY_ONCE: with AT_LEAST_ONCE a writer may "
            "flush after its barrier and records could be committed twice or lost.")
    if settings.get("execution.checkpointing.unaligned.enabled", "false").lower() == "true":
        raise UnsafeCheckpointing(
            "Unaligned checkpoints break the sink's flush-before-barrier rule; set "
            "execution.checkpointing.unaligned.enabled=false.")
    timeout = settings.get("execution.checkpointing.aligned-checkpoint-timeout", "0")
    if _millis(timeout) > 0:
        raise UnsafeCheckpointing(
            "execution.checkpointing.aligned-checkpoint-timeout switches to unaligned checkpoints "
            "under backpressure; set it to 0.")


_UNITS = {"": 1, "ms": 1, "s": 1000, "sec": 1000, "min": 60_000, "m": 60_000, "h": 3_600_000}


def _millis(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([a-z]*)\s*", text.lower())
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"Cannot read the duration {text!r}; write it like '10 s' or '500 ms'.")
    return int(match.group(1)) * _UNITS[match.group(2)]


def create_environment(flink_conf: list[str] | None):
    """The job's StreamExecutionEnvironment: defaults + ``--flink_conf`` overrides (checked),
    max parallelism 128 (the bridge's marker keys depend on it), the bridge configured."""
    from pyflink.common import Configuration
    from pyflink.datastream import StreamExecutionEnvironment

    from operators import bridge

    config = Configuration()
    for key, value in load_settings(parse_key_values(flink_conf, "--flink_conf")).items():
        config.set_string(key, value)
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_max_parallelism(128)
    bridge.configure_environment(env)
    return env

