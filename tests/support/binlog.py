"""Shared by the binlog tests: a stream on a LocalMariaDB and draining it."""

from __future__ import annotations

from operators.mysql.binlog.connection import ServerSettings
from operators.mysql.binlog.server_position import current_position
from operators.mysql.binlog.stream import BinlogStream
from operators.mysql.local_server import ROOT_PASSWORD
from operators.mysql.binlog.transaction import RowsChange

_server_ids = iter(range(7000, 8000))


def settings(server) -> ServerSettings:
    return ServerSettings("127.0.0.1", server.port, "root", ROOT_PASSWORD)


def position(server):
    conn = server.connect()
    try:
        return current_position(conn)
    finally:
        conn.close()


def stream(server, start, database=None, **kwargs) -> BinlogStream:
    table_filter = kwargs.pop("table_filter", None) or (lambda d, t: database is None or d == database)
    return BinlogStream(settings(server), start, table_filter, server_id=next(_server_ids), **kwargs)


def drain(s: BinlogStream, until_gtid: str = "", polls: int = 50, wait_s: float = 0.3) -> list:
    """Polls until a poll comes back empty (or the transaction ``until_gtid`` arrived)."""
    out = []
    for _ in range(polls):
        got = s.poll(100_000, wait_s)
        out += got
        if (not got and not until_gtid) or (until_gtid and any(t.gtid == until_gtid for t in got)):
            break
    return out


def rows_of(transactions, image: str = "after") -> list[dict]:
    """Every row image of the transactions' row changes as dicts."""
    out = []
    for t in transactions:
        for c in t.changes:
            if isinstance(c, RowsChange) and getattr(c, image) is not None:
                names = [col.name for col in c.table.columns]
                columns = [a.to_pylist() for a in getattr(c, image)]
                out += [dict(zip(names, values)) for values in zip(*columns)]
    return out
