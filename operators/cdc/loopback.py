"""``loopback_port``: a free 127.0.0.1 port for a server this package starts (a local job's web
UI, a private PostgreSQL or MariaDB, a test cluster)."""

from __future__ import annotations

import random
import socket

EPHEMERAL_FLOOR = 10000
"""The lowest port ``loopback_port`` picks (well above the well-known and registered services' usual ports)."""


def loopback_port() -> int:
    """A free loopback port below the kernel's ephemeral range: a port-0 bind (a client's outgoing
    connection, the mini-cluster's own RPC and blob servers) never takes it between this check and
    the server's bind, which a free ephemeral port could lose (seen once: Flink's
    ``BindException``). A port of the ephemeral range when the range leaves no room below it."""
    low = _ephemeral_ports_start()
    for port in random.sample(range(EPHEMERAL_FLOOR, low), min(100, max(0, low - EPHEMERAL_FLOOR))):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ephemeral_ports_start() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default
