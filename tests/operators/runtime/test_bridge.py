"""The checkpoint-signal bridge on a real local mini-cluster (PyFlink 2.3.0).

The job runs in a child process (its own session: the py4j JVM, the mini-cluster and the Python
workers all end with it, and the test kills the whole group if anything is left or it hangs):

  tick source (Java, rate-limited, bounded, parallelism 2)
    -> Python map: tick -> data envelope with a batch of BATCH records, key "k<tick % KEYS>"
    -> key_by(key, STRING) -> [bridge] -> Python KeyedProcessFunction (Recorder), parallelism 2

with aligned exactly-once checkpoints every 300 ms and a fixed-delay restart strategy of one
attempt. The Recorder keeps a per-key count in ValueState, logs every element it sees to a
JSON-lines file per subtask and attempt, and raises once (subtask 0, attempt 0, after 3
completion notices) to force a restore.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest

from tests.support.paths import ROOT

pytestmark = pytest.mark.slow  # the tests run PyFlink jobs (a JVM) in child processes; the jar may be compiled

TICKS = 1500
TICKS_PER_SECOND = 150.0
BATCH = 4  # records per element: the input is 6,000 records in 1,500 batches
KEYS = 12
PARALLELISM = 2
JOB_TIMEOUT_S = 80


# --- the job (runs in the child process) ------------------------------------------------------

def run_job(out_dir: str, bundle: str = "time100") -> None:
    """``bundle``: "time100" (python.fn-execution.bundle.time=100 for the whole job, what the test
    uses), "default" (PyFlink's defaults), "size1" (bundle size 1 on the recorder only)."""
    from pyflink.common import Configuration
    from pyflink.common.typeinfo import Types
    from pyflink.datastream import (CheckpointingMode, KeyedProcessFunction,
                                    StreamExecutionEnvironment)
    from pyflink.datastream.state import ValueStateDescriptor

    from operators.runtime import bridge

    out = Path(out_dir)
    config = Configuration()
    config.set_string("restart-strategy.type", "fixed-delay")
    config.set_string("restart-strategy.fixed-delay.attempts", "1")
    config.set_string("restart-strategy.fixed-delay.delay", "200 ms")
    config.set_string("execution.checkpointing.unaligned.enabled", "false")
    if bundle == "time100":
        config.set_string("python.fn-execution.bundle.time", "100")
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(PARALLELISM)
    env.set_max_parallelism(128)
    env.enable_checkpointing(300, CheckpointingMode.EXACTLY_ONCE)
    bridge.configure_environment(env)

    class Recorder(KeyedProcessFunction):
        def __init__(self, out_dir: str):
            self.out_dir = out_dir

        def open(self, runtime_context):
            self.subtask = runtime_context.get_index_of_this_subtask()
            self.attempt = runtime_context.get_attempt_number()
            self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))
            self.mirror = {}          # key -> count, as a plain attribute (what B(n) must match)
            self.completions = 0
            name = f"s{self.subtask}-a{self.attempt}-p{os.getpid()}.jsonl"
            self.log = open(os.path.join(self.out_dir, name), "a", buffering=1)

        def close(self):
            self.log.close()

        def _write(self, **event):
            self.log.write(json.dumps(event) + "\n")

        def process_element(self, value, ctx):
            kind = value[bridge.KIND]
            if kind == bridge.DATA:
                key = value[bridge.KEY]
                previous = self.count.value()
                if key not in self.mirror:
                    self._write(e="first", k=key, restored=previous)
                tick, records = value[bridge.PAYLOAD]
                total = (previous or 0) + len(records)
                self.count.update(total)
                self.mirror[key] = total
                self._write(e="D", k=key, t=tick, c=total)
                if (self.attempt == 0 and self.subtask == 0 and self.completions >= 3
                        and _claim(os.path.join(self.out_dir, "failed"))):
                    self._write(e="FAIL")
                    raise RuntimeError("injected failure (test_bridge)")
            else:
                n = value[bridge.CHECKPOINT_ID]
                latency = time.time() * 1000 - ctx.timestamp()
                event = dict(e=kind, n=n, lat=latency, mk=ctx.get_current_key())
                if kind == bridge.BARRIER:
                    event["mirror"] = dict(self.mirror)
                if kind == bridge.COMPLETE:
                    self.completions += 1
                self._write(**event)
            return iter(())

    def to_envelope(tick):
        records = [tick * BATCH + i for i in range(BATCH)]
        return bridge.data_envelope(f"k{tick % KEYS}", (tick, records))

    stream = bridge.tick_source(env, TICKS, TICKS_PER_SECOND) \
        .map(to_envelope, output_type=bridge.ENVELOPE_TYPE)
    keyed = stream.key_by(lambda e: e[bridge.KEY], key_type=Types.STRING())
    bridge.process_with_signals(keyed, Recorder(str(out)), output_type=Types.STRING(),
                                name="recorder", parallelism=PARALLELISM,
                                bundle=bridge.PythonBundle(size=1) if bundle == "size1" else None)
    env.execute("test_bridge")
    (out / "finished").write_text("ok")


