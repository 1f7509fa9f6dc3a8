"""A small batch demo of paimon_py: create a primary-key table, write, update, delete, read back.

    python jobs/batch_demo.py [--warehouse DIR]

The table it leaves behind is a real Paimon table: pypaimon and Paimon's Java engines read it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile

import pyarrow as pa

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import paimon_py  # noqa: E402

SCHEMA = pa.schema([
    pa.field("order_id", pa.int64(), nullable=False),
    pa.field("day", pa.date32(), nullable=False),
    pa.field("customer", pa.string()),
    pa.field("amount", pa.decimal128(10, 2)),
    pa.field("_change", pa.string()),
])


def commit(table, rows: dict) -> None:
    builder = table.new_batch_write_builder()
    write, committer = builder.new_write(), builder.new_commit()
    write.write_arrow(pa.table(rows, schema=SCHEMA))
    committer.commit(write.prepare_commit())
    write.close()
    committer.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", default=None, help="warehouse directory (default: a temporary one)")
    args = parser.parse_args(argv)
    warehouse = args.warehouse or tempfile.mkdtemp(prefix="paimon-demo-")

    catalog = paimon_py.CatalogFactory.create({"warehouse": warehouse})
    catalog.create_database("shop", ignore_if_exists=True)
    catalog.drop_table("shop.orders", ignore_if_not_exists=True)
    catalog.create_table("shop.orders", paimon_py.Schema.from_pyarrow_schema(
        SCHEMA, partition_keys=["day"], primary_keys=["order_id", "day"],
        options={"bucket": "2", "rowkind.field": "_change"}))
    table = catalog.get_table("shop.orders")

    d1, d2 = datetime.date(2026, 11, 20), datetime.date(2026, 11, 21)
    from decimal import Decimal as D
    commit(table, {"order_id": [1, 2, 3, 4], "day": [d1, d1, d2, d2],
                   "customer": ["ada", "bob", "cy", "di"],
                   "amount": [D("10.50"), D("3.20"), D("99.99"), D("1.00")], "_change": ["+I"] * 4})
    commit(table, {"order_id": [2, 4], "day": [d1, d2], "customer": ["bob", "di"],
                   "amount": [D("4.20"), None], "_change": ["+U", "-D"]})

    read_builder = table.new_read_builder().with_projection(["order_id", "day", "customer", "amount"])
    result = read_builder.new_read().to_arrow(read_builder.new_scan().plan().splits())
    print(f"warehouse: {warehouse}")
    print(f"snapshots: {table.snapshot_manager.list_ids()}")
    print(result.sort_by("order_id").to_pandas().to_string(index=False))


if __name__ == "__main__":
    main()
