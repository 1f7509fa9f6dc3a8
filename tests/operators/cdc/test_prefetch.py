"""``Prefetcher``: reads ahead on its own thread, in order, bounded in bytes; marks only when drained;
errors after the messages read before them. A real socket pair stands for the server's connection."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

from operators.cdc.prefetch import READ_WAIT_S, Prefetcher


class SocketSource:
    """Reads newline-separated messages from a socket; the mark is the count read so far."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""
        self.read_count = 0
        self.reads = 0

    def read(self, timeout: float) -> list[bytes]:
        self.reads += 1
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(4096)
        except socket.timeout:
            return []
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        self.read_count += len(lines)
        return lines


@pytest.fixture
def pair():
    server, client = socket.socketpair()
    yield server, client
    server.close()
    client.close()


@contextlib.contextmanager
def prefetching(sock: socket.socket, size_of=len, max_bytes: int = 1 << 20):
    """A ``SocketSource`` on ``sock`` and its ``Prefetcher`` (marks: messages read), closed after."""
    source = SocketSource(sock)
    prefetcher = Prefetcher(source.read, size_of, max_bytes, "test prefetch", lambda: source.read_count)
    try:
        yield source, prefetcher
    finally:
        prefetcher.close()


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_reads_ahead_of_take_and_hands_over_in_order(pair):
    server, client = pair
    with prefetching(client) as (source, prefetcher):
        server.sendall(b"".join(b"m%d\n" % i for i in range(1000)))
        wait_for(lambda: source.read_count == 1000)  # read without anyone taking
        assert prefetcher.take(400, 0) == [b"m%d" % i for i in range(400)]
        assert prefetcher.mark is None, "a mark must wait until the queue is empty"
        assert prefetcher.take(10_000, 0) == [b"m%d" % i for i in range(400, 1000)]
        assert prefetcher.mark == 1000
        started = time.monotonic()
        assert prefetcher.take(10, 0.3) == []
        assert time.monotonic() - started >= 0.25, "take waits for the first message"


def test_take_wakes_when_a_message_arrives(pair):
    server, client = pair
    with prefetching(client) as (_, prefetcher):
        threading.Timer(0.2, lambda: server.sendall(b"late\n")).start()
        started = time.monotonic()
        assert prefetcher.take(10, 5.0) == [b"late"]
        assert time.monotonic() - started < 2.0


def test_stops_reading_while_the_queue_is_full(pair):
    server, client = pair
    with prefetching(client, lambda m: 1000, 10_000) as (source, prefetcher):
        server.sendall(b"x\n" * 5000)
        wait_for(lambda: source.read_count >= 10)
        time.sleep(5 * READ_WAIT_S)
        held = source.read_count
        assert held < 5000, "the thread must stop at its byte budget"
        taken = prefetcher.take(5000, 0)
        wait_for(lambda: source.read_count > held)  # room again: it reads on
        taken += prefetcher.take(5000, 1.0)
        while len(taken) < 5000:
            taken += prefetcher.take(5000, 1.0)
        assert taken == [b"x"] * 5000


def test_an_error_comes_after_the_messages_read_before_it(pair):
    server, client = pair
    with prefetching(client) as (source, prefetcher):
        server.sendall(b"a\nb\n")
        server.shutdown(socket.SHUT_WR)
        wait_for(lambda: source.reads >= 2)
        time.sleep(0.1)
        assert prefetcher.take(1, 1.0) == [b"a"]
        assert prefetcher.take(10, 1.0) == [b"b"]
        with pytest.raises(ConnectionError, match="closed the connection"):
            prefetcher.take(10, 1.0)


def test_close_stops_the_thread(pair):
    _, client = pair
    with prefetching(client):
        started = time.monotonic()
    assert time.monotonic() - started < 1.0
    assert not any(t.name == "test prefetch" for t in threading.enumerate())
