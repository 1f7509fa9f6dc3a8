"""A light boot for the Python workers of a local run (PyFlink's loopback mode).

On a mini-cluster PyFlink runs every Python operator as threads of the client process, but Flink
still starts one boot process per operator (``pyflink-udf-runner.sh`` -> ``beam_boot``), which
asks the client to start the worker and then waits, for the whole job, for that call to return.
``beam_boot`` imports ``apache_beam`` whole (pandas, boto3, pymongo, ...): ~176 MiB resident per
operator. This boot makes the same ``StartWorker`` call with nothing but the standard library's
``socket``: the request's protobuf bytes and one gRPC call over HTTP/2 written here (~10 MiB
resident under ``python -S``, against ~37 MiB with grpc and the protobuf modules imported).

On a local run the workers' ``python.executable`` is ``worker_python`` (set by
``runtime/job_config.py``), which runs ``worker_boot.py --id ... --provision_endpoint ...`` in
place of ``-m pyflink.fn_execution.beam.beam_boot`` when a loopback server is there, and the
interpreter unchanged otherwise. Run as a script, this module imports only the standard library.
"""

from __future__ import annotations

import os
import socket
import struct
import sys

START_WORKER_PATH = "/org.apache.beam.model.fn_execution.v1.BeamFnExternalWorkerPool/StartWorker"

WORKER_PYTHON = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker_python")
"""The workers' ``python.executable`` on a local run: a shell script that runs this boot (Flink
also runs the executable with ``-c`` to find its runner script, which the script passes on)."""

PYTHON_VARIABLE = "PAIMON_CDC_PYTHON"
RUNNER_DIR_VARIABLE = "PYFLINK_UDF_RUNNER_DIR"
"""Read by Flink's ``PythonEnvironmentManagerUtils.getPythonUdfRunnerScript`` before it asks Python."""


def use_light_boot() -> str:
    """Makes the JVM about to start (and so the workers' boot processes) run ``worker_python``
    under the running interpreter, and tells it where PyFlink's runner script is (Flink otherwise
    starts the workers' Python once per operator to ask, ~0.2 s each as the job starts); returns
    the ``python.executable`` to set."""
    import pyflink

    os.environ[PYTHON_VARIABLE] = sys.executable
    os.environ.setdefault(RUNNER_DIR_VARIABLE, os.path.join(os.path.dirname(os.path.abspath(pyflink.__file__)), "bin"))
    return WORKER_PYTHON


# --- protobuf: Beam's StartWorkerRequest / StartWorkerResponse ----------------------------------

def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (strings and messages)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def start_worker_request(worker_id: str, provision_endpoint: str, params: dict[str, str]) -> bytes:
    """``StartWorkerRequest{worker_id=1, provision_endpoint=5 {url=1}, params=10 (map)}``."""
    out = _field(1, worker_id.encode()) + _field(5, _field(1, provision_endpoint.encode()))
    for key, value in params.items():
        out += _field(10, _field(1, key.encode()) + _field(2, value.encode()))
    return out


def start_worker_error(response: bytes) -> str:
    """``StartWorkerResponse.error`` (field 1), empty when the worker ran and ended normally."""
    pos, error = 0, b""
    while pos < len(response):
        key, pos = _read_varint(response, pos)
        if key & 7 == 0:
            _, pos = _read_varint(response, pos)
            continue
        if key & 7 != 2:
            raise ValueError(f"unexpected wire type {key & 7} in StartWorkerResponse")
        size, pos = _read_varint(response, pos)
        if key >> 3 == 1:
            error = response[pos:pos + size]
        pos += size
    return error.decode(errors="replace")


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


# --- one unary gRPC call over HTTP/2 (RFC 9113; headers as HPACK literals, RFC 7541) ------------

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x8
END_STREAM = ACK = 0x1
END_HEADERS, PADDED = 0x4, 0x8
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DEFAULT_WINDOW, MAX_FRAME = 65535, 16384
SETTINGS_INITIAL_WINDOW_SIZE = 0x4
STREAM = 1


def _frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes((kind, flags)) + struct.pack(">I", stream) + payload


def _hpack_string(text: str) -> bytes:
    raw = text.encode()
    if len(raw) < 127:
        return bytes((len(raw),)) + raw
    rest, out = len(raw) - 127, bytearray((127,))
    while rest >= 128:
        out.append(rest % 128 | 0x80)
        rest //= 128
    return bytes(out) + bytes((rest,)) + raw


def _hpack_headers(headers: list[tuple[str, str]]) -> bytes:
    """Every header as a literal without indexing and with a new name: no tables to keep."""
    return b"".join(b"\x00" + _hpack_string(name) + _hpack_string(value) for name, value in headers)


