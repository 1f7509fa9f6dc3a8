"""Pure decoding functions of the binlog reader (no server)."""

import struct

import numpy as np
import pytest

from operators.mysql.binlog.columns import column_codec, decimal_unscaled, decimal_width, time2_packed
from operators.mysql.binlog.connection import dump_gtid_packet, dump_packet
from operators.mysql.binlog.gtid import GtidState, MySqlGtidSet
from operators.mysql.binlog.table_map import NEWDECIMAL, ColumnLayout
from operators.mysql.source_table import MySqlType
from tests.support.mysql_encoding import decimal_bytes


def _time2_bytes(negative: bool, hms: int, us: int, fsp: int) -> bytes:
    """TIME2 as the server writes it (MySQL's my_time_packed_to_binary)."""
    packed = (hms << 24) + us
    packed = -packed if negative else packed
    fb = (fsp + 1) // 2
    if fb == 3:
        return (packed + 0x800000000000).to_bytes(6, "big")
    intpart = packed >> 24  # C's arithmetic shift
    frac = -((-packed) % (1 << 24)) if packed < 0 else packed % (1 << 24)  # C's remainder keeps the sign
    scale = {1: 10000, 2: 100}.get(fb, 1)
    out = (intpart + 0x800000).to_bytes(3, "big")
    return out + (int(frac / scale) % (1 << (8 * fb))).to_bytes(fb, "big") if fb else out


@pytest.mark.parametrize("negative,hms,us,fsp", [
    (True, 1, 500000, 1), (True, 0, 100000, 1), (True, (1 << 12) | 1, 500000, 3), (True, 0, 1, 6),
    (False, 1, 500000, 2), (True, 838 << 12 | 59 << 6 | 59, 0, 0), (True, 5, 990000, 2),
])
def test_time2_negative_fractions_borrow_from_the_integer_part(negative, hms, us, fsp):
    raw = np.frombuffer(_time2_bytes(negative, hms, us, fsp), np.uint8).reshape(1, -1)
    expected = -((hms << 24) + us) if negative else (hms << 24) + us
    assert time2_packed(raw, fsp).tolist() == [expected]


@pytest.mark.parametrize("digits,precision,scale", [
    ("12.34", 12, 2), ("-12.34", 12, 2), ("0.00", 5, 2), ("-0.000000001", 10, 9),
    ("1234567890123.456789012", 25, 12), ("-99999999999999999999999999999.999999999", 38, 9),
])
def test_decimal_unscaled_values(digits, precision, scale):
    raw = decimal_bytes(digits, precision, scale)
    assert len(raw) == decimal_width(precision, scale)
    unscaled, negative = decimal_unscaled(np.frombuffer(raw, np.uint8).reshape(1, -1), precision, scale)
    whole, _, frac = digits.lstrip("-").partition(".")
    assert (int(unscaled[0]), bool(negative[0])) == (int(whole + frac.ljust(scale, "0")), digits.startswith("-"))


def test_gtid_state_keeps_one_gtid_per_domain():
    state = GtidState("1-5-3, 0-101-7")
    assert state.render() == "0-101-7,1-5-3"
    state.update(0, 102, 8)
    state.update(2, 1, 1)
    assert state.render() == "0-102-8,1-5-3,2-1-1"
    assert GtidState("").render() == ""


def test_mysql_gtid_set_merges_and_encodes():
    sid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
    gtids = MySqlGtidSet(f"{sid}:1-5:7")
    gtids.add(sid, 6)
    gtids.add(sid, 9)
    assert gtids.render() == f"{sid}:1-7:9"
    encoded = gtids.encode()
    assert encoded == struct.pack("<Q", 1) + bytes.fromhex(sid.replace("-", "")) + struct.pack("<Qqqqq", 2, 1, 8, 9, 10)
    assert MySqlGtidSet().encode() == struct.pack("<Q", 0)


def test_dump_packets_have_the_declared_lengths():
    assert dump_packet(7, "", 4) == struct.pack("<IHI", 4, 0, 7)  # MariaDB GTID mode: 10 bytes, no stray byte
    assert dump_packet(7, "binlog.000002", 1234)[10:] == b"binlog.000002"
    packet = dump_gtid_packet(7, MySqlGtidSet("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-2"))
    flags, server_id, name_len, pos, size = struct.unpack_from("<HIIQI", packet)
    assert (flags, server_id, name_len, pos, size, len(packet)) == (4, 7, 0, 4, 48, 22 + 48)


@pytest.mark.parametrize("precision,scale", [(38, 10), (30, 0), (10, 2), (65, 30)])
def test_null_decimals_ignore_the_bytes_in_their_place(precision, scale):
    """A NULL in a run of fixed-width columns has no bytes of its own: whatever stands in its
    place (here 0xFF, digit groups far above 999999999) must not be decoded."""
    layout = ColumnLayout(NEWDECIMAL, precision << 8 | scale, MySqlType("decimal", precision=precision, scale=scale))
    codec = column_codec(layout)
    mat = np.full((2, codec.width), 0xFF, np.uint8)
    mat[1] = np.frombuffer(bytes([0x80]) + bytes(codec.width - 1), np.uint8)  # zero
    values = codec.convert(mat, np.array([True, False])).to_pylist()
    assert values[0] is None and values[1] in (0, "0" if not scale else "0." + "0" * scale)