READER_TICKS = 40
READER_STEP_S = 0.1


def run_reader_job(out_dir: str) -> None:
    """A reader's keyed ticks (``keyed_ticks``: all 40 due at once, 1,000 a second) into a slow
    reader (0.1 s a tick, as a snapshot chunk), checkpoints every 200 ms; the reader logs the ticks
    and barriers in the order it sees them, and the job's vertices."""
    from pyflink.common.typeinfo import Types
    from pyflink.datastream import CheckpointingMode, KeyedProcessFunction, StreamExecutionEnvironment

    from operators.runtime import bridge

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_max_parallelism(128)
    env.enable_checkpointing(200, CheckpointingMode.EXACTLY_ONCE)
    bridge.configure_environment(env)

    class SlowReader(KeyedProcessFunction):
        def open(self, runtime_context):
            self.log = open(os.path.join(out_dir, "reader.jsonl"), "a", buffering=1)

        def process_element(self, value, ctx):
            if value[bridge.KIND] == bridge.DATA:
                time.sleep(READER_STEP_S)
                self.log.write(json.dumps({"e": "D", "t": value[bridge.PAYLOAD]}) + "\n")
            else:
                self.log.write(json.dumps({"e": value[bridge.KIND], "n": value[bridge.CHECKPOINT_ID]}) + "\n")
            return iter(())

    keyed = bridge.keyed_ticks(env, "reader", READER_TICKS, 1000.0)
    bridge.process_with_signals(keyed, SlowReader(), output_type=Types.STRING(), name="reader", parallelism=1,
                                bundle=bridge.READER_BUNDLE)
    graph = env._generate_stream_graph(False).getJobGraph()
    (Path(out_dir) / "vertices.json").write_text(
        json.dumps([v.getName() for v in graph.getVerticesSortedTopologicallyFromSources()]))
    env.execute("test_bridge_reader")


def run_checks() -> dict:
    """Topology-building checks (no job runs): what the glue refuses, and where signals go."""
    from py4j.protocol import Py4JJavaError
    from pyflink.common.typeinfo import Types
    from pyflink.datastream import (CheckpointingMode, KeyedProcessFunction,
                                    StreamExecutionEnvironment)
    from pyflink.java_gateway import get_gateway

    from operators.runtime import bridge

    class Noop(KeyedProcessFunction):
        def process_element(self, value, ctx):
            return iter(())

    def topology(unaligned=False, mode=CheckpointingMode.EXACTLY_ONCE, key_type=Types.STRING()):
        env = StreamExecutionEnvironment.get_execution_environment()
        env.set_parallelism(2)
        env.set_max_parallelism(128)
        env.enable_checkpointing(1000, mode)
        if unaligned:
            env.get_checkpoint_config().enable_unaligned_checkpoints()
        bridge.configure_environment(env)
        stream = bridge.tick_source(env, 10, 10.0).map(
            lambda t: bridge.data_envelope("k", t), output_type=bridge.ENVELOPE_TYPE)
        keyed = stream.key_by(lambda e: e[bridge.KEY], key_type=key_type)
        out = bridge.process_with_signals(keyed, Noop(), Types.STRING(), name="noop",
                                          parallelism=2, bundle=bridge.PythonBundle(size=1))
        return env, stream, out

    def outcome(**kwargs):
        try:
            topology(**kwargs)
            return "ok"
        except ValueError as e:
            return f"ValueError: {e}"
        except Py4JJavaError as e:
            return f"Java: {e.java_exception.getMessage()}"

    results = {
        "unaligned": outcome(unaligned=True),
        "at_least_once": outcome(mode=CheckpointingMode.AT_LEAST_ONCE),
        "pickled_key": outcome(key_type=None),
    }
    env, stream, out = topology()
    config_of = (lambda ds: ds._j_data_stream.getTransformation().getOperatorFactory()
                 .getOperator().getConfiguration().toMap().get("python.fn-execution.bundle.size"))
    results["bundle_size"] = {"consumer": config_of(out), "upstream map": config_of(stream)}
    graph = env._generate_stream_graph(False).getJobGraph()
    results["vertices"] = [v.getName() for v in graph.getVerticesSortedTopologicallyFromSources()]
    jvm = get_gateway().jvm
    find = jvm.io.paimoncdc.bridge.CheckpointSignalBridge.findMarkerKey
    results["marker_keys"] = [find(s, 3, 128, True) for s in range(3)]
    selector = jvm.org.apache.flink.streaming.api.functions.python.KeyByKeySelector()

    def routed_to(key):  # where PyFlink's keyBy sends Row(key, envelope)
        record = jvm.org.apache.flink.types.Row(2)
        record.setField(0, key)
        return jvm.org.apache.flink.runtime.state.KeyGroupRangeAssignment \
            .assignKeyToParallelOperator(selector.getKey(record), 128, 3)

    results["marker_subtasks"] = [routed_to(k) for k in results["marker_keys"]]
    return results


