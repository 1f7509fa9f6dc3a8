"""Every mapped PostgreSQL type through the real sync job into the lake, read back with pypaimon.

* ``test_every_type_snapshot_and_stream``: one table with every supported column type
  (``tests.support.postgres_type_cases.COLUMNS`` plus ``timestamp(3)``), rows read by the snapshot and
  rows inserted, updated (values -> NULL, NULL -> values, a key change) and deleted while the
  job streams (pgoutput). The lake, read through pypaimon, must equal the expected Python values
  column by column; the Paimon schema is checked too.
* ``test_to_string_snapshot_mode``: ``--type_mapping to-string`` with the bounded
  ``scan.startup.mode=snapshot``: every column STRING holding PostgreSQL's text output, including
  types and values that have no Paimon form otherwise (point, interval, 'NaN', 'infinity', a
  two-dimensional array).
* ``test_unsupported_type_fails_fast``: a ``point`` column stops the job in the client, before
  Flink starts, with a message that names the column and suggests ``--type_mapping to-string``.

How values compare:

* timestamptz (TIMESTAMP_LTZ): pypaimon returns UTC-aware datetimes; they are compared as
  instants with the expected UTC datetimes (the server's own TimeZone is Asia/Kolkata).
* ``numeric`` without precision is DECIMAL(38, 18) (Paimon's rule): values are rounded half-up
  to 18 decimal places; they compare as ``Decimal`` values (numerically) with the rounded
  expected values, and every lake value must carry exactly 18 fraction digits.
  ``numeric(p, s)`` values compare as Decimals of scale ``s``; numerics beyond DECIMAL's range
  (precision > 38, negative scale) are STRING with PostgreSQL's text.
* Expected values go through the column's Arrow type first (as in ``test_postgres_types``), so
  float4 compares at float32 precision; NaN equals NaN.
* TIME: Paimon keeps a TIME as milliseconds of the day whatever its precision (Paimon Java's
  Parquet/ORC type is INT32 TIME_MILLIS, pypaimon 2.1.0 reads every TIME as ``time32[ms]``), so
  TIME values (``time`` is TIME(6)) compare truncated to milliseconds.
* The two non-deterministic literals (``now()``, ``gen_random_uuid()``) are compared with the
  values the source holds.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import math
import os
import subprocess
import sys
import time

import psycopg2
import psycopg2.extensions
import pyarrow as pa
import pypaimon
import pytest

from operators.postgres.local_server import LocalPostgres
from operators.postgres.replication import SESSION_OPTIONS
from paimon_py.types import TimestampType, to_arrow_type
from tests.support.paths import ROOT
from tests.support.postgres import Job, conf_args, database_name, fresh_database
from tests.support.postgres_type_cases import COLUMNS, SERVER_DEFAULTS, Col

pytestmark = pytest.mark.slow

TIMEOUT = 180.0

LAKE_COLUMNS = COLUMNS + [
    Col("c_ts3", "timestamp(3)", TimestampType(3), ("'2001-02-03 04:05:06.789'", "'1969-12-31 23:59:59.999'"),
        (dt.datetime(2001, 2, 3, 4, 5, 6, 789000), dt.datetime(1969, 12, 31, 23, 59, 59, 999000))),
]
NAMES = [c.name for c in LAKE_COLUMNS]
SERIALS = {c.name for c in LAKE_COLUMNS if c.sql_type in ("serial", "bigserial")}
FROM_SOURCE = {c.name for c in LAKE_COLUMNS if len(c.expected) > 1 and c.expected[1] is None
               and c.literals[1] != "NULL"}  # now(), gen_random_uuid(): row template 1
NULL_TEMPLATE = 2
"""Row template 2: NULL in every column (serials get the row's id)."""


# --- the source -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pg():
    # a private server, not postgres_server: the non-ISO, non-UTC defaults (SERVER_DEFAULTS) must be
    # the server's own, so that only the job's session options can make its values right
    server = LocalPostgres(settings=SERVER_DEFAULTS).start()
    yield server
    server.stop()


@pytest.fixture
def types_database(pg, request):
    """A fresh database on ``pg`` for one test, with the enum and domain types of ``COLUMNS``."""
    with fresh_database(pg, database_name(request.node.name)) as name:
        for sql in ("CREATE TYPE mood AS ENUM ('happy', 'so so')", "CREATE DOMAIN short_text AS varchar(8)",
                    "CREATE DOMAIN price AS numeric(6, 2) CHECK (VALUE >= 0)"):
            pg.execute(sql, database=name)
        yield name


def create_table(pg, database: str, name: str, extra: list[tuple[str, str]] = ()) -> None:
    columns = [(c.name, c.sql_type) for c in LAKE_COLUMNS] + list(extra)
    pg.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, "
               + ", ".join(f"{n} {t}" for n, t in columns) + ")", database=database)


