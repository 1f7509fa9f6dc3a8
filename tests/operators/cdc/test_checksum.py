"""The verification checksum (``operators/cdc/checksum.py``): order-independent, sensitive to a
change of any single value of any type, NULL vs '' vs 0 distinct, and differing keys found."""

from __future__ import annotations

import datetime
import decimal

import pyarrow as pa
import pytest

from operators.cdc import checksum
from operators.cdc.checksum import TableDigest, column_hashes, compare

ROWS = pa.table({
    "id": pa.array([1, 2, 3, 4], pa.int64()),
    "flag": pa.array([True, False, None, True]),
    "small": pa.array([1, -2, 3, None], pa.int16()),
    "ratio": pa.array([0.5, -0.0, float("nan"), 1e300], pa.float64()),
    "price": pa.array([decimal.Decimal("1.25"), None, decimal.Decimal("-3.50"), decimal.Decimal("0")],
                      pa.decimal128(12, 2)),
    "name": pa.array(["a", "", None, "é long text " * 20]),
    "blob": pa.array([b"\x00", b"", None, b"\xff\x00"], pa.binary()),
    "fixed": pa.array([b"ab", b"cd", None, b"ef"], pa.binary(2)),
    "day": pa.array([datetime.date(2024, 1, 1), None, datetime.date(1970, 1, 1), datetime.date(1900, 5, 6)]),
    "at": pa.array([datetime.datetime(2024, 1, 1, 12), None, datetime.datetime(1999, 12, 31),
                    datetime.datetime(2000, 1, 1)], pa.timestamp("us")),
    "tags": pa.array([["x", "y"], [], None, ["y", "x"]], pa.list_(pa.string())),
    "attrs": pa.array([[("k", 1)], [], None, [("k", 2)]], pa.map_(pa.string(), pa.int32())),
    "point": pa.array([{"x": 1, "y": "a"}, None, {"x": None, "y": ""}, {"x": 2, "y": "b"}],
                      pa.struct([("x", pa.int32()), ("y", pa.string())])),
})


def digest(table: pa.Table, keys: tuple[str, ...] = ("id",)) -> TableDigest:
    d = TableDigest(tuple(table.column_names), keys)
    for batch in table.to_batches(max_chunksize=3):
        d.add(pa.Table.from_batches([batch]))
    return d


def test_order_and_batching_do_not_matter():
    shuffled = ROWS.take([3, 1, 0, 2])
    assert (digest(ROWS).count, digest(ROWS).checksum) == (digest(shuffled).count, digest(shuffled).checksum)
    assert compare(digest(ROWS), digest(shuffled)) is None
    one_batch = TableDigest(tuple(ROWS.column_names), ("id",))
    one_batch.add(ROWS)
    assert one_batch.checksum == digest(ROWS).checksum


@pytest.mark.parametrize("column", [c for c in ROWS.column_names if c != "id"])
@pytest.mark.parametrize("row", [0, 1, 2, 3])
def test_a_change_of_any_single_value_changes_the_checksum_and_names_key_and_column(column, row):
    values = ROWS.column(column).to_pylist()
    other = ROWS.column(column).to_pylist()[(row + 1) % 4]
    values[row] = other if other != values[row] and not _both_nan(other, values[row]) else None
    if values[row] == ROWS.column(column)[row].as_py():
        values[row] = ROWS.column(column).to_pylist()[(row + 2) % 4]
    changed = ROWS.set_column(ROWS.column_names.index(column), column, pa.array(values, ROWS.schema.field(column).type))
    difference = compare(digest(ROWS), digest(changed))
    assert difference is not None
    assert difference.columns == [column]
    assert difference.first_keys(10) == [{"id": row + 1}] and difference.changed == 1


def _both_nan(a, b) -> bool:
    return isinstance(a, float) and isinstance(b, float) and a != a and b != b


