"""Run Apache Paimon's own Java implementation from the tests (tests/java/PaimonJavaTool.java).

Nothing is installed by hand: the Paimon jar (Paimon 1.0-SNAPSHOT with Hadoop, self-contained)
comes from the PyPI package ``paimon-python-ali==0.1.1`` (``test`` extras in pyproject.toml), whose
``paimon_python_java/java_dependencies/`` holds it; ``javac`` and ``java`` (Java 17) come from the
system (``JAVA_HOME`` or ``PATH``). The tool is compiled once per source version into
``<tempdir>/paimon-java-tool-<hash>/`` and reused by later runs.

If the jar or Java is missing, every call raises an ``AssertionError`` saying what to install:
these tests must fail, not skip, when their prerequisites are absent.

Values cross the process boundary as JSON lines in one deterministic rendering, produced by the
Java tool and by :func:`render_table` / :func:`render_rows` for Arrow data (see the Java file's
header): DECIMAL as plain strings with the column's scale, BYTES as hex, DATE ``yyyy-MM-dd``, TIME
``HH:mm:ss.SSS``, TIMESTAMP ``yyyy-MM-ddTHH:mm:ss.nnnnnnnnn``, LTZ the same in UTC plus ``Z``.

Usage (one JVM for many commands, since JVM start-up dominates)::

    batch = java_tool.Batch()
    r = batch.read(warehouse, "db.t")
    batch.write(warehouse, "db.t", java_tool.render_rows(rows, pa_schema))
    results = batch.run()      # results[r] is the list of rows Java read
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import importlib.util
import json
import math
import os
import shutil
import subprocess
import tempfile
import weakref
from pathlib import Path
from typing import Iterable, Sequence

import pyarrow as pa

from tests.support.paths import TESTS

SOURCE = TESTS / "java" / "PaimonJavaTool.java"
MAIN_CLASS = "PaimonJavaTool"
JAR_PACKAGE = "paimon_python_java"
JAR_NAME = "java_dependencies/paimon-python-java-bridge.jar"
DEFAULT_TIMEOUT = 240  # seconds per JVM run
_NOISE = ("SLF4J:", "ERROR StatusLogger Log4j2 could not find")


class JavaToolError(AssertionError):
    """A command failed inside Paimon Java; carries the Java stack trace."""


# --- prerequisites ---------------------------------------------------------------------------

def bridge_jar() -> Path:
    spec = importlib.util.find_spec(JAR_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise AssertionError(
            f"Python package {JAR_PACKAGE!r} not found: the Java interop tests need the Paimon jar "
            "from PyPI package paimon-python-ali==0.1.1 (in the `test` extras; run "
            "`pip install -e '.[test]'` or scripts/test.sh)")
    jar = Path(list(spec.submodule_search_locations)[0]) / JAR_NAME
    if not jar.is_file():
        raise AssertionError(f"Paimon jar missing at {jar} (broken paimon-python-ali install?)")
    return jar


def java_binary(name: str) -> str:
    candidates = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]) / "bin" / name)
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    raise AssertionError(f"`{name}` not found (JAVA_HOME or PATH): the Java interop tests need a "
                         "JDK 17 (e.g. Debian package openjdk-17-jdk-headless)")


def classes_dir() -> Path:
    """The compiled tool, compiled at most once per (source, jar) version."""
    jar = bridge_jar()
    source = SOURCE.read_bytes()
    key = hashlib.sha256(source + f"|{jar}|{jar.stat().st_size}".encode()).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"paimon-java-tool-{key}"
    if (target / f"{MAIN_CLASS}.class").is_file():
        return target
    work = Path(tempfile.mkdtemp(prefix=f"{target.name}.tmp-", dir=target.parent))
    try:
        proc = subprocess.run([java_binary("javac"), "-nowarn", "-encoding", "UTF-8",
                               "-cp", str(jar), "-d", str(work), str(SOURCE)],
                              capture_output=True, text=True, timeout=180)
        if proc.returncode != 0:
            raise AssertionError(f"javac failed for {SOURCE}:\n{proc.stdout}\n{proc.stderr}")
        try:
            os.rename(work, target)  # atomic; a concurrent run may have won the race
        except OSError:
            if not (target / f"{MAIN_CLASS}.class").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


# --- running ---------------------------------------------------------------------------------

class Batch:
    """Commands collected here run in one JVM, in order, by :meth:`run`."""

    def __init__(self):
        self._dir = Path(tempfile.mkdtemp(prefix="paimon-java-batch-"))
        self._commands: list[list[str]] = []
        # the command/row files and the JVM's temp dir; removed by run() or when dropped unrun
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, True)

    def _add(self, *words) -> int:
        self._commands.append([str(w) for w in words])
        return len(self._commands) - 1

    def _file(self, suffix: str, text: str) -> Path:
        path = self._dir / f"{len(self._commands)}{suffix}"
        path.write_text(text, encoding="utf-8")
        return path

    def read(self, warehouse, table: str, snapshot_id: int | None = None,
             where: Sequence[Sequence] | None = None) -> int:
        """All rows of ``table`` (``db.name``) at the latest (or the given) snapshot, in JSON
        rendering; returns the index of the result in :meth:`run`'s list.

        ``where``: conditions that must all hold, ``(column, op, rendered value)`` with op one
        of ``= != < <= > >=``, or ``(column, "is_null" | "is_not_null")``. Paimon Java uses them
        to prune partitions and files by their statistics, then filters the rows.
        """
        words = ["read", warehouse, table, "latest" if snapshot_id is None else snapshot_id]
        if where is not None:
            words.append(json.dumps([list(c) for c in where], ensure_ascii=False))
        return self._add(*words)

    def write(self, warehouse, table: str, rows: Iterable[dict]) -> int:
        """One batch commit of ``rows`` (already rendered, e.g. by :func:`render_rows`)."""
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return self._add("write", warehouse, table, self._file(".jsonl", text))

    def compact(self, warehouse, table: str) -> int:
        """Full compaction of every (partition, bucket) of the latest snapshot, one commit."""
        return self._add("compact", warehouse, table)

    def create(self, warehouse, table: str, fields: Sequence[tuple[str, str]], partition_keys=(),
               primary_keys=(), options=None) -> int:
        """Create ``table`` through Paimon Java; ``fields`` are (name, Paimon SQL type string)."""
        spec = {"fields": [list(f) for f in fields], "partitionKeys": list(partition_keys),
                "primaryKeys": list(primary_keys), "options": dict(options or {})}
        return self._add("create", warehouse, table, self._file(".json", json.dumps(spec)))

    def run(self, check: bool = True, timeout: float = DEFAULT_TIMEOUT) -> list:
        """Run all commands in one JVM; returns one entry per command: its JSON output lines.

        A failed command's entry is a :class:`JavaToolError` (later commands still run); with
        ``check`` the first one is raised instead.
        """
        commands = self._file(".commands", "".join(json.dumps(c) + "\n" for c in self._commands))
        jar = bridge_jar()
        cmd = [java_binary("java"),
               f"-Djava.io.tmpdir={self._dir}", "-cp", f"{classes_dir()}{os.pathsep}{jar}",
               MAIN_CLASS, "batch", str(commands)]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:  # subprocess.run has killed the JVM
            raise AssertionError(f"Paimon Java tool timed out after {timeout}s: {self._commands}\n"
                                 f"{_clean_stderr(e.stderr)}") from None
        finally:
            self._cleanup()
        results = _parse_batch_output(proc.stdout.decode("utf-8"), self._commands,
                                      _clean_stderr(proc.stderr))
        if check:
            for r in results:
                if isinstance(r, JavaToolError):
                    raise r
        return results


def _clean_stderr(raw) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else (raw or "")
    return "\n".join(line for line in text.splitlines() if not line.startswith(_NOISE))


def _parse_batch_output(stdout: str, commands, stderr: str) -> list:
    results: list = [None] * len(commands)
    current = None
    for line in stdout.splitlines():
        if line.startswith("#begin "):
            current = int(line.split()[1])
            results[current] = []
        elif line.startswith("#end "):
            current = None
        elif line.startswith("#error "):
            _, index, trace = line.split(" ", 2)
            index = int(index)
            results[index] = JavaToolError(
                f"Paimon Java failed on {commands[index][0]} {commands[index][2:3]}:\n"
                f"{json.loads(trace)}")
            current = None
        elif current is not None:
            results[current].append(json.loads(line))
    for i, r in enumerate(results):
        if r is None:
            results[i] = JavaToolError(f"Paimon Java did not run command {i} {commands[i]} "
                                       f"(JVM crashed?); stderr:\n{stderr[-4000:]}")
    return results


def read(warehouse, table: str) -> list[dict]:
    batch = Batch()
    batch.read(warehouse, table)
    return batch.run()[0]


# --- the shared JSON rendering ---------------------------------------------------------------

def render_value(value, arrow_type: pa.DataType):
    """A Python value of an Arrow column (as ``to_pylist`` returns it) in the tool's rendering."""
    if value is None:
        return None
    t = arrow_type
    if pa.types.is_boolean(t) or pa.types.is_integer(t):
        return value
    if pa.types.is_floating(t):
        value = float(value)
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if pa.types.is_decimal(t):
        with decimal.localcontext() as ctx:
            ctx.prec = 100  # DECIMAL(38, s) values exceed the default context's 28 digits
            return format(decimal.Decimal(value).quantize(decimal.Decimal(1).scaleb(-t.scale)), "f")
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return value
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return bytes(value).hex()
    if pa.types.is_date(t):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    if pa.types.is_time(t):
        text = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}"
        # Paimon TIME holds milliseconds: a sub-millisecond part shows up as a mismatch
        return text + (f"{value.microsecond % 1000:03d}" if value.microsecond % 1000 else "")
    if pa.types.is_timestamp(t):
        nanos = getattr(value, "nanosecond", 0)
        if t.tz is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        text = (f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:"
                f"{value.minute:02d}:{value.second:02d}.{value.microsecond * 1000 + nanos:09d}")
        return text + ("Z" if t.tz is not None else "")
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return [render_value(v, t.value_type) for v in value]
    if pa.types.is_map(t):
        return [[render_value(k, t.key_type), render_value(v, t.item_type)] for k, v in value]
    if pa.types.is_struct(t):
        return {f.name: render_value(value.get(f.name), f.type) for f in t}
    raise TypeError(f"no JSON rendering for Arrow type {t}")


def render_table(table: pa.Table) -> list[dict]:
    """Every row of ``table`` in the tool's JSON rendering."""
    columns = {f.name: [render_value(v, f.type) for v in table.column(f.name).to_pylist()]
               for f in table.schema}
    return [{name: columns[name][i] for name in table.schema.names} for i in range(table.num_rows)]


def render_rows(rows: Iterable[dict], schema: pa.Schema) -> list[dict]:
    """Python rows (as written with ``write_arrow``) in the tool's JSON rendering."""
    return render_table(pa.Table.from_pylist(list(rows), schema=schema))


def as_rows(rows: Iterable[dict]) -> list[dict]:
    """Rows Java read, an update's ``"_rowkind": "+U"`` dropped (a batch read's row is a row, whichever
    kind its last change had)."""
    return [{k: v for k, v in r.items() if not (k == "_rowkind" and v == "+U")} for r in rows]


def canonical(rows: Iterable[dict]) -> list[dict]:
    """Rendered rows in a deterministic order (for an order-insensitive comparison)."""
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False))
