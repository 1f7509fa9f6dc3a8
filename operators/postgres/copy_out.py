"""``copy_out``: the rows of a ``COPY ... TO STDOUT``, drained in C without the interpreter lock.

psycopg2's ``copy_expert`` takes one row per ``PQgetCopyData`` call and releases and retakes the
interpreter lock around each, then writes the row to a Python file: beside a thread running
Python code every row waits for the lock (measured: 1M rows of the snapshot benchmark's table in
0.5 s alone, 31-54 s beside one thread looping in Python). Here the query is sent on psycopg2's
own connection (``pgconn_ptr``) with libpq's functions (resolved through psycopg2's module, so
the same libpq), and ``copy_out.c`` moves every row into one buffer in a single call that holds
no lock; the buffer becomes a pyarrow buffer without a copy. Errors raise psycopg2's exception
classes, as ``copy_expert`` would.
"""

from __future__ import annotations

import ctypes
from functools import lru_cache

import psycopg2
import psycopg2._psycopg
import psycopg2.errors
import psycopg2.extensions
import pyarrow as pa

from operators.postgres import native

INITIAL_BYTES = 1 << 20
"""The drain's first buffer; it doubles as rows arrive."""

PGRES_COMMAND_OK, PGRES_COPY_OUT = 1, 3
PG_DIAG_SQLSTATE = ord("C")


def copy_out(conn, statement: str) -> pa.Buffer:
    """What ``statement`` (``COPY ... TO STDOUT ...``) sends, run on the psycopg2 connection
    ``conn`` (idle, in autocommit mode or inside a transaction begun with a cursor)."""
    pq, drain = _libpq(), _drain()
    pgconn = conn.pgconn_ptr
    if not pq.PQsendQuery(pgconn, statement.encode(psycopg2.extensions.encodings[conn.encoding])):
        raise psycopg2.OperationalError(_text(pq.PQerrorMessage(pgconn)))
    _expect(pq, pgconn, PGRES_COPY_OUT)
    data, size = ctypes.c_void_p(), ctypes.c_int64()
    status = drain.copy_out_drain(pgconn, ctypes.cast(pq.PQgetCopyData, ctypes.c_void_p),
                                  ctypes.cast(pq.PQfreemem, ctypes.c_void_p), INITIAL_BYTES,
                                  ctypes.byref(data), ctypes.byref(size))
    if status != 0:
        message = "out of memory" if status == -3 else _text(pq.PQerrorMessage(pgconn))
        _discard_results(pq, pgconn)
        raise psycopg2.OperationalError(f"COPY failed: {message}")
    owner = _Allocation(drain, data.value)
    _expect(pq, pgconn, PGRES_COMMAND_OK)
    _discard_results(pq, pgconn)
    return pa.foreign_buffer(data.value, size.value, base=owner)


class _Allocation:
    """Frees the drain's buffer once the pyarrow buffer over it is gone."""

    def __init__(self, drain: ctypes.CDLL, address: int):
        self.drain = drain
        self.address = address

    def __del__(self) -> None:
        self.drain.copy_out_free(self.address)


def _expect(pq: ctypes.CDLL, pgconn: int, status: int) -> None:
    """Takes the next result, which must have ``status`` (COPY_OUT: no other result follows
    until the copy ends; COMMAND_OK: the last), raising the server's error otherwise."""
    result = pq.PQgetResult(pgconn)
    try:
        if result and pq.PQresultStatus(result) == status:
            return
        error = _error(pq, pgconn, result)
    finally:
        pq.PQclear(result)
    _discard_results(pq, pgconn)
    raise error


def _error(pq: ctypes.CDLL, pgconn: int, result) -> psycopg2.Error:
    if not result:
        return psycopg2.OperationalError(_text(pq.PQerrorMessage(pgconn)) or "the connection returned no result")
    message = _text(pq.PQresultErrorMessage(result)) or f"unexpected result status {pq.PQresultStatus(result)}"
    code = pq.PQresultErrorField(result, PG_DIAG_SQLSTATE)
    try:
        kind = psycopg2.errors.lookup(code.decode()) if code else psycopg2.DatabaseError
    except KeyError:
        kind = psycopg2.DatabaseError
    return kind(message.removeprefix("ERROR:  "))


def _discard_results(pq: ctypes.CDLL, pgconn: int) -> None:
    """Reads what is left of the command, so the connection is idle again."""
    while result := pq.PQgetResult(pgconn):
        pq.PQclear(result)


def _text(message: bytes) -> str:
    return (message or b"").decode("utf-8", "replace").strip()


@lru_cache(maxsize=None)
def _libpq() -> ctypes.CDLL:
    """libpq's functions, as psycopg2's module is linked with them."""
    pq = ctypes.CDLL(psycopg2._psycopg.__file__)
    for name, restype, argtypes in (
            ("PQsendQuery", ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p]),
            ("PQgetResult", ctypes.c_void_p, [ctypes.c_void_p]),
            ("PQresultStatus", ctypes.c_int, [ctypes.c_void_p]),
            ("PQresultErrorMessage", ctypes.c_char_p, [ctypes.c_void_p]),
            ("PQresultErrorField", ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_int]),
            ("PQerrorMessage", ctypes.c_char_p, [ctypes.c_void_p]),
            ("PQclear", None, [ctypes.c_void_p])):
        function = getattr(pq, name)
        function.restype, function.argtypes = restype, argtypes
    return pq


@lru_cache(maxsize=None)
def _drain() -> ctypes.CDLL:
    # CDLL (not PyDLL): the call releases the interpreter lock for the whole copy
    drain = ctypes.CDLL(str(native.build("copy_out")))
    drain.copy_out_drain.restype = ctypes.c_int
    drain.copy_out_drain.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                     ctypes.c_void_p, ctypes.c_void_p]
    drain.copy_out_free.restype = None
    drain.copy_out_free.argtypes = [ctypes.c_void_p]
    return drain
