"""``paimon-cdc read``: rows of a table through paimon_py's ``ReadBuilder``: ``--select`` is the
projection, ``--where`` (``operators/console/where``) the pushed-down filter, ``--limit`` the
limit, ``--snapshot`` time travel. Printed as a table, CSV or JSON, or written to ``--output``
(also as Parquet). ``--json`` means ``--format json``."""

from __future__ import annotations

import argparse
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq

from operators.console.lake import (CommandError, add_table_arguments, arrow_columns, existing_snapshot,
                                    open_table, positive)
from operators.console.output import Result, Table, json_default, render_csv, render_text
from operators.console.where import parse_where
from paimon_py.table.file_store_table import FileStoreTable

FORMATS = ["table", "csv", "json", "parquet"]


def register(commands, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("read", parents=[common], help="read rows (projection, filter, limit, snapshot)")
    add_table_arguments(parser)
    parser.add_argument("--select", metavar="COLUMNS", help="columns to read, comma-separated (default: all)")
    parser.add_argument("--where", metavar="EXPR",
                        help="filter, e.g. \"day = '2026-11-20' AND amount > 10\": = != < <= > >=, IS [NOT] NULL, "
                             "[NOT] IN (...), [NOT] BETWEEN .. AND .., AND, OR, NOT, parentheses")
    parser.add_argument("--limit", type=positive, metavar="N", help="at most N rows")
    parser.add_argument("--snapshot", type=int, metavar="ID", help="read the table as of this snapshot")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.add_argument("--output", metavar="FILE", help="write the rows to FILE (needed for parquet)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> Result:
    output_format = "json" if args.json and args.format == "table" else args.format
    if output_format == "parquet" and not args.output:
        raise CommandError("--format parquet writes a file — give it with --output FILE")
    table = open_table(args)
    rows = read_rows(table, args)
    if args.output:
        write_output(rows, output_format, args.output)
        return Result(document={"rows": rows.num_rows, "output": args.output, "format": output_format},
                      message=f"wrote {rows.num_rows} rows to {args.output} ({output_format})")
    if output_format == "json":
        args.json = True  # main prints the document as --json does
        return Result(document=rows.to_pylist())
    if output_format == "csv":
        return Result(text=csv_text(rows))
    return Result(tables=[Table(rows.column_names, [list(r.values()) for r in rows.to_pylist()])],
                  message=f"({rows.num_rows} row{'' if rows.num_rows == 1 else 's'})")


def read_rows(table: FileStoreTable, args: argparse.Namespace) -> pa.Table:
    builder = table.new_read_builder()
    if args.select:
        builder.with_projection(selected_columns(table, args.select))
    if args.where:
        builder.with_filter(parse_where(args.where, arrow_columns(table)))
    if args.limit:
        builder.with_limit(args.limit)
    if args.snapshot is not None:
        builder.with_snapshot(existing_snapshot(table, args.snapshot).id)
    return builder.new_read().to_arrow(builder.new_scan().plan().splits())


def selected_columns(table: FileStoreTable, select: str) -> list[str]:
    columns = [c.strip() for c in select.split(",") if c.strip()]
    known = table.schema.field_names
    unknown = [c for c in columns if c not in known]
    if unknown or not columns:
        raise CommandError(f"--select {select!r}: unknown column(s) {', '.join(unknown) or '(none given)'} — "
                           f"the table has: {', '.join(known)}")
    return columns


def csv_text(rows: pa.Table) -> str:
    out = io.StringIO()
    render_csv(rows.column_names, [list(r.values()) for r in rows.to_pylist()], out)
    return out.getvalue()


def write_file(rows: pa.Table, output_format: str, path: str) -> None:
    if output_format == "parquet":
        pq.write_table(rows, path)
        return
    if output_format == "json":
        text = json.dumps(rows.to_pylist(), indent=2, default=json_default) + "\n"
    elif output_format == "csv":
        text = csv_text(rows)
    else:
        text = render_text(rows.column_names, [list(r.values()) for r in rows.to_pylist()])
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_output(rows: pa.Table, output_format: str, path: str) -> None:
    try:
        write_file(rows, output_format, path)
    except OSError as e:
        raise CommandError(f"cannot write {path}: {e.strerror or e} — give a writable --output path") from e
