"""How a subcommand's result reaches the terminal: an aligned text table for people, ``--json``
for scripts (one JSON document on stdout), CSV where a subcommand offers it."""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence, TextIO


@dataclass
class Table:
    """Rows of named columns; ``title`` (optional) is printed above the text form only."""

    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    title: str | None = None

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]


@dataclass
class Result:
    """What a subcommand returns: tables (printed in order), a JSON document (``--json``), and
    the exit code (0; 1 when a check found a difference)."""

    tables: list[Table] = field(default_factory=list)
    document: Any = None
    """The ``--json`` form; by default the tables' records (a list for one table, else a dict
    keyed by title)."""
    exit_code: int = 0
    message: str | None = None
    """A closing line for people (text output only)."""
    text: str | None = None
    """Output rendered by the subcommand (e.g. CSV), printed instead of the tables."""

    def json_document(self) -> Any:
        if self.document is not None:
            return self.document
        if len(self.tables) == 1:
            return self.tables[0].records()
        return {t.title or str(i): t.records() for i, t in enumerate(self.tables)}


def emit(result: Result, as_json: bool, out: TextIO | None = None) -> None:
    """Print ``result`` on ``out`` (default: the current ``sys.stdout``)."""
    out = out or sys.stdout
    if as_json:
        json.dump(result.json_document(), out, indent=2, default=json_default)
        out.write("\n")
        return
    if result.text is not None:
        out.write(result.text)
    for i, table in enumerate(result.tables):
        if i:
            out.write("\n")
        if table.title:
            out.write(table.title + "\n")
        out.write(render_text(table.columns, table.rows))
    if result.message:
        out.write(result.message + "\n")


def render_text(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c) for c in columns]] + [[cell_text(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def render_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([["" if v is None else cell_text(v) for v in row] for row in rows])


def cell_text(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if value.utcoffset() is not None else "")
    if isinstance(value, (list, tuple)):
        return ",".join(cell_text(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}={cell_text(v)}" for k, v in value.items())
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def millis_to_datetime(millis: int | None) -> datetime | None:
    """A snapshot's ``timeMillis`` as an aware UTC datetime."""
    return None if millis is None else datetime.fromtimestamp(millis / 1000, tz=timezone.utc)
