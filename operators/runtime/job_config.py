"""Flink settings of the jobs, and a check that refuses settings under which exactly-once
cannot hold.

Precedence, as Flink users expect:

* on a local mini-cluster (``python jobs/<job>.py``): ``flink-conf/config.yaml``, then
  ``--flink_conf key=value``;
* submitted to a cluster (``flink run -py``): the cluster's own configuration governs (its
  checkpoint interval, restart strategy, ...); the job adds only what exactly-once needs
  (checkpointing, with the interval of ``flink-conf/``, when the cluster has none), then
  ``--flink_conf``. Settings that break exactly-once are refused in both cases.

The sink commits when a checkpoint completes and relies on "every record before barrier n is
flushed at B(n)", which only aligned, exactly-once checkpoints guarantee.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Mapping, Optional

import yaml  # PyYAML comes with apache-flink (through apache-beam)

from operators.cdc import batch_handover
from operators.cdc.errors import InvalidJobOption, UserError
from operators.cdc.loopback import loopback_port
from operators.cdc.sync_flags import parse_key_values
from paimon_py.config_option import DURATION, ConfigOption
from paimon_py.exceptions import OptionError

LOG = logging.getLogger(__name__)

DEFAULTS_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                             "flink-conf", "config.yaml")


class UnsafeCheckpointing(UserError, ValueError):
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
    """The settings of a local mini-cluster run: ``flink-conf/`` + ``overrides``, checked, and
    the REST endpoint (web UI) on loopback: a free port unless ``rest.port`` is given."""
    settings = _defaults(defaults_file)
    settings.update(dict(overrides))
    check_exactly_once(settings)
    settings.setdefault("rest.address", "127.0.0.1")
    settings.setdefault("rest.bind-address", "127.0.0.1")
    if not settings.get("rest.port"):
        settings["rest.port"] = str(loopback_port())
    return settings


def web_ui_address(settings: Mapping[str, str]) -> Optional[str]:
    """The local mini-cluster's web UI and REST API (None when submitted to a cluster: its own)."""
    if submitted_to_cluster():
        return None
    return f"http://{settings['rest.address']}:{settings.get('rest.bind-port') or settings['rest.port']}"


def cluster_additions(cluster: Mapping[str, str], overrides: Mapping[str, str] = (),
                      defaults_file: str = DEFAULTS_FILE) -> dict[str, str]:
    """What a job submitted to a cluster sets on top of the cluster's configuration: ``overrides``,
    and checkpointing when neither has it. The result, applied to ``cluster``, is checked."""
    additions = dict(overrides)
    interval = "execution.checkpointing.interval"
    if not str(cluster.get(interval, "")).strip() and interval not in additions:
        additions[interval] = _defaults(defaults_file)[interval]
    check_exactly_once({**cluster, **additions})
    return additions


def _defaults(defaults_file: str) -> dict[str, str]:
    with open(defaults_file) as f:
        return flatten(yaml.safe_load(f) or {})


CHECKPOINT_INTERVAL = ConfigOption("execution.checkpointing.interval", DURATION)
ALIGNED_CHECKPOINT_TIMEOUT = ConfigOption("execution.checkpointing.aligned-checkpoint-timeout", DURATION, "0")
"""The two durations among the Flink settings the check reads (Flink's own options; declared here
only to read them with the project's one option type)."""


def check_exactly_once(settings: Mapping[str, str]) -> None:
    interval = settings.get(CHECKPOINT_INTERVAL.key, "").strip()
    if not interval or _millis(CHECKPOINT_INTERVAL, settings) <= 0:
        raise UnsafeCheckpointing(
            "checkpointing is off, and the sink commits to the lake only when a checkpoint completes — "
            "set --flink_conf execution.checkpointing.interval=10s (or a value in flink-conf/)")
    if settings.get("execution.checkpointing.mode", "EXACTLY_ONCE").upper() != "EXACTLY_ONCE":
        raise UnsafeCheckpointing(
            "with execution.checkpointing.mode AT_LEAST_ONCE a writer may flush after its barrier and records "
            "could be committed twice or lost — set execution.checkpointing.mode=EXACTLY_ONCE")
    if settings.get("execution.checkpointing.unaligned.enabled", "false").lower() == "true":
        raise UnsafeCheckpointing(
            "unaligned checkpoints break the sink's flush-before-barrier rule — set "
            "execution.checkpointing.unaligned.enabled=false")
    if _millis(ALIGNED_CHECKPOINT_TIMEOUT, settings) > 0:
        raise UnsafeCheckpointing(
            "execution.checkpointing.aligned-checkpoint-timeout switches to unaligned checkpoints "
            "under backpressure — set it to 0")


