"""A light boot for the Python workers of a local run (PyFlink's loopback mode).

On a mini-cluster PyFlink runs every Python operator as threads of the client process, but Flink
still starts one boot process per operator (``pyflink-udf-runner.sh`` -> ``beam_boot``), which
asks the client to start the worker and then waits, for the whole job, for that call to return.
``beam_boot`` imports ``apache_beam`` whole (pandas, boto3, pymongo, ...): ~176 MiB resident per
operator, five times in a CDC job. This boot sends the same ``StartWorker`` request importing
only grpc and the protobuf modules it needs (~31 MiB).

On a local run the workers' ``python.executable`` is ``worker_python`` (set by
``runtime/job_config.py``), which runs ``worker_boot.py --id ... --provision_endpoint ...`` in
place of ``-m pyflink.fn_execution.beam.beam_boot`` when a loopback server is there, and the
interpreter unchanged otherwise.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import types

def load_beam_protos():
    """The generated protobuf modules of Beam's fn API, without running ``apache_beam/__init__``
    (a package module with the installed package's path stands in for it)."""
    if "apache_beam" not in sys.modules:
        package = types.ModuleType("apache_beam")
        package.__path__ = list(importlib.util.find_spec("apache_beam").submodule_search_locations)
        sys.modules["apache_beam"] = package
    from apache_beam.portability.api.org.apache.beam.model.fn_execution.v1 import beam_fn_api_pb2, beam_fn_api_pb2_grpc
    from apache_beam.portability.api.org.apache.beam.model.pipeline.v1 import endpoints_pb2
    return beam_fn_api_pb2, beam_fn_api_pb2_grpc, endpoints_pb2


def start_worker(loopback_address: str, worker_id: str, provision_endpoint: str, semi_persist_dir: str) -> None:
    """Asks the client's loopback worker pool to run the worker; returns when the worker ends."""
    import grpc
    fn_api, fn_api_grpc, endpoints = load_beam_protos()
    params = {**os.environ, "SEMI_PERSISTENT_DIRECTORY": semi_persist_dir}
    request = fn_api.StartWorkerRequest(worker_id=worker_id, params=params,
                                        provision_endpoint=endpoints.ApiServiceDescriptor(url=provision_endpoint))
    with grpc.insecure_channel(loopback_address) as channel:
        response = fn_api_grpc.BeamFnExternalWorkerPoolStub(channel).StartWorker(request)
    if response.error:
        raise RuntimeError(f"the Python worker failed to start: {response.error}")


WORKER_PYTHON = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker_python")
"""The workers' ``python.executable`` on a local run: a shell script that runs this boot (Flink
also runs the executable with ``-c`` to find its runner script, which the script passes on)."""

PYTHON_VARIABLE = "PAIMON_CDC_PYTHON"


def use_light_boot() -> str:
    """Makes the JVM about to start (and so the workers' boot processes) run ``worker_python``
    under the running interpreter; returns the ``python.executable`` to set."""
    os.environ[PYTHON_VARIABLE] = sys.executable
    return WORKER_PYTHON


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--id", required=True)
    parser.add_argument("--provision_endpoint", required=True)
    parser.add_argument("--semi_persist_dir", default="/tmp")
    args, _ = parser.parse_known_args(argv)
    start_worker(os.environ["PYTHON_LOOPBACK_SERVER_ADDRESS"], args.id, args.provision_endpoint,
                 args.semi_persist_dir)


if __name__ == "__main__":
    main(sys.argv[1:])
