"""The light boot of a local run's Python workers: ``worker_python`` passes other invocations to
the job's interpreter, and the boot's protobuf modules come without ``apache_beam`` whole."""

import os
import subprocess
import sys

from operators.runtime.worker_boot import PYTHON_VARIABLE, WORKER_PYTHON
from tests.support.paths import ROOT


def test_worker_python_runs_the_jobs_interpreter():
    out = subprocess.run([WORKER_PYTHON, "-c", "import sys; print(sys.executable)"], capture_output=True,
                         text=True, check=True, env={**os.environ, PYTHON_VARIABLE: sys.executable})
    assert out.stdout.strip() == sys.executable


def test_boot_loads_the_fn_api_without_apache_beam_whole():
    code = ("import sys; from operators.runtime.worker_boot import load_beam_protos; "
            "fn_api, _, endpoints = load_beam_protos(); "
            "fn_api.StartWorkerRequest(worker_id='1', provision_endpoint=endpoints.ApiServiceDescriptor(url='x')); "
            "print(sorted(m for m in sys.modules if m.startswith(('apache_beam.io', 'pandas', 'pyarrow'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