def _millis(option: ConfigOption, settings: Mapping[str, str]) -> int:
    try:
        return option.get(settings)
    except OptionError as e:
        raise InvalidJobOption(str(e)) from e


def submitted_to_cluster() -> bool:
    """True when the job runs under ``flink run`` (PyFlink then hands the client's gateway port
    to the Python driver), false for a local mini-cluster run."""
    return "PYFLINK_GATEWAY_PORT" in os.environ


def job_settings(flink_conf: list[str] | None) -> dict[str, str]:
    """The settings a job sets (see the module docstring), checked; call before creating anything."""
    overrides = parse_key_values(flink_conf, "--flink_conf")
    if submitted_to_cluster():
        from pyflink.datastream import StreamExecutionEnvironment
        cluster = StreamExecutionEnvironment.get_execution_environment()
        return cluster_additions(_configuration_of(cluster), overrides)
    return load_settings(overrides)


PYTHON_WORKER_MODE, LOOPBACK = "_python_worker_execution_mode", "loopback"
"""PyFlink's environment variable for where a local run's Python operators run: threads of the
job's process (``loopback``, the default) or worker processes (``process``)."""


def create_environment(settings: Mapping[str, str]):
    """The job's StreamExecutionEnvironment with ``settings`` (``job_settings``), max parallelism
    128 (the bridge's marker keys depend on it), the bridge configured."""
    from pyflink.common import Configuration
    from pyflink.datastream import StreamExecutionEnvironment

    from operators.runtime import bridge, job_processes, worker_boot
    from operators.runtime.allocators import bound_allocators

    local = not submitted_to_cluster()
    if local:  # before the gateway (the JVM) starts: it passes its environment to the workers' boot
        bound_allocators()  # the client runs the Python workers as threads
        if os.environ.get(PYTHON_WORKER_MODE, LOOPBACK) == LOOPBACK:
            batch_handover.enable()  # ... of this process: batches need not leave it
        set_jvm_options(settings)
        worker_python = worker_boot.use_light_boot()
        _launch_gateway_while_importing_beam()
    config = Configuration()
    for key, value in settings.items():
        config.set_string(key, value)
    if local:
        for key in TEMPORARY_DIRECTORIES:
            if key not in settings:
                config.set_string(key, job_processes.temporary_directory())
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_max_parallelism(128)
    bridge.configure_environment(env)
    if local:
        env.set_python_executable(worker_python)
    return env


def _launch_gateway_while_importing_beam() -> None:
    """Starts PyFlink's gateway JVM on a thread while this one imports Beam's worker pool (what a
    local environment's loopback server needs): ~0.5 s each, one after the other otherwise. Returns
    with the JVM started (so ``stop_job_processes`` finds it) or its launch failed (then the next
    ``get_gateway`` launches again and raises here)."""
    from pyflink.java_gateway import get_gateway

    def launch() -> None:
        try:
            get_gateway()
        except Exception:  # raised again, by the caller's own get_gateway()
            LOG.info("launching the gateway JVM failed; retried on the main thread", exc_info=True)

    launcher = threading.Thread(target=launch, name="gateway launch", daemon=True)
    launcher.start()
    try:
        import pyflink.fn_execution.beam.beam_worker_pool_service  # noqa: F401
    finally:
        launcher.join()


TEMPORARY_DIRECTORIES = ("io.tmp.dirs", "web.tmpdir")
"""Where Flink puts temporary files (the REST server's its own); a local run's own directory
(``job_processes.temporary_directory``) unless ``--flink_conf`` sets them."""

JVM_OPTIONS = "env.java.opts.all"
"""Flink's key for the JVM options of its processes; on a local run the one JVM is the mini-cluster
PyFlink's gateway starts (``flink-conf/`` says what it sets and why)."""


def set_jvm_options(settings: Mapping[str, str]) -> None:
    """Hands ``env.java.opts.all`` to the JVM PyFlink is about to start (its ``JVM_ARGS``; options
    already in ``JVM_ARGS`` come after ours, so they win), with the class data sharing archive
    (``class_sharing``). Call before the gateway starts."""
    from operators.runtime import class_sharing

    options = class_sharing.jvm_options(settings.get(JVM_OPTIONS, "").strip())
    if options and options not in os.environ.get("JVM_ARGS", ""):
        os.environ["JVM_ARGS"] = f"{options} {os.environ.get('JVM_ARGS', '')}".strip()


def _configuration_of(env) -> dict[str, str]:
    """The configuration a (cluster) environment starts with: the client's Flink configuration."""
    return {str(k): str(v) for k, v in env._j_stream_execution_environment.getConfiguration().toMap().items()}
