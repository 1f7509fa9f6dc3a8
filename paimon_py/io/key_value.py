"""The physical layout of primary-key data files (format §6.1).

A key-value file holds ``_KEY_<k>`` for each trimmed primary-key column, ``_SEQUENCE_NUMBER``,
``_VALUE_KIND`` and then every table column. Readers here take keys from the value columns, so
they also read thin-mode files (no ``_KEY_`` columns).
"""

from __future__ import annotations

from typing import Sequence

import pyarrow as pa

KEY_PREFIX = "_KEY_"
SEQUENCE_NUMBER = "_SEQUENCE_NUMBER"
VALUE_KIND = "_VALUE_KIND"


def to_key_value_table(data: pa.Table, key_names: Sequence[str], sequence: pa.Array,
                       kinds: pa.Array) -> pa.Table:
    """Prefix ``data`` (table columns in schema order) with key and system columns."""
    columns, fields = [], []
    for name in key_names:
        field = data.schema.field(name)
        columns.append(data.column(name))
        fields.append(pa.field(KEY_PREFIX + name, field.type, nullable=False))
    columns += [sequence, kinds]
    fields += [pa.field(SEQUENCE_NUMBER, pa.int64(), nullable=False),
               pa.field(VALUE_KIND, pa.int8(), nullable=False)]
    columns += data.columns
    fields += list(data.schema)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))
