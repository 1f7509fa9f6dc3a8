"""Python glue for the checkpoint-signal bridge (``bridge/src/.../CheckpointSignalBridge.java``).

PyFlink's Python functions have no checkpoint hooks. The bridge is a small Java operator put
directly in front of a Python ``KeyedProcessFunction`` (same chain, after ``key_by``); it forwards
the records unchanged and adds in-band *signal* records in the same keyed shape:

* ``B(n)``: checkpoint n's barrier is about to pass. Arrives after every record that precedes the
  barrier and before the barrier itself (so before the function's state is snapshotted for n).
* ``C(n)``: checkpoint n completed. Notices can be skipped or subsumed (commit everything <= n);
  aborted checkpoints never get one.
* ``R(n)``: the operator was restored from checkpoint (or savepoint) n; first signal after a
  restart. A fresh start emits no R at all.
* ``E(END_INPUT_CHECKPOINT_ID)``: the (bounded) input ended; flush and commit everything now
  (as Paimon's committer does at end of input, identifier ``Long.MAX_VALUE``). No B/C follow it.

Every subtask of the bridge gets its own signals, under a marker key that the bridge chose so
that it belongs to that very subtask; the function processes a signal under that synthetic key
(keyed state read there is the marker key's, not a data key's). The signal's record timestamp
(``ctx.timestamp()``) is the wall-clock time in ms at which Java emitted it.

Use::

    env = StreamExecutionEnvironment.get_execution_environment()
    configure_environment(env)                 # bridge jar + python executables
    env.set_max_parallelism(128)               # always explicit (marker keys depend on it)
    stream = ...map(to_envelope, output_type=ENVELOPE_TYPE)
    keyed = stream.key_by(lambda e: e[KEY], key_type=Types.STRING())
    out = process_with_signals(keyed, MyKeyedProcessFunction(), output_type=...,
                               parallelism=2, bundle=PythonBundle(size=1))

and in the function::

    def process_element(self, value, ctx):
        kind = value[KIND]
        if kind == DATA: ...payload = value[PAYLOAD]...
        elif kind == BARRIER: ...flush, emit committables for value[CHECKPOINT_ID]...
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from pyflink.common import Row
from pyflink.common.typeinfo import Types

# Envelope: a named Row. Signals fill kind, key (the marker key) and checkpoint_id; payload None.
ENVELOPE_FIELDS = ("kind", "key", "checkpoint_id", "payload")
KIND, KEY, CHECKPOINT_ID, PAYLOAD = range(4)
ENVELOPE_TYPE = Types.ROW_NAMED(
    list(ENVELOPE_FIELDS),
    [Types.STRING(), Types.STRING(), Types.LONG(), Types.PICKLED_BYTE_ARRAY()])

# Envelope kinds: every kind that travels in an envelope, in one place.
DATA = "D"
"""A change batch (payload: ``ChangeBatch``), a writer's committable, or a reader's tick."""
SCHEMA = "S"
"""A schema event (payload: a pickled ``operators.cdc.schema_event.SchemaEvent``)."""
POSITION = "P"
"""A source position on its way to the committer (payload: a ``PendingPosition``)."""
SPLIT = "X"
"""A snapshot split from a reader to the split readers (payload: the source's split; key: the
split reader subtask's, from :func:`subtask_keys`)."""
BARRIER = "B"
COMPLETE = "C"
RESTORE = "R"
END = "E"
END_INPUT_CHECKPOINT_ID = 2 ** 63 - 1  # Java Long.MAX_VALUE, as Paimon's END_INPUT_CHECKPOINT_ID

BRIDGE_CLASS = "io.paimoncdc.bridge.CheckpointSignalBridge"
_BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "bridge" / "build.py"


# --- envelopes -----------------------------------------------------------------------------

def data_envelope(key: str, payload: Any, checkpoint_id: Optional[int] = None) -> Row:
    """A data record: ``kind='D'``; ``payload`` is any picklable object (prefer whole batches)."""
    return Row(kind=DATA, key=key, checkpoint_id=checkpoint_id, payload=payload)


def signal_envelope(kind: str, checkpoint_id: int, key: Optional[str] = None,
                    payload: Any = None) -> Row:
    """A signal-shaped record built in Python (e.g. a writer forwarding committables for n)."""
    return Row(kind=kind, key=key, checkpoint_id=checkpoint_id, payload=payload)


# --- the jar and the environment ------------------------------------------------------------

def _build_module():
    spec = importlib.util.spec_from_file_location("_paimon_cdc_bridge_build", _BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bridge_jar(force: bool = False) -> Path:
    """Path of the bridge jar, compiled first (``javac``) if missing or its sources changed."""
    return _build_module().build_jar(force=force)


def configure_environment(env, python_executable: Optional[str] = None) -> Path:
    """Adds the bridge jar to ``env``, makes the Python workers (and the client) use
    ``python_executable`` (default: the running interpreter), so jobs work outside an
    activated virtualenv, and gives each Python operator its own worker (see below).
    Call before building the topology. Returns the jar's path."""
    jar = bridge_jar()
    env.add_jars(jar.as_uri())
    executable = python_executable or sys.executable
    env.set_python_executable(executable)
    config = _env_config(env)
    config.setString("python.client.executable", executable)
    # One Python worker per operator instead of one per slot shared through managed memory:
    # with the shared worker, a failover sometimes releases it twice ("Reference count must
    # not be negative" in Beam's DefaultJobBundleFactory), a fatal error that takes the
    # TaskManager down, and a mini-cluster job then waits for slots forever.
    config.setString("python.fn-execution.memory.managed", "false")
    return jar


def _env_config(env):
    from pyflink.java_gateway import get_gateway
    jvm = get_gateway().jvm
    return jvm.org.apache.flink.python.util.PythonConfigUtil.getEnvironmentConfig(
        env._j_stream_execution_environment)


def tick_source(env, count: int = 2 ** 63 - 1, ticks_per_second: float = 10.0,
                name: str = "ticks"):
    """A rate-limited source of ticks 0, 1, 2, ... below ``count`` (``Types.LONG()``) from the
    bridge jar (``TickSource``, a source without an operator coordinator: see its docstring);
    checkpointed, so a restored job continues after the last checkpointed tick. The rate is for
    the whole source."""
    from pyflink.datastream.functions import SourceFunction
    from pyflink.java_gateway import get_gateway
    jvm = get_gateway().jvm
    j_source = jvm.io.paimoncdc.bridge.TickSource.create(int(count), float(ticks_per_second))
    return env.add_source(SourceFunction(j_source), name, type_info=Types.LONG())


def keyed_ticks(env, key: str, count: int = 2 ** 63 - 1, ticks_per_second: float = 10.0):
    """A reader's input (parallelism 1): the ticks as data envelopes of ``key`` (the tick in the
    payload), built in Java (``TickEnvelopes``: no Python operator, so no Python worker of its
    own), and keyed *in place* (one key, one subtask: no exchange), so the reader runs in the
    source's chain.

    In the chain a tick is handed to the reader only once it has taken the previous ones (its
    bundle, ``READER_BUNDLE``), and a checkpoint's barrier leaves between two ticks. Behind an
    exchange, ticks queued in the network buffers ahead of each barrier: a snapshot of many
    chunks completed no checkpoint until its last chunk was read (nothing committed, the write
    buffer filled, a failure restarted the whole snapshot)."""
    from pyflink.datastream.data_stream import DataStream, KeyedStream
    from pyflink.java_gateway import get_gateway
    jvm = get_gateway().jvm
    j_ticks = tick_source(env, count, ticks_per_second).set_parallelism(1)._j_data_stream
    j_envelopes = j_ticks.map(jvm.io.paimoncdc.bridge.TickEnvelopes(key), KEYED_ENVELOPE_TYPE.get_java_type_info())
    j_envelopes.setParallelism(1)
    j_envelopes.name("tick envelopes")
    j_keyed = jvm.org.apache.flink.streaming.api.datastream.DataStreamUtils.reinterpretAsKeyedStream(
        j_envelopes, jvm.KeyByKeySelector(), ENVELOPE_KEY_TYPE.get_java_type_info())
    return KeyedStream(j_keyed, ENVELOPE_TYPE, DataStream(j_envelopes))


def subtask_keys(prefix: str, parallelism: int, max_parallelism: int = 128) -> list[str]:
    """One key per subtask of a ``parallelism``-wide keyed operator (``<prefix>-<i>``, the i-th
    routed by Flink to subtask i, as ``key_in_java`` keys it): to spread work evenly on purpose.
    ``max_parallelism``: the environment's (``job_config`` sets 128)."""
    from pyflink.java_gateway import get_gateway
    jvm = get_gateway().jvm
    assign = jvm.org.apache.flink.runtime.state.KeyGroupRangeAssignment.assignKeyToParallelOperator
    keys: dict[int, str] = {}
    candidate = 0
    while len(keys) < parallelism:
        key = f"{prefix}-{candidate}"
        row = jvm.org.apache.flink.types.Row(1)  # what KeyByKeySelector builds
        row.setField(0, key)
        keys.setdefault(assign(row, max_parallelism, parallelism), key)
        candidate += 1
    return [keys[i] for i in range(parallelism)]


# --- inserting the bridge -------------------------------------------------------------------

KEYED_ENVELOPE_TYPE = Types.ROW([Types.STRING(), ENVELOPE_TYPE])
"""``Row(key, envelope)``: what Java sees after PyFlink's ``key_by`` of envelopes. A Python
operator that emits this shape itself (``keyed(envelope)``) is keyed in Java by
:func:`key_in_java`, without the extra Python map ``key_by`` adds (which cannot chain to an
operator that also has a side output, so it would cost a Python worker of its own)."""

ENVELOPE_KEY_TYPE = Types.ROW([Types.STRING()])
"""The key ``KeyByKeySelector`` takes from a ``KEYED_ENVELOPE_TYPE`` row (its first field)."""


def keyed(envelope: Row) -> Row:
    """An envelope in the ``KEYED_ENVELOPE_TYPE`` shape, keyed by its own key."""
    return Row(envelope[KEY], envelope)


def key_in_java(*streams):
    """A ``KeyedStream`` of envelopes over one or more streams of ``KEYED_ENVELOPE_TYPE`` rows
    (PyFlink ``DataStream``s or Java ``DataStream``s), unioned and keyed in Java: the same shape
    ``key_by(lambda e: e[KEY], key_type=Types.STRING())`` gives."""
    from pyflink.datastream.data_stream import DataStream, KeyedStream
    from pyflink.java_gateway import get_gateway
    gateway = get_gateway()
    j_streams = [s._j_data_stream if isinstance(s, DataStream) else s for s in streams]
    joined = j_streams[0]
    if len(j_streams) > 1:
        rest = gateway.new_array(gateway.jvm.org.apache.flink.streaming.api.datastream.DataStream, len(j_streams) - 1)
        for i, j_stream in enumerate(j_streams[1:]):
            rest[i] = j_stream
        joined = joined.union(rest)
    j_keyed = joined.keyBy(gateway.jvm.KeyByKeySelector(), ENVELOPE_KEY_TYPE.get_java_type_info())
    origin = next((s for s in streams if isinstance(s, DataStream)), DataStream(j_streams[0]))
    return KeyedStream(j_keyed, ENVELOPE_TYPE, origin)


def with_checkpoint_signals(keyed, name: str = "checkpoint-signals",
                            parallelism: Optional[int] = None):
    """Inserts the bridge after ``keyed`` (a ``pyflink.datastream.KeyedStream`` from
    ``key_by(..., key_type=Types.STRING())`` or ``Types.INT()`` over ``ENVELOPE_TYPE``-like
    named Rows) and returns a ``KeyedStream`` again, ready for ``.process(KeyedProcessFunction)``.

    The consumer must run with the bridge's parallelism (so they chain and the marker keys land
    in the right subtask): pass the same ``parallelism`` here and on ``.process(...)``, or use
    :func:`process_with_signals`, which does both."""
    from pyflink.datastream.data_stream import KeyedStream
    from pyflink.java_gateway import get_gateway
    if not isinstance(keyed, KeyedStream):
        raise TypeError("with_checkpoint_signals needs the KeyedStream returned by key_by(...)")
    jvm = get_gateway().jvm
    j_keyed = keyed._j_data_stream
    check_checkpointing(j_keyed.getExecutionEnvironment())
    j_type = j_keyed.getType()  # Row(key, envelope): what Java sees after PyFlink's key_by
    operator = _jvm_class(jvm, BRIDGE_CLASS)(j_type)
    j_bridged = j_keyed.transform(name, j_type, operator)
    if parallelism is not None:
        j_bridged.setParallelism(parallelism)
    j_rekeyed = jvm.org.apache.flink.streaming.api.datastream.DataStreamUtils \
        .reinterpretAsKeyedStream(
            j_bridged, jvm.org.apache.flink.streaming.api.functions.python.KeyByKeySelector(),
            j_keyed.getKeyType())
    return KeyedStream(j_rekeyed, keyed._original_data_type_info, keyed._origin_stream)


def check_checkpointing(env) -> None:
    """Refuses checkpoint settings under which ``B(n)`` would not be "after every record before
    barrier n, before the snapshot": unaligned checkpoints (also the switch to them after an
    alignment timeout) and at-least-once mode. ``env``: a StreamExecutionEnvironment (Python or
    Java). Checkpointing switched off is allowed (then only R and E signals ever arrive)."""
    from pyflink.datastream.checkpoint_config import CheckpointConfig
    from pyflink.datastream.checkpointing_mode import CheckpointingMode
    from pyflink.datastream import StreamExecutionEnvironment
    j_env = env._j_stream_execution_environment \
        if isinstance(env, StreamExecutionEnvironment) else env
    config = CheckpointConfig(j_env.getCheckpointConfig())
    if not config.is_checkpointing_enabled():
        return
    if config.is_unaligned_checkpoints_enabled() or config.is_force_unaligned_checkpoints():
        raise ValueError(
            "unaligned checkpoints are enabled (execution.checkpointing.unaligned.enabled): the "
            "checkpoint-signal bridge needs aligned checkpoints (records the barrier overtakes "
            "are stored in checkpoint n yet reach the function after B(n): replayed after a "
            "restore, they would be committed twice)")
    if config.get_checkpointing_mode() != CheckpointingMode.EXACTLY_ONCE:
        raise ValueError(
            "checkpointing mode is AT_LEAST_ONCE: the checkpoint-signal bridge needs EXACTLY_ONCE "
            "(aligned barriers)")


def process_with_signals(keyed, func, output_type=None, name: Optional[str] = None,
                         parallelism: Optional[int] = None, bundle: Optional["PythonBundle"] = None):
    """``with_checkpoint_signals(keyed).process(func, output_type)`` with one parallelism for
    both, and optionally this operator's own Python bundle limits (``PythonBundle(1)`` delivers
    signals within milliseconds; the default bundle time delays them by up to ~1 s)."""
    bridged = with_checkpoint_signals(
        keyed, name=f"{name} signals" if name else "checkpoint-signals", parallelism=parallelism)
    out = bridged.process(func, output_type=output_type)
    if name:
        out = out.name(name)
    if parallelism is not None:
        out = out.set_parallelism(parallelism)
    if bundle is not None:
        set_python_bundle(out, bundle)
    return out


@dataclass(frozen=True)
class PythonBundle:
    """A Python operator's bundle limits (``python.fn-execution.bundle.size`` / ``.time``); None
    leaves PyFlink's default."""

    size: Optional[int] = None
    time_ms: Optional[int] = None


READER_BUNDLE = PythonBundle(size=4, time_ms=100)
"""A reader's bundles: at most 4 ticks. A reader's ticks can all be in its input at once (a bounded
snapshot's, one per chunk), and a bundle's output waits in the JVM until the bundle ends: in a
bundle of 1,000 the whole snapshot's output did (331 MiB of live heap at 6M rows). One tick per
bundle kept the JVM near 100 MiB but left the reader idle while its output was sent (a fixed-bucket
5M-row snapshot 20% slower than before); four keep it reading (6% slower) at ~30 MiB more."""

DATA_BUNDLE = PythonBundle(size=1000, time_ms=100)
"""The bundles of operators fed by other operators' batches (bucket assigners, writers): what
arrives within 100 ms, which the network's backpressure bounds, so the JVM keeps feeding the
worker while it works (one element per bundle there saved no memory measurably)."""

SPLIT_BUNDLE = PythonBundle(size=1, time_ms=100)
"""A snapshot split reader's bundles: one split each (a split is a chunk's worth of rows, whose
batches wait in the JVM until the bundle ends)."""

SIGNAL_BUNDLE = PythonBundle(size=1, time_ms=100)
"""The committer's bundles: one element each, so its signals arrive without delay."""


def set_python_bundle(stream, bundle: PythonBundle):
    """Gives the Python operator that produced ``stream`` its own bundle limits without touching
    the other operators:
    the operator gets a private copy of the environment's configuration.

    The environment must not set these options itself: at execute, PyFlink copies the
    environment's Python options over every Python operator's own. A bundle's output waits in an
    unbounded JVM queue until the bundle ends, so every Python operator of a CDC job has limits of
    its own (``READER_BUNDLE``, ``DATA_BUNDLE``, ``SIGNAL_BUNDLE``)."""
    from pyflink.java_gateway import get_gateway
    jvm = get_gateway().jvm
    transformation = stream._j_data_stream.getTransformation()
    operator = transformation.getOperatorFactory().getOperator()
    base = jvm.java.lang.Class.forName(
        "org.apache.flink.streaming.api.operators.python.AbstractPythonFunctionOperator",
        True, operator.getClass().getClassLoader())
    if not base.isInstance(operator):
        raise TypeError(f"not a Python operator: {operator.getClass().getName()}")
    config = jvm.org.apache.flink.configuration.Configuration(operator.getConfiguration())
    if bundle.size is not None:
        config.setString("python.fn-execution.bundle.size", str(int(bundle.size)))
    if bundle.time_ms is not None:
        config.setString("python.fn-execution.bundle.time", str(int(bundle.time_ms)))
    field = base.getDeclaredField("config")
    field.setAccessible(True)
    field.set(operator, config)
    return stream


def _jvm_class(jvm, name: str):
    cls = jvm
    for part in name.split("."):
        cls = getattr(cls, part)
    return cls
