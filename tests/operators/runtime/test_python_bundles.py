"""Every Python operator of a CDC job runs with its own bundle limits, as the job finally runs it.

The check reads the operators' configuration after PyFlink's own execute-time steps (the
environment's Python options copied over each operator's, Python operators chained), which is
where a bundle size set in ``flink-conf/`` silently replaced every operator's own before.
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

SCRIPT = r"""
import json, sys
from argparse import Namespace
from jobs.sync_synthetic import build

args = Namespace(warehouse=sys.argv[1], positions=10, ticks_per_second=20.0, writer_parallelism=2,
                 commit_user="bundles", fail=[], failure_dir=None, flink_conf=sys.argv[2:])
env = build(args)
graph = env._generate_stream_graph(clear_transformations=False)
from pyflink.java_gateway import get_gateway
jvm = get_gateway().jvm
base = jvm.java.lang.Class.forName(
    "org.apache.flink.streaming.api.operators.python.AbstractPythonFunctionOperator")
sizes = {}
for node in graph.getStreamNodes().toArray():
    factory = node.getOperatorFactory()
    if factory is None or not hasattr(factory, "getOperator"):
        continue
    operator = factory.getOperator()
    if base.isInstance(operator):
        sizes[node.getOperatorName()] = operator.getConfiguration().toMap().get("python.fn-execution.bundle.size")
print(json.dumps(sizes))
"""


def python_bundle_sizes(warehouse, *flink_conf: str) -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(warehouse), *flink_conf], cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": ROOT}, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_every_python_operator_has_its_own_bundle_limits(tmp_path):
    sizes = python_bundle_sizes(tmp_path)
    # the ticks become envelopes in Java: no Python operator of their own
    assert sizes == {"synthetic reader, change parser": "4", "dynamic bucket assigner": "1000",
                     "paimon writer": "1000", "paimon committer and schema evolution": "1"}, sizes


@pytest.mark.slow
def test_a_bundle_size_in_the_environment_replaces_every_operators_own(tmp_path):
    """Why ``flink-conf/`` sets none: PyFlink's execute copies it over every operator."""
    sizes = python_bundle_sizes(tmp_path, "python.fn-execution.bundle.size=1000")
    assert set(sizes.values()) == {"1000"}, sizes
