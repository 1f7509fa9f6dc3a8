"""Row kinds travel as ``int8`` Paimon ``RowKind`` values from the decoders to the writer: the
PostgreSQL decoder (fed hand-built pgoutput messages, no server), its ``TableMapping``, the
synthetic source; ``ChangeBatch`` refuses any other encoding; the short strings stay at the user
edges (``rowkind.field``, a read's ``_row_kind``)."""

from __future__ import annotations

import struct

import pyarrow as pa
import pytest

from operators.cdc.change_batch import ROW_KIND, ROW_KIND_FIELD, ChangeBatch
from operators.cdc.table_spec import TableSpec
from operators.postgres.change_decoder import ChangeDecoder
from operators.postgres.replication import SourceColumn
from operators.postgres.table_mapping import TableMapping
from operators.postgres.types import PgType
from operators.synthetic.synthetic_source import SyntheticChangeStream
from paimon_py.data.row_kind import SHORT_STRINGS, RowKind, from_short_strings, to_short_strings
from paimon_py.exceptions import InvalidDataError

I, UB, UA, D = (int(k) for k in (RowKind.INSERT, RowKind.UPDATE_BEFORE, RowKind.UPDATE_AFTER, RowKind.DELETE))
OID = 16384


def _tuple(values) -> bytes:
    out = struct.pack(">h", len(values))
    for v in values:
        out += b"n" if v is None else b"t" + struct.pack(">i", len(v)) + v.encode()
    return out


def _messages() -> list[bytes]:
    relation = (b"R" + struct.pack(">I", OID) + b"public\0items\0f" + struct.pack(">h", 2)
                + b"\1id\0" + struct.pack(">Ii", 20, -1) + b"\0v\0" + struct.pack(">Ii", 25, -1))
    return [
        b"B" + struct.pack(">qqI", 100, 0, 7),
        relation,
        b"I" + struct.pack(">I", OID) + b"N" + _tuple(["1", "a"]),
        b"U" + struct.pack(">I", OID) + b"O" + _tuple(["1", "a"]) + b"N" + _tuple(["1", "b"]),
        b"U" + struct.pack(">I", OID) + b"K" + _tuple(["1", None]) + b"N" + _tuple(["2", "b"]),
        b"U" + struct.pack(">I", OID) + b"N" + _tuple(["2", "c"]),
        b"D" + struct.pack(">I", OID) + b"K" + _tuple(["2", None]),
        b"C" + struct.pack(">bqqq", 0, 100, 120, 0),
    ]


def test_decoder_and_mapping_produce_int8_row_kinds():
    decoder = ChangeDecoder()
    transactions = [t for t in map(decoder.feed, _messages()) if t is not None]
    [transaction] = transactions
    [segment] = transaction.segments
    assert segment.kinds == [I, UB, UA, D, I, UA, D]
    assert all(type(k) is int for k in segment.kinds)

    registry = {20: PgType(20, "int8", "base"), 25: PgType(25, "text", "base")}
    columns = [SourceColumn("id", 20, -1, False), SourceColumn("v", 25, -1, True)]
    mapping = TableMapping.of("db.items", columns, registry, TableSpec(("id",)), to_string=False)
    rows = mapping.batch_from_text([c.to_arrow() for c in segment.columns], segment.kinds, [0] * len(segment)).rows()
    assert rows.schema.field(ROW_KIND) == ROW_KIND_FIELD
    assert rows.schema.field(ROW_KIND).type == pa.int8()
    assert rows.column(ROW_KIND).to_pylist() == [I, UB, UA, D, I, UA, D]
    assert rows.column("id").to_pylist() == [1, 1, 1, 1, 2, 2, 2]

    snapshot = mapping.batch_from_snapshot(pa.table({"id": ["5"], "v": ["x"]})).rows()
    assert snapshot.schema.field(ROW_KIND) == ROW_KIND_FIELD
    assert snapshot.column(ROW_KIND).to_pylist() == [I]


def test_synthetic_source_batches_carry_int8_row_kinds():
    stream = SyntheticChangeStream(rows_per_batch=50)
    batches = [e for p in range(3) for e in stream.events(p) if isinstance(e, ChangeBatch)]
    assert batches
    for batch in batches:
        kinds = batch.rows().column(ROW_KIND)
        assert kinds.type == pa.int8() and set(kinds.to_pylist()) <= {I, UB, UA, D}


def test_change_batch_refuses_string_row_kinds():
    rows = pa.table({"id": [1]}).append_column(ROW_KIND, pa.array(["+I"]))
    with pytest.raises(TypeError, match="int8"):
        ChangeBatch.of("db.t", rows)


def test_short_strings_only_at_the_edges():
    assert [RowKind(i).short_string() for i in range(4)] == list(SHORT_STRINGS) == ["+I", "-U", "+U", "-D"]
    assert [RowKind.from_short_string(s) for s in SHORT_STRINGS] == list(RowKind)
    codes = from_short_strings(pa.chunked_array([["+I", "-D"], ["+U", "-U"]]))
    assert codes.type == pa.int8() and codes.to_pylist() == [I, D, UA, UB]
    assert to_short_strings(codes, len(codes)).to_pylist() == ["+I", "-D", "+U", "-U"]
    assert to_short_strings(None, 2).to_pylist() == ["+I", "+I"]
    with pytest.raises(InvalidDataError, match=r"\['X'\]"):
        from_short_strings(pa.array(["+I", "X"]))
