"""The light boot of a local run's Python workers: ``worker_python`` passes other invocations to
the job's interpreter, and the boot's StartWorker call (protobuf and HTTP/2 of its own, standard
library only) reaches a real gRPC server as grpc's own client would send it."""

import os
import subprocess
import sys
import threading
import time
from concurrent import futures

import grpc
import pytest

from operators.runtime.worker_boot import (PYTHON_VARIABLE, START_WORKER_PATH, WORKER_PYTHON, start_worker_error,
                                           start_worker_request)
from tests.support.paths import ROOT

BOOT = os.path.join(ROOT, "operators", "runtime", "worker_boot.py")


def beam_protos():
    """Beam's generated fn-API messages (the reference the boot's own bytes are checked against)."""
    from apache_beam.portability.api.org.apache.beam.model.fn_execution.v1 import beam_fn_api_pb2
    return beam_fn_api_pb2


class WorkerPool:
    """A real gRPC server with Beam's StartWorker method: records each request, holds the call
    until ``release`` is set, then answers with ``error``."""

    def __init__(self, error: str = ""):
        self.fn_api = beam_protos()
        self.requests: list = []
        self.release = threading.Event()
        self.error = error
        handler = grpc.method_handlers_generic_handler(
            START_WORKER_PATH.split("/")[1],
            {"StartWorker": grpc.unary_unary_rpc_method_handler(
                self._start_worker, request_deserializer=self.fn_api.StartWorkerRequest.FromString,
                response_serializer=self.fn_api.StartWorkerResponse.SerializeToString)})
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=[handler])
        self.address = f"127.0.0.1:{self.server.add_insecure_port('127.0.0.1:0')}"
        self.server.start()

    def _start_worker(self, request, context):
        self.requests.append(request)
        self.release.wait(60)
        return self.fn_api.StartWorkerResponse(error=self.error)


@pytest.fixture
def pool_factory():
    pools = []

    def make(error: str = "") -> WorkerPool:
        pools.append(WorkerPool(error))
        return pools[-1]
    yield make
    for pool in pools:
        pool.release.set()
        pool.server.stop(0)


def run_boot(pool: WorkerPool, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    env = {"PATH": os.environ["PATH"], "PYTHON_LOOPBACK_SERVER_ADDRESS": pool.address, **(extra_env or {})}
    return subprocess.Popen([sys.executable, "-S", BOOT, "--id=3-1", "--provision_endpoint=localhost:4711",
                             "--semi_persist_dir", "/tmp/semi"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_request(pool: WorkerPool, boot: subprocess.Popen):
    deadline = time.monotonic() + 30
    while not pool.requests:
        assert boot.poll() is None, boot.communicate()
        assert time.monotonic() < deadline, "the boot's StartWorker never reached the server"
        time.sleep(0.05)
    return pool.requests[0]


def test_worker_python_runs_the_jobs_interpreter():
    out = subprocess.run([WORKER_PYTHON, "-c", "import sys; print(sys.executable)"], capture_output=True,
                         text=True, check=True, env={**os.environ, PYTHON_VARIABLE: sys.executable})
    assert out.stdout.strip() == sys.executable


def test_request_bytes_parse_as_beams_start_worker_request():
    fn_api = beam_protos()
    params = {"PATH": "/bin", "long": "x" * 300, "ünï": "cödé"}
    parsed = fn_api.StartWorkerRequest.FromString(start_worker_request("7-1", "localhost:1", params))
    assert (parsed.worker_id, parsed.provision_endpoint.url, dict(parsed.params)) == ("7-1", "localhost:1", params)


def test_response_error_is_read_from_beams_start_worker_response():
    fn_api = beam_protos()
    assert start_worker_error(fn_api.StartWorkerResponse(error="boom " * 100).SerializeToString()) == "boom " * 100
    assert start_worker_error(fn_api.StartWorkerResponse().SerializeToString()) == ""


@pytest.mark.slow
def test_boot_holds_the_call_until_the_worker_ends_with_a_few_mib(pool_factory):
    pool = pool_factory()
    big = {f"BIG{i}": str(i) * 50_000 for i in range(4)}  # beyond the initial 64 KiB flow-control window
    boot = run_boot(pool, big)
    try:
        request = wait_for_request(pool, boot)
        assert (request.worker_id, request.provision_endpoint.url) == ("3-1", "localhost:4711")
        assert request.params["SEMI_PERSISTENT_DIRECTORY"] == "/tmp/semi"
        assert {k: v for k, v in request.params.items() if k.startswith("BIG")} == big
        time.sleep(0.5)
        assert boot.poll() is None, "the boot must wait for the worker to end"
        with open(f"/proc/{boot.pid}/status") as f:
            rss_kib = int(next(line for line in f if line.startswith("VmRSS:")).split()[1])
        assert rss_kib < 16 * 1024, f"{rss_kib} KiB resident"
        pool.release.set()
        assert boot.wait(30) == 0, boot.communicate()
    finally:
        boot.kill()
        boot.wait()


@pytest.mark.slow
def test_boot_fails_with_the_pools_error(pool_factory):
    pool = pool_factory("Traceback: no module named foo")
    pool.release.set()
    boot = run_boot(pool)
    try:
        _, err = boot.communicate(timeout=30)
        assert boot.returncode != 0
        assert "the Python worker failed to start: Traceback: no module named foo" in err
    finally:
        boot.kill()
        boot.wait()
