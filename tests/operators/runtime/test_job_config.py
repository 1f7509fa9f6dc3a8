"""The jobs refuse Flink settings that break exactly-once, with messages that say what to set."""

import os
import socket

import pytest

from operators.cdc.sync_flags import parse_key_values
from operators.runtime import class_sharing
from operators.cdc.loopback import EPHEMERAL_FLOOR
from operators.runtime.job_config import (UnsafeCheckpointing, cluster_additions, load_settings,
                                          set_jvm_options)


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


def test_on_a_cluster_its_settings_govern():
    """Submitted to a cluster, the job adds nothing the cluster already decides: its restart
    strategy and checkpoint interval stay; ``--flink_conf`` still overrides."""
    cluster = {"execution.checkpointing.interval": "3 s", "restart-strategy.type": "fixed-delay",
               "restart-strategy.fixed-delay.attempts": "2147483647"}
    assert cluster_additions(cluster) == {}
    assert cluster_additions(cluster, {"execution.checkpointing.interval": "1 s"}) == {
        "execution.checkpointing.interval": "1 s"}


def test_on_a_cluster_without_checkpointing_the_job_enables_it():
    assert cluster_additions({"restart-strategy.type": "none"}) == {
        "execution.checkpointing.interval": load_settings()["execution.checkpointing.interval"]}


@pytest.mark.parametrize("cluster, message", [
    ({"execution.checkpointing.interval": "3 s", "execution.checkpointing.mode": "AT_LEAST_ONCE"}, "EXACTLY_ONCE"),
    ({"execution.checkpointing.interval": "3 s", "execution.checkpointing.unaligned.enabled": "true"},
     "unaligned.enabled=false"),
])
def test_cluster_settings_that_break_exactly_once_are_refused(cluster, message):
    with pytest.raises(UnsafeCheckpointing, match=message):
        cluster_additions(cluster)


def test_jvm_options_go_to_the_jvm_pyflink_starts(monkeypatch):
    monkeypatch.setenv("JVM_ARGS", "-Xss2m")
    ours = class_sharing.jvm_options("-Xmx1g -XX:+UseSerialGC")  # with the archive's, when there is one
    set_jvm_options(load_settings({"env.java.opts.all": "-Xmx1g -XX:+UseSerialGC"}))
    assert os.environ["JVM_ARGS"] == f"{ours} -Xss2m"  # the caller's own options last: they win
    set_jvm_options(load_settings({"env.java.opts.all": "-Xmx1g -XX:+UseSerialGC"}))
    assert os.environ["JVM_ARGS"] == f"{ours} -Xss2m"


def test_the_web_ui_port_lies_below_the_ephemeral_ports_and_is_free():
    """A port-0 bind (the mini-cluster's RPC and blob servers) cannot take the REST port between
    its choice and Flink's bind: it comes from below the kernel's ephemeral range."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        ephemeral_start = int(f.read().split()[0])
    ports = {int(load_settings()["rest.port"]) for _ in range(20)}
    assert all(EPHEMERAL_FLOOR <= port < ephemeral_start for port in ports), ports
    assert len(ports) > 1  # chosen at random: two local jobs do not race for one port
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