class Http2Call:
    """One unary gRPC call on its own connection; ``result()`` blocks until the response ends,
    answering the server's SETTINGS and PINGs meanwhile (a call can last as long as a job)."""

    def __init__(self, address: str, path: str, message: bytes):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)))
        self.send_window = {0: DEFAULT_WINDOW, STREAM: DEFAULT_WINDOW}
        self.body = b"\x00" + struct.pack(">I", len(message)) + message
        self.data = b""
        headers = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", address),
                   ("content-type", "application/grpc"), ("te", "trailers")]
        self.sock.sendall(PREFACE + _frame(SETTINGS, 0, 0) +
                          _frame(HEADERS, END_HEADERS, STREAM, _hpack_headers(headers)))

    def result(self) -> bytes:
        """The response message (without gRPC's 5-byte prefix)."""
        try:
            while True:
                self._send_body()
                kind, flags, stream, payload = self._read_frame()
                if self._handle(kind, flags, stream, payload):
                    break
        finally:
            self.sock.close()
        if len(self.data) < 5:
            raise RuntimeError("the loopback worker pool ended the StartWorker call without a response "
                               "(see the job's client log)")
        size = struct.unpack(">I", self.data[1:5])[0]
        return self.data[5:5 + size]

    def _send_body(self) -> None:
        while self.body:
            size = min(len(self.body), MAX_FRAME, self.send_window[0], self.send_window[STREAM])
            if size <= 0:
                return
            chunk, self.body = self.body[:size], self.body[size:]
            self.send_window[0] -= size
            self.send_window[STREAM] -= size
            self.sock.sendall(_frame(DATA, 0 if self.body else END_STREAM, STREAM, chunk))

    def _handle(self, kind: int, flags: int, stream: int, payload: bytes) -> bool:
        """Processes one frame; True once the response has ended."""
        if kind == SETTINGS and not flags & ACK:
            self._apply_settings(payload)
            self.sock.sendall(_frame(SETTINGS, ACK, 0))
        elif kind == PING and not flags & ACK:
            self.sock.sendall(_frame(PING, ACK, 0, payload))
        elif kind == WINDOW_UPDATE:
            self.send_window[stream] = self.send_window.get(stream, 0) + (struct.unpack(">I", payload)[0] & 0x7FFFFFFF)
        elif kind == GOAWAY or (kind == RST_STREAM and stream == STREAM):
            return True
        elif stream == STREAM and kind in (DATA, HEADERS):
            if kind == DATA:
                self.data += payload[1:len(payload) - payload[0]] if flags & PADDED else payload
            return bool(flags & END_STREAM)
        return False

    def _apply_settings(self, payload: bytes) -> None:
        for offset in range(0, len(payload), 6):
            identifier, value = struct.unpack(">HI", payload[offset:offset + 6])
            if identifier == SETTINGS_INITIAL_WINDOW_SIZE:
                self.send_window[STREAM] += value - DEFAULT_WINDOW

    def _read_frame(self) -> tuple[int, int, int, bytes]:
        header = self._read_exactly(9)
        size = int.from_bytes(header[:3], "big")
        stream = struct.unpack(">I", header[5:9])[0] & 0x7FFFFFFF
        return header[3], header[4], stream, self._read_exactly(size)

    def _read_exactly(self, size: int) -> bytes:
        out = bytearray()
        while len(out) < size:
            chunk = self.sock.recv(size - len(out))
            if not chunk:
                raise RuntimeError("the loopback worker pool closed the connection during StartWorker")
            out += chunk
        return bytes(out)


# --- the boot -------------------------------------------------------------------------------------

def start_worker(loopback_address: str, worker_id: str, provision_endpoint: str, semi_persist_dir: str) -> None:
    """Asks the client's loopback worker pool to run the worker; returns when the worker ends."""
    params = {**os.environ, "SEMI_PERSISTENT_DIRECTORY": semi_persist_dir}
    request = start_worker_request(worker_id, provision_endpoint, params)
    error = start_worker_error(Http2Call(loopback_address, START_WORKER_PATH, request).result())
    if error:
        raise RuntimeError(f"the Python worker failed to start: {error}")


def _option(argv: list[str], name: str, default: str | None = None) -> str:
    """``--name=value`` or ``--name value`` (as Flink passes them), no argparse to import."""
    for i, arg in enumerate(argv):
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
        if arg == f"--{name}" and i + 1 < len(argv):
            return argv[i + 1]
    if default is None:
        raise SystemExit(f"worker_boot: --{name} is required")
    return default


def main(argv: list[str]) -> None:
    start_worker(os.environ["PYTHON_LOOPBACK_SERVER_ADDRESS"], _option(argv, "id"),
                 _option(argv, "provision_endpoint"), _option(argv, "semi_persist_dir", "/tmp"))


if __name__ == "__main__":
    main(sys.argv[1:])
