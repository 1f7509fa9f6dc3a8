"""Checks and casts user input to the table schema before anything is written."""

from __future__ import annotations

import pyarrow as pa

from paimon_py.data.row_kind import all_inserts, from_short_strings
from paimon_py.exceptions import InvalidDataError
from paimon_py.schema.table_schema import TableSchema
from paimon_py.types import to_arrow_field


def conform_to_schema(data: pa.Table, schema: TableSchema) -> pa.Table:
    """``data`` with exactly the schema's columns, in order and types; clear errors otherwise."""
    names = schema.field_names
    missing = [n for n in names if n not in data.column_names]
    extra = [n for n in data.column_names if n not in names]
    if missing or extra:
        raise InvalidDataError(f"Input does not match the table schema {names}: "
                               f"missing columns {missing}, unknown columns {extra}.")
    columns, fields = [], []
    for field in schema.fields:
        arrow_field = to_arrow_field(field)
        column = data.column(field.name)
        if column.type != arrow_field.type:
            column = _cast(column, arrow_field, field.name)
        if not field.type.nullable and column.null_count:
            key = "primary key " if field.name in schema.primary_keys else ""
            raise InvalidDataError(f"Column '{field.name}' is a NOT NULL {key}column but the input holds "
                                   f"{column.null_count} NULL value(s); fill or drop those rows.")
        columns.append(column)
        fields.append(arrow_field)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _cast(column: pa.ChunkedArray, field: pa.Field, name: str) -> pa.ChunkedArray:
    """Lossless casts within a type family (and integers to floats/decimals) only."""
    source = _family(column.type)
    target = _family(field.type)
    if source != target and source != "null" and not (source == "integer" and target in ("floating", "decimal")):
        raise TypeError(f"Column '{name}' has type {column.type} but the table declares "
                        f"{field.type}; convert the column before writing.")
    try:
        return column.cast(field.type, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise TypeError(f"Column '{name}' has type {column.type}, which does not convert to the "
                        f"table type {field.type} without loss: {error}") from None


_FAMILIES = [
    ("null", pa.types.is_null), ("boolean", pa.types.is_boolean), ("integer", pa.types.is_integer),
    ("floating", pa.types.is_floating), ("decimal", pa.types.is_decimal),
    ("string", lambda t: pa.types.is_string(t) or pa.types.is_large_string(t)),
    ("binary", lambda t: pa.types.is_binary(t) or pa.types.is_large_binary(t)
     or pa.types.is_fixed_size_binary(t)),
    ("date", pa.types.is_date), ("time", pa.types.is_time), ("timestamp", pa.types.is_timestamp),
]


def _family(arrow_type: pa.DataType) -> str:
    if pa.types.is_dictionary(arrow_type):
        return _family(arrow_type.value_type)
    for name, test in _FAMILIES:
        if test(arrow_type):
            return name
    return str(arrow_type)


def row_kinds(data: pa.Table, schema: TableSchema) -> pa.Array:
    """Row kind codes (0 +I, 1 -U, 2 +U, 3 -D) from ``rowkind.field``; all +I without it."""
    field = schema.core_options.rowkind_field
    if field is None:
        return all_inserts(data.num_rows)
    return from_short_strings(data.column(field), f"Column '{field}' (option 'rowkind.field')")
