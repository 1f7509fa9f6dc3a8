"""How the snapshot reader has the server format a row: one CSV line per row, each value in a
form pyarrow parses exactly, and the conversion of the parsed columns into canonical arrays.

| MySQL type | sent as | canonical from it |
|---|---|---|
| integers, YEAR | the number | as parsed (YEAR 0000 is 0) |
| FLOAT | ``CAST(CAST(c AS DOUBLE) AS CHAR(64))`` (the column's text has 6 digits only) | float64 -> float32, exact |
| DOUBLE | ``CAST(c AS CHAR(64))``: the shortest text that round-trips (the plain column would be cut to its display width, 22, in the chunk's derived table) | as parsed |
| DECIMAL | the digits | decimal128(p, s), or the text when p > 38 |
| BIT | ``CAST(c AS UNSIGNED)`` | big-endian bytes |
| DATE | ``TO_DAYS(c) - 719528`` (days since 1970; NULL for zero dates) | date32 |
| TIME | ``TIME_TO_SEC(c) * 1000000`` | duration(us) |
| DATETIME, TIMESTAMP | ``TIMESTAMPDIFF(MICROSECOND, '1970-01-01', c)`` in a ``+00:00`` session | timestamp(us[, UTC]) |
| text, ENUM, SET, JSON, UUID, INET* | quoted UTF-8 (``CONVERT(c USING utf8mb4)``, ``"`` doubled) | string; SET split at commas |
| binary, BLOB | quoted bytes as stored (BINARY(n): n bytes) | binary |
| GEOMETRY | ``HEX(c)`` (SRID + WKB) | binary |

NULL is an empty unquoted field; an empty string is ``""``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from operators.mysql.canonical import BINARY_TYPES, GEOMETRY_TYPES, INTEGER_TYPES, canonical_arrow_type
from operators.mysql.source_table import MySqlTable, MySqlType

DAYS_TO_1970 = 719528
"""``TO_DAYS('1970-01-01')``."""
EPOCH_MICROS = "TIMESTAMPDIFF(MICROSECOND, '1970-01-01', {})"

_NUMBER_SQL = {
    "float": "CAST(CAST({} AS DOUBLE) AS CHAR(64))", "double": "CAST({} AS CHAR(64))", "real": "CAST({} AS CHAR(64))",
    "bit": "CAST({} AS UNSIGNED)", "date": "TO_DAYS({}) - %d" % DAYS_TO_1970,
    "time": "CAST(TIME_TO_SEC({}) * 1000000 AS SIGNED)", "datetime": EPOCH_MICROS, "timestamp": EPOCH_MICROS,
}
_NUMBER_CSV = {
    "float": pa.float64(), "double": pa.float64(), "real": pa.float64(), "bit": pa.uint64(), "date": pa.int64(), "time": pa.int64(), "datetime": pa.int64(),
    "timestamp": pa.int64(),
}


def _is_binary(t: MySqlType) -> bool:
    return t.name in BINARY_TYPES or t.charset == "binary"


def value_sql(name: str, t: MySqlType) -> str:
    """The SQL text of one value of column ``name`` (quoted identifier) in the line."""
    if t.name in _NUMBER_SQL:
        return _NUMBER_SQL[t.name].format(name)
    if t.name in GEOMETRY_TYPES:
        return f"HEX({name})"
    if _is_binary(t):
        return f"CONCAT('\"', REPLACE({name}, '\"', '\"\"'), '\"')"
    if t.name not in ("decimal", "numeric") and (t.name == "set" or pa.types.is_string(canonical_arrow_type(t))):
        return f"CONCAT('\"', REPLACE(CONVERT({name} USING utf8mb4), '\"', '\"\"'), '\"')"
    return name


def csv_line(table: MySqlTable) -> str:
    """The SQL expression of a row's CSV line (binary)."""
    values = ", ".join(f"IFNULL({value_sql(quote_name(c.name), c.type)}, '')" for c in table.columns)
    return f"CONVERT(CONCAT_WS(',', {values}) USING binary)"


def csv_type(t: MySqlType) -> pa.DataType:
    """The Arrow type pyarrow parses the value into."""
    if t.name in _NUMBER_CSV:
        return _NUMBER_CSV[t.name]
    if t.name in GEOMETRY_TYPES or t.name == "set":
        return pa.string()
    return canonical_arrow_type(t)


def to_canonical(array: pa.Array, t: MySqlType) -> pa.Array:
    """A parsed column as the canonical array of type ``t``."""
    canonical = canonical_arrow_type(t)
    if t.name == "bit":
        return big_endian_bytes(array, ((t.length or 1) + 7) // 8)
    if t.name in GEOMETRY_TYPES:
        return pa.array([None if v is None else bytes.fromhex(v) for v in array.to_pylist()], pa.binary())
    if t.name == "set":
        return split_set(array)
    if t.name == "date":
        return array.cast(pa.int32()).cast(canonical)
    if t.name in INTEGER_TYPES or array.type == canonical:
        return array
    return array.cast(canonical)


def split_set(array: pa.Array) -> pa.Array:
    """``'a,b'`` -> ``['a', 'b']``, ``''`` -> ``[]`` (SET elements cannot hold commas)."""
    parts = pc.split_pattern(array, ",")
    empty = pa.array([[]] * len(array), pa.list_(pa.string()))
    return pc.if_else(pc.equal(array, ""), empty, parts)


def big_endian_bytes(values: pa.Array, width: int) -> pa.Array:
    """uint64 values as ``width``-byte big-endian binary values."""
    numbers = values.fill_null(0).to_numpy(zero_copy_only=False).astype(">u8")
    data = numbers.view(np.uint8).reshape(-1, 8)[:, 8 - width:].tobytes()
    validity = values.is_valid().buffers()[1] if values.null_count else None
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(values), [validity, pa.py_buffer(data)],
                                                 values.null_count)
    return fixed.cast(pa.binary())


def quote_name(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