def literals(template: int, row_id: int) -> list[str]:
    """SQL of the columns of row template 0, 1 or 2 (2: NULLs); serials get ``row_id``."""
    return [str(row_id) if c.name in SERIALS else c.literals[template] if template < len(c.literals) else "NULL"
            for c in LAKE_COLUMNS]


def insert(pg, database: str, rows: dict[int, int], table: str = "all_types") -> None:
    """``rows``: id -> template, in one transaction."""
    values = ", ".join(f"({i}, {', '.join(literals(t, i))})" for i, t in rows.items())
    pg.execute(f"INSERT INTO {table} (id, {', '.join(NAMES)}) VALUES {values}", database=database)


def update(pg, database: str, row_id: int, template: int) -> None:
    pg.execute(f"UPDATE all_types SET ({', '.join(NAMES)}) = ({', '.join(literals(template, row_id))}) "
               f"WHERE id = {row_id}", database=database)


def source_values(pg, database: str, columns: list[str], table: str = "all_types") -> dict[int, dict]:
    """id -> {column: value} as psycopg2 reads it in a UTC session."""
    conn = psycopg2.connect(pg.dsn_for(database), options=SESSION_OPTIONS)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT id, {', '.join(columns)} FROM {table}")
            return {row[0]: dict(zip(columns, row[1:])) for row in cur.fetchall()}
    finally:
        conn.close()


def source_text(pg, database: str, names: list[str], table: str = "all_types") -> list[dict]:
    """The rows as PostgreSQL's output functions write them (what COPY and pgoutput send; not
    ``::text``, which differs for bool and char(n)), under the job's session settings."""
    conn = psycopg2.connect(pg.dsn_for(database), options=SESSION_OPTIONS)
    try:
        with conn.cursor() as cur:
            query = f"SELECT {', '.join(names)} FROM {table}"
            cur.execute(query + " LIMIT 0")
            oids = tuple({d.type_code for d in cur.description})
            psycopg2.extensions.register_type(
                psycopg2.extensions.new_type(oids, "AS_TEXT", lambda value, _cur: value), cur)
            cur.execute(query)
            return [dict(zip(names, row)) for row in cur.fetchall()]
    finally:
        conn.close()


# --- expected rows ----------------------------------------------------------------------------

def expected_rows(templates: dict[int, int], from_source: dict[int, dict]) -> list[dict]:
    """The rows the lake must hold, id -> template, as Python values of each column's Arrow type."""
    ids = sorted(templates)
    columns = {"id": ids}
    for c in LAKE_COLUMNS:
        values = []
        for i in ids:
            t = templates[i]
            if c.name in SERIALS:
                values.append(i)
            elif c.name in FROM_SOURCE and t == 1:
                values.append(from_source[i][c.name])
            else:
                values.append(c.expected[t] if t < len(c.expected) else None)
        columns[c.name] = pa.array(values, to_arrow_type(c.paimon)).to_pylist()
    return [{name: columns[name][k] for name in columns} for k in range(len(ids))]


def _same(got, want) -> bool:
    if isinstance(want, dt.time):  # TIME: milliseconds of the day (see the module docstring)
        return isinstance(got, dt.time) and _ms(got) == _ms(want)
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(_same, got, want))
    if isinstance(want, dt.datetime) and want.tzinfo is not None:  # an instant: must be aware too
        return isinstance(got, dt.datetime) and got.tzinfo is not None and got == want
    if isinstance(want, dt.datetime):
        return isinstance(got, dt.datetime) and got.tzinfo is None and got == want
    return type(got) is type(want) and got == want


def _ms(t: dt.time) -> dt.time:
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def differences(lake: list[dict], expected: list[dict]) -> list[str]:
    out = []
    if [r["id"] for r in lake] != [r["id"] for r in expected]:
        return [f"ids {[r['id'] for r in lake]} != {[r['id'] for r in expected]}"]
    for got, want in zip(lake, expected):
        if set(got) != set(want):
            out.append(f"columns {sorted(set(got) ^ set(want))} differ")
        for name, value in want.items():
            if not _same(got.get(name), value):
                out.append(f"id {want['id']} {name}: {got.get(name)!r} != {value!r}")
    return out


# --- the lake ---------------------------------------------------------------------------------

def read_lake(warehouse: str, table: str) -> pa.Table:
    catalog = pypaimon.CatalogFactory.create({"warehouse": warehouse})
    t = catalog.get_table(table)
    rb = t.new_read_builder()
    return rb.new_read().to_arrow(rb.new_scan().plan().splits())