def _claim(path: str) -> bool:
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


# --- the test ---------------------------------------------------------------------------------

def _run_child(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=JOB_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        output, _ = proc.communicate()
        pytest.fail(f"the job did not finish in {JOB_TIMEOUT_S} s:\n{output[-5000:]}")
    finally:
        _kill_group(proc.pid)  # whatever the child left behind in its session (JVM, workers)
    return subprocess.CompletedProcess(proc.args, proc.returncode, output)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _load(out_dir: Path) -> dict[tuple[int, int], list[dict]]:
    """(subtask, attempt) -> events in order."""
    logs: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for path in sorted(out_dir.glob("s*-a*-p*.jsonl")):
        subtask, attempt = (int(p[1:]) for p in path.name.split("-")[:2])
        logs[(subtask, attempt)].extend(json.loads(line) for line in path.read_text().splitlines())
    return logs


def test_bridge_jar_is_built_once():
    from operators.runtime import bridge
    jar = bridge.bridge_jar()
    before = jar.stat().st_mtime_ns
    assert bridge.bridge_jar() == jar
    assert jar.stat().st_mtime_ns == before  # unchanged sources: no rebuild
    names = zipfile.ZipFile(jar).namelist()
    assert "io/paimoncdc/bridge/CheckpointSignalBridge.class" in names
    assert "META-INF/MANIFEST.MF" in names


@pytest.mark.timeout(120)
def test_topology_checks():
    result = _run_child("--checks")
    assert result.returncode == 0, result.stdout[-5000:]
    checks = json.loads(result.stdout.strip().splitlines()[-1])
    assert checks["unaligned"].startswith("ValueError: unaligned checkpoints"), checks
    assert checks["at_least_once"].startswith("ValueError: checkpointing mode"), checks
    assert "the key must be typed STRING or INT" in checks["pickled_key"], checks
    # bundle size 1 only on the consumer of the signals, not on the rest of the job
    assert checks["bundle_size"] == {"consumer": "1", "upstream map": None}
    # the bridge is chained to its consumer: one vertex "<bridge> -> <consumer>"
    assert "noop signals -> noop" in checks["vertices"], checks["vertices"]
    assert checks["marker_subtasks"] == [0, 1, 2]


@pytest.mark.timeout(120)
def test_signals_through_checkpoints_failure_and_restore(tmp_path):
    started = time.monotonic()
    result = _run_child(str(tmp_path))
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-5000:]
    assert (tmp_path / "finished").exists()
    assert (tmp_path / "failed").exists(), "the injected failure never fired"
    logs = _load(tmp_path)
    subtasks = sorted({s for s, _ in logs})
    assert subtasks == list(range(PARALLELISM))
    attempts = sorted({a for _, a in logs})
    assert attempts == [0, 1], attempts

    def events(subtask, attempt, kind):
        return [e for e in logs[(subtask, attempt)] if e["e"] == kind]

    # B and C: strictly increasing within an attempt; each C(n) after the subtask's B(n).
    barriers = defaultdict(list)  # subtask -> all B ids (both attempts)
    completed = set()
    for (s, a), evs in logs.items():
        b_ids = [e["n"] for e in evs if e["e"] == "B"]
        c_ids = [e["n"] for e in evs if e["e"] == "C"]
        assert b_ids == sorted(set(b_ids)), (s, a, b_ids)
        assert c_ids == sorted(set(c_ids)), (s, a, c_ids)
        for n in c_ids:
            b_pos = next(i for i, e in enumerate(evs) if e["e"] == "B" and e["n"] == n)
            c_pos = next(i for i, e in enumerate(evs) if e["e"] == "C" and e["n"] == n)
            assert b_pos < c_pos
        barriers[s].extend(b_ids)
        completed.update(c_ids)
        # markers are processed under a marker key of their own subtask, never a data key
        assert all(not str(e["mk"]).startswith("k") for e in evs if "mk" in e)
    assert len(completed) >= 5, completed
    for s in subtasks:
        assert len(barriers[s]) == len(set(barriers[s])), barriers[s]
        for n in completed:
            assert barriers[s].count(n) == 1, (s, n)

    # The failure and the restore: R(n) first in every restored subtask, n = the checkpoint
    # the job restarted from, at least the last one whose completion anyone had seen.
    assert any(e["e"] == "FAIL" for e in logs[(0, 0)])
    completed_before = {e["n"] for s in subtasks for e in events(s, 0, "C")}
    restored = set()
    for s in subtasks:
        assert not events(s, 0, "R")
        signals = [e for e in logs[(s, 1)] if e["e"] in ("B", "C", "R", "E")]
        assert signals[0]["e"] == "R", signals[:3]
        assert len(events(s, 1, "R")) == 1
        restored.add(signals[0]["n"])
    assert len(restored) == 1
    n = restored.pop()
    assert n >= max(completed_before) > 0
    # ...and the keyed state restored is exactly what the subtask held when it saw B(n): no
    # record reached the function between B(n) and the snapshot of n.
    for s in subtasks:
        b = [e for e in events(s, 0, "B") if e["n"] == n]
        assert len(b) == 1, (s, n)
        mirror = b[0]["mirror"]
        firsts = {e["k"]: e["restored"] for e in events(s, 1, "first")}
        assert firsts, s
        for key, restored_count in firsts.items():
            assert restored_count == mirror.get(key), (s, key, restored_count, mirror.get(key))
    # B ids after the restore continue above n
    for s in subtasks:
        assert all(e["n"] > n for e in events(s, 1, "B"))

    # End of input: one E per subtask in the final attempt, the last signal it sees.
    for s in subtasks:
        signals = [e for e in logs[(s, 1)] if e["e"] in ("B", "C", "R", "E")]
        assert [e["e"] for e in signals].count("E") == 1
        assert signals[-1]["e"] == "E"
        assert signals[-1]["n"] == 2 ** 63 - 1

    # Exactly once: the final per-key counts are every record once.
    final = {}
    for s in subtasks:
        for e in events(s, 1, "D"):
            final[e["k"]] = e["c"]
    expected = defaultdict(int)
    for tick in range(TICKS):
        expected[f"k{tick % KEYS}"] += BATCH
    assert final == dict(expected)

    lat = {k: sorted(e["lat"] for evs in logs.values() for e in evs if e["e"] == k)
           for k in ("B", "C", "R", "E")}
    summary = {k: (len(v), round(v[len(v) // 2], 1), round(v[-1], 1)) for k, v in lat.items() if v}
    print(f"\njob {elapsed:.1f} s, restored from {n}; signal latency (count, median ms, max ms):"
          f" {summary}")


@pytest.mark.timeout(120)
def test_a_readers_barriers_pass_between_its_ticks(tmp_path):
    """Keyed in place, the reader runs in its tick source's chain: a checkpoint's barrier waits for
    at most a bundle of ticks, not for every tick already due (behind an exchange, all 40 queued
    ahead of the first barrier, and a bounded snapshot completed no checkpoint until its end)."""
    result = _run_child("--reader", str(tmp_path))
    assert result.returncode == 0, result.stdout[-5000:]
    vertices = json.loads((tmp_path / "vertices.json").read_text())
    assert len(vertices) == 1 and vertices[0].startswith("Source: ticks"), vertices
    events = [json.loads(line) for line in (tmp_path / "reader.jsonl").read_text().splitlines()]
    ticks = [e["t"] for e in events if e["e"] == "D"]
    assert ticks == list(range(READER_TICKS))
    barriers_at = [len([e for e in events[:i] if e["e"] == "D"]) for i, e in enumerate(events) if e["e"] == "B"]
    assert len(barriers_at) >= 5 and barriers_at[0] <= 12, barriers_at
    assert events[-1]["e"] == "E"


if __name__ == "__main__":
    if sys.argv[1] == "--checks":
        print(json.dumps(run_checks()))
    elif sys.argv[1] == "--reader":
        run_reader_job(sys.argv[2])
    else:
        run_job(*sys.argv[1:])
