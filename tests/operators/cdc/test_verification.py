"""``operators/cdc/verification.py`` without a database: a fake source against a paimon_py lake
whose snapshots carry source positions, as the sync job's committer writes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import pyarrow as pa

from operators.cdc.source_position import PositionStore, SourcePosition
from operators.cdc.verification import CapturedTable, SourceLag, SourceRead, snapshot_at, verify
from tests.support.helpers import DB, create_table, write_batches

SOURCE = "fake/1"
LAKE_SCHEMA = pa.schema([pa.field("id", pa.int64(), False), ("v", pa.string()), ("op_ts", pa.int64())])


@dataclass
class FakeSource:
    """Its position is a number; its tables' rows are given (``later``: those of each later read)."""

    rows: dict[str, pa.Table]
    at: int
    later: list[dict[str, pa.Table]] = field(default_factory=list)
    source_id: str = SOURCE

    def read(self) -> SourceRead:
        rows = self.rows
        if self.later:
            self.rows = self.later.pop(0)
        tables = [CapturedTable(f"{DB}.{name}", (f"src.{name}",), ("id", "v"), ("id",)) for name in rows]
        return SourceRead({"n": self.at}, f"at {self.at}", tables,
                          iter([(f"{DB}.{name}", table) for name, table in rows.items()]))

    def reached(self, published: SourcePosition, position: dict[str, Any]) -> bool:
        return published.state["n"] >= position["n"]

    def lag(self, published: Optional[SourcePosition]) -> SourceLag:
        return SourceLag(f"at {self.at}", False, self.at - (published.state["n"] if published else 0))

    def describe(self, state: dict[str, Any]) -> str:
        return f"at {state['n']}"


def commit(table, rows: list[dict], seq: Optional[int]) -> None:
    """One commit of ``rows``, with the source's position ``seq`` (None: a commit of someone else's)."""
    write = table.new_file_store_write()
    write.write(pa.Table.from_pylist(rows, LAKE_SCHEMA))
    properties = {f"cdc.position.{SOURCE}": SourcePosition(SOURCE, seq, {"n": seq}).to_json()} if seq else None
    table.new_file_store_commit().commit(write.prepare_commit(), properties=properties)
    write.close()


def source_rows(values: dict[int, Optional[str]]) -> pa.Table:
    return pa.table({"id": pa.array(list(values), pa.int64()), "v": pa.array(list(values.values()), pa.string())})


def lake(pp_catalog):
    table = create_table(pp_catalog, "t", LAKE_SCHEMA, primary_keys=["id"], options={"bucket": "1"})
    commit(table, [{"id": 1, "v": "a", "op_ts": 5}, {"id": 2, "v": "b", "op_ts": 5}], 1)
    commit(table, [{"id": 2, "v": "B", "op_ts": 6}], 2)
    return table


def test_equal_at_the_published_checkpoint_and_lake_only_columns_left_out(pp_catalog):
    table = lake(pp_catalog)
    commit(table, [{"id": 3, "v": "later", "op_ts": 7}], 3)  # the lake is past the published checkpoint
    PositionStore.of(pp_catalog).publish(SourcePosition(SOURCE, 2, {"n": 2}))

    result = verify(FakeSource({"t": source_rows({1: "a", 2: "B"})}, 2), pp_catalog, DB, timeout_s=0)

    assert result.equal and result.lake_caught_up and result.attempts == 1 and result.lag is None
    [verdict] = result.tables
    assert (verdict.snapshot, verdict.source_rows, verdict.lake_rows, verdict.not_compared) == (2, 2, 2, ["op_ts"])
    assert verdict.source_checksum == verdict.lake_checksum
    assert [(c.column, c.source == c.lake) for c in verdict.column_checksums] == [("id", True), ("v", True)]


def test_a_commit_without_position_counts_with_the_position_before_it(pp_catalog):
    table = lake(pp_catalog)
    commit(table, [{"id": 1, "v": "manual", "op_ts": 0}], None)
    assert snapshot_at(table, SOURCE, 2) == 3 and snapshot_at(table, SOURCE, 1) == 1
    PositionStore.of(pp_catalog).publish(SourcePosition(SOURCE, 2, {"n": 2}))

    result = verify(FakeSource({"t": source_rows({1: "a", 2: "B"})}, 2), pp_catalog, DB, timeout_s=0, attempts=2)

    [verdict] = result.tables
    assert not result.equal and result.attempts == 2
    assert (verdict.first_keys, verdict.differing_columns, verdict.changed) == ([{"id": 1}], ["v"], 1)
    assert [c.column for c in verdict.column_checksums if c.source != c.lake] == ["v"]


def test_a_lake_behind_is_compared_and_said_to_be_behind(pp_catalog):
    lake(pp_catalog)
    PositionStore.of(pp_catalog).publish(SourcePosition(SOURCE, 1, {"n": 1}))

    result = verify(FakeSource({"t": source_rows({1: "a", 2: "B", 4: None})}, 5), pp_catalog, DB, timeout_s=0)

    [verdict] = result.tables
    assert not result.lake_caught_up and result.attempts == 1 and result.lag.bytes_behind == 4
    assert (result.lake_position, verdict.snapshot) == ("at 1", 1)
    assert (verdict.missing_in_lake, verdict.changed, [k["id"] for k in verdict.first_keys]) == (1, 1, [2, 4])


def test_a_table_the_lake_lacks_differs(pp_catalog):
    lake(pp_catalog)
    result = verify(FakeSource({"t": source_rows({1: "a", 2: "B"}), "gone": source_rows({7: "x"})}, 0), pp_catalog,
                    DB, timeout_s=0)
    missing = [t for t in result.tables if t.table == f"{DB}.gone"]
    assert not result.equal and missing[0].lake_rows is None and missing[0].source_rows == 1


def test_differences_that_move_between_reads_are_a_live_workload(pp_catalog):
    lake(pp_catalog)
    PositionStore.of(pp_catalog).publish(SourcePosition(SOURCE, 2, {"n": 2}))
    reads = [{"t": source_rows({1: "a", 2: "B2"})}, {"t": source_rows({1: "a", 2: "B3"})}]

    result = verify(FakeSource({"t": source_rows({1: "a1", 2: "B"})}, 2, reads), pp_catalog, DB, timeout_s=0)

    [verdict] = result.tables
    assert result.equal and result.attempts == 2 and verdict.changing and verdict.first_keys == []
    assert verdict.source_checksum != verdict.lake_checksum  # the last read's, which differed