def lake_rows(warehouse: str, table: str) -> list[dict]:
    return sorted(read_lake(warehouse, table).to_pylist(), key=lambda r: r["id"])


def latest_schema(warehouse: str, database: str, table: str) -> dict:
    files = glob.glob(os.path.join(warehouse, f"{database}.db", table, "schema", "schema-*"))
    latest = max(files, key=lambda f: int(f.rsplit("-", 1)[1]))
    with open(latest) as f:
        return json.load(f)


def wait_checked(what: str, job: Job, check, timeout: float = TIMEOUT):
    """Polls ``check()`` (-> list of differences, empty when done) until it passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            problems = check()
        except Exception as e:  # noqa: BLE001 - the table may not exist yet
            problems = [f"{type(e).__name__}: {e}"]
        if not problems:
            return
        if job.process.poll() is not None:
            pytest.fail(f"{what}: the job ended (code {job.process.returncode}); {problems[:5]}\n{job.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not reached after {timeout} s: {problems[:8]}\n{job.output()}")
        time.sleep(1.0)


def job_args(pg, database: str, warehouse: str, slot: str, **conf) -> list[str]:
    return ["--warehouse", warehouse, "--database", "lake", *conf_args(pg, database, slot=slot, **conf)]


# --- the tests --------------------------------------------------------------------------------

def test_every_type_snapshot_and_stream(pg, types_database, tmp_path):
    database = types_database
    warehouse = str(tmp_path / "lake")
    create_table(pg, database, "all_types")
    templates = {1: 0, 2: 1, 3: NULL_TEMPLATE}
    insert(pg, database, templates)

    def check(expected):
        return lambda: differences(lake_rows(warehouse, "lake.all_types"), expected())

    def expected():
        return expected_rows(templates, source_values(pg, database, sorted(FROM_SOURCE)))

    job = Job("postgres_sync_database",
              job_args(pg, database, warehouse, "types_lake", **{"scan.startup.mode": "initial"}),
              str(tmp_path / "job.log"))
    try:
        wait_checked("the snapshot", job, check(expected))
        # while streaming: inserts, updates (NULL -> values, values -> NULL, all columns), a key
        # change and deletes, each through pgoutput
        insert(pg, database, {4: 0, 5: 1, 6: NULL_TEMPLATE})
        update(pg, database, 1, 1)
        update(pg, database, 3, 0)
        update(pg, database, 5, NULL_TEMPLATE)
        pg.execute("UPDATE all_types SET id = 8, c_serial = 8, c_bigserial = 8 WHERE id = 4", database=database)
        pg.execute("DELETE FROM all_types WHERE id IN (2, 6)", database=database)
        pg.execute("INSERT INTO all_types (id, c_serial, c_bigserial) VALUES (9, 9, 9)", database=database)
        templates = {1: 1, 3: 0, 5: NULL_TEMPLATE, 8: 0, 9: NULL_TEMPLATE}
        wait_checked("the streamed changes", job, check(expected))
    finally:
        job.stop()

    lake = read_lake(warehouse, "lake.all_types")
    for value in lake.column("c_num_free").to_pylist() + [v for a in lake.column("c_num_free_arr").to_pylist()
                                                          if a for v in a]:
        assert value is None or value.as_tuple().exponent == -18, value
    assert lake.schema.field("c_tstz").type == pa.timestamp("us", tz="UTC")
    assert lake.schema.field("c_tstz3").type.tz == "UTC"

    schema = latest_schema(warehouse, "lake", "all_types")
    types = {f["name"]: f["type"] for f in schema["fields"]}
    assert schema["primaryKeys"] == ["id"]
    assert types["id"] == "INT NOT NULL"
    assert types["c_varchar"] == "VARCHAR(20)"
    assert types["c_domain_text"] == "VARCHAR(8)"
    assert types["c_char"] == "CHAR(5)"
    assert types["c_num"] == "DECIMAL(10, 2)"
    assert types["c_num_free"] == "DECIMAL(38, 18)"
    assert types["c_num_wide"] == "STRING"
    assert types["c_ts3"] == "TIMESTAMP(3)"
    assert types["c_ts"] == "TIMESTAMP(6)"
    assert types["c_tstz"] == "TIMESTAMP(6) WITH LOCAL TIME ZONE"
    assert types["c_tstz3"] == "TIMESTAMP(3) WITH LOCAL TIME ZONE"
    assert types["c_int4_arr"] == {"type": "ARRAY", "element": "INT"}
    assert types["c_varchar_arr"] == {"type": "ARRAY", "element": "VARCHAR(3)"}  # element lengths kept
    assert types["c_char_arr"] == {"type": "ARRAY", "element": "CHAR(2)"}
    assert types["c_serial"] == "INT NOT NULL"
    for c in LAKE_COLUMNS:
        assert types[c.name] == c.paimon.to_json(), c.name
    # pypaimon's view of the same schema
    table = pypaimon.CatalogFactory.create({"warehouse": warehouse}).get_table("lake.all_types")
    pypaimon_types = {f.name: str(f.type) for f in table.table_schema.fields}
    assert pypaimon_types["c_char"] == "CHAR(5)" and pypaimon_types["c_num"] == "DECIMAL(10, 2)"


EXTRA_TEXT_COLUMNS = [  # no Paimon type, or values Paimon cannot hold: fine as STRING
    ("c_point", "point", "'(1.5,-2)'"),
    ("c_interval", "interval", "'1 day 2 hours -3 seconds'"),
    ("c_nan", "numeric", "'NaN'"),
    ("c_inf_ts", "timestamp", "'infinity'"),
    ("c_matrix", "int4[]", "'{{1,2},{3,4}}'"),
]


def test_to_string_snapshot_mode(pg, types_database, tmp_path):
    database = types_database
    warehouse = str(tmp_path / "lake")
    create_table(pg, database, "all_types", [(n, t) for n, t, _ in EXTRA_TEXT_COLUMNS])
    insert(pg, database, {1: 0, 2: 1, 3: NULL_TEMPLATE})
    pg.execute(f"UPDATE all_types SET ({', '.join(n for n, _, _ in EXTRA_TEXT_COLUMNS)}) = "
               f"({', '.join(v for _, _, v in EXTRA_TEXT_COLUMNS)}) WHERE id = 1", database=database)
    names = ["id"] + NAMES + [n for n, _, _ in EXTRA_TEXT_COLUMNS]
    job = Job("postgres_sync_table",
              ["--warehouse", warehouse, "--database", "lake", "--table", "all_types_text",
               "--type_mapping", "to-string",
               *conf_args(pg, database, slot="types_text", **{"table-name": "all_types",
                                                                  "scan.startup.mode": "snapshot"})],
              str(tmp_path / "job.log"))
    code = job.wait(timeout=TIMEOUT)
    assert code == 0, job.output()

    expected = sorted(source_text(pg, database, names), key=lambda r: int(r["id"]))
    lake = read_lake(warehouse, "lake.all_types_text")
    assert lake.column_names == names
    assert set(lake.schema.types) == {pa.string()}
    rows = sorted(lake.to_pylist(), key=lambda r: int(r["id"]))
    assert [r["id"] for r in rows] == [r["id"] for r in expected]
    wrong = [f"id {want['id']} {n}: {got[n]!r} != {want[n]!r}" for got, want in zip(rows, expected)
             for n in names if got[n] != want[n]]
    assert not wrong, wrong
    assert rows[0]["c_int4_arr"] == "{1,NULL,-3}" and rows[0]["c_point"] == "(1.5,-2)"
    assert rows[0]["c_bool"] == "t" and rows[0]["c_char"] == "ab   " and rows[0]["c_matrix"] == "{{1,2},{3,4}}"
    assert rows[0]["c_tstz"] == "2020-06-01 06:30:00.5+00"  # the job's session: ISO, UTC

    schema = latest_schema(warehouse, "lake", "all_types_text")
    types = {f["name"]: f["type"] for f in schema["fields"]}
    assert types.pop("id") == "STRING NOT NULL"
    assert types.pop("c_serial") == types.pop("c_bigserial") == "STRING NOT NULL"
    assert set(types.values()) == {"STRING"}


def test_unsupported_type_fails_fast(pg, types_database, tmp_path):
    database = types_database
    warehouse = str(tmp_path / "lake")
    pg.execute("CREATE TABLE geo (id int PRIMARY KEY, name text, c_where point)", database=database)
    pg.execute("INSERT INTO geo VALUES (1, 'a', '(1,2)')", database=database)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "jobs", "postgres_sync_database.py"),
         *job_args(pg, database, warehouse, "types_bad"),
         "--flink_conf", "execution.checkpointing.interval=500ms"],
        capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert ("column 'c_where' has PostgreSQL type point, which has no Paimon type — use --type_mapping "
            "to-string") in result.stderr, output[-3000:]
    assert "Syncing into" not in result.stdout  # prepare() failed: nothing submitted
    assert "pyflink" not in output.lower() and "JobManager" not in output, output[-3000:]
    assert not os.path.exists(os.path.join(warehouse, "lake.db", "geo"))
    assert elapsed < 60, f"took {elapsed:.0f} s"