def test_null_empty_string_and_zero_differ():
    strings = column_hashes(pa.array([None, "", "0"]))
    numbers = column_hashes(pa.array([None, 0], pa.int64()))
    assert len(set(strings.tolist())) == 3 and len(set(numbers.tolist())) == 2
    assert column_hashes(pa.array([None], pa.string()))[0] == column_hashes(pa.array([None], pa.int64()))[0]
    assert column_hashes(pa.array([""]))[0] != column_hashes(pa.array([0], pa.int64()))[0]
    lists = column_hashes(pa.array([[], [0], None], pa.list_(pa.int8())))
    assert len(set(lists.tolist())) == 3


def test_strings_hash_by_content_not_by_position_in_the_buffer():
    array = pa.array(["ab", "b", "ab", "ba", "a"])
    hashes = column_hashes(array).tolist()
    assert hashes[0] == hashes[2] and len({hashes[0], hashes[1], hashes[3], hashes[4]}) == 4
    assert column_hashes(array.slice(2, 2)).tolist() == hashes[2:4]
    assert column_hashes(pa.chunked_array([array.slice(0, 1), array.slice(1)])).tolist() == hashes


def test_long_values_hash_the_same_in_small_blocks(monkeypatch):
    array = pa.array(["x" * 100, "", None, "abc" * 50, "q"], pa.large_string())
    whole = column_hashes(array).tolist()
    monkeypatch.setattr(checksum, "SEQUENCE_BLOCK", 7)
    assert column_hashes(array).tolist() == whole
    assert column_hashes(pa.array(["x" * 100, "", None, "abc" * 50, "q"])).tolist() == whole


def test_swapped_values_across_rows_change_the_checksum():
    swapped = ROWS.set_column(5, "name", pa.array(["", "a", None, "é long text " * 20]))
    difference = compare(digest(ROWS), digest(swapped))
    assert difference.columns == [] and [k["id"] for k in difference.first_keys(10)] == [1, 2]


def test_keyed_differences_say_missing_extra_and_changed_rows_in_key_order():
    lake = pa.concat_tables([ROWS.slice(1), ROWS.slice(0, 1).set_column(0, "id", pa.array([9], pa.int64()))])
    difference = compare(digest(ROWS), digest(lake))
    assert (difference.only_in_source, difference.only_in_lake, difference.changed) == (1, 1, 0)
    assert difference.first_keys(10) == [{"id": 1}, {"id": 9}]


def test_a_table_without_key_is_compared_as_a_multiset():
    rows = ROWS.drop_columns(["id"])
    doubled = pa.concat_tables([rows, rows.slice(0, 1)])
    assert compare(digest(rows, ()), digest(rows.take([2, 0, 3, 1]), ())) is None
    difference = compare(digest(doubled, ()), digest(rows, ()))
    assert (difference.only_in_source, difference.only_in_lake, difference.first_keys(10)) == (1, 0, [])


def test_differences_seen_again_are_kept_those_that_moved_are_dropped():
    def changed(values: dict[int, str]) -> pa.Table:
        names = ROWS.column("name").to_pylist()
        for key, value in values.items():
            names[key - 1] = value
        return ROWS.set_column(5, "name", pa.array(names))
    first = compare(digest(ROWS), digest(changed({1: "broken", 2: "newer"})))
    second = compare(digest(changed({2: "newer", 3: "moving"})), digest(changed({1: "broken", 3: "moved"})))
    stable = first.also_in(second)
    assert stable.first_keys(10) == [{"id": 1}] and stable.changed == 1 and stable.columns == ["name"]
    assert compare(digest(ROWS), digest(changed({4: "x"}))).also_in(second) is None


def test_multiset_differences_seen_again():
    rows = ROWS.drop_columns(["id"])
    first = compare(digest(pa.concat_tables([rows, rows.slice(0, 1)]), ()), digest(rows.slice(1), ()))
    second = compare(digest(rows, ()), digest(rows.slice(1), ()))
    assert (first.only_in_source, second.only_in_source) == (2, 1)
    assert first.also_in(second) is None  # the surplus of the first row changed: 2 then 1
    again = compare(digest(rows, ()), digest(rows.slice(1), ())).also_in(second)
    assert (again.only_in_source, again.only_in_lake) == (1, 0)
