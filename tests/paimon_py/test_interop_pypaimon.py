"""paimon_py and pypaimon 2.1.0 read each other's tables, row for row.

Every test writes through one library, then reads through both and compares with a plain Python
model of the expected rows (a dict keyed by primary key for PK tables, a multiset for append
tables). Catalogs are re-opened before each read so nothing cached hides what is on disk.

pypaimon 2.1.0 limitations worked around here (format doc §12):
* it writes ``_DELETE_ROW_COUNT = 0`` even for files holding -U/-D rows, so a bucket whose *only*
  file holds deletes is read raw by it (and by Java). Tables that pypaimon writes here only
  delete keys that already exist, i.e. whose bucket already has an older file;
* it cannot read -U/-D rows under partial-update/aggregation: only the default deduplicate merge
  engine is used.
"""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import os
import random

import pyarrow as pa
import pytest

from tests.support import helpers as h
from tests.support.dynamic_bucket import assert_dynamic_bucket_layout
from tests.support.type_cases import TYPE_CASES, cycle_value

D = decimal.Decimal
UTC = dt.timezone.utc


def _field(name, arrow_type, nullable=True):
    return pa.field(name, arrow_type, nullable=nullable)


def _read_both(warehouse, name, keys, projection=None):
    """(paimon_py rows, pypaimon rows), each sorted by ``keys``, from freshly opened catalogs."""
    pp_table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.{name}")
    ppy_table = h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.{name}")
    return (h.sort_rows(h.read_arrow(pp_table, projection).to_pylist(), keys),
            h.sort_rows(h.read_arrow(ppy_table, projection).to_pylist(), keys))


def _assert_both_read(warehouse, name, keys, expected_rows, what, projection=None):
    expected = h.sort_rows(expected_rows, keys)
    pp_rows, ppy_rows = _read_both(warehouse, name, keys, projection)
    h.assert_rows_equal(ppy_rows, expected, f"pypaimon reading {name} ({what})")
    h.assert_rows_equal(pp_rows, expected, f"paimon_py reading {name} ({what})")


def _assert_both_read_multiset(warehouse, name, expected_rows, what):
    pp_table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.{name}")
    ppy_table = h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.{name}")
    expected = h.as_multiset(expected_rows)
    for reader, table in (("pypaimon", ppy_table), ("paimon_py", pp_table)):
        got = h.read_arrow(table).to_pylist()
        actual = h.as_multiset(got)
        if actual != expected:
            missing = expected - actual
            extra = actual - expected
            raise AssertionError(
                f"{reader} reading {name} ({what}): {len(got)} rows, {sum(expected.values())} "
                f"expected; missing {list(missing.elements())[:5]}; extra {list(extra.elements())[:5]}")


class PkModel:
    """Expected content of a deduplicate PK table: the last +I/+U row per key wins, -U/-D delete."""

    def __init__(self, keys, rowkind_field="rk"):
        self.keys = list(keys)
        self.rowkind_field = rowkind_field
        self.rows: dict[tuple, dict] = {}

    def key(self, row):
        return tuple(row[k] for k in self.keys)

    def apply(self, rows):
        for row in rows:
            kind = row.get(self.rowkind_field, "+I") if self.rowkind_field else "+I"
            if kind in ("+I", "+U"):
                self.rows[self.key(row)] = dict(row)
            else:
                self.rows.pop(self.key(row), None)

    def expected(self):
        return list(self.rows.values())


# ---------------------------------------------------------------------------------------------
# 1. Primary-key table, 4 buckets, partitioned by DATE and INT, inserts/updates/deletes
# ---------------------------------------------------------------------------------------------

PK_SCHEMA = pa.schema([
    _field("dt", pa.date32(), False),
    _field("hr", pa.int32(), False),
    _field("id", pa.int64(), False),
    _field("name", pa.string()),
    _field("amount", pa.decimal128(10, 2)),
    _field("score", pa.float64()),
    _field("rk", pa.string()),
])
PK_KEYS = ["dt", "hr", "id"]
PK_OPTIONS = {"bucket": "4", "rowkind.field": "rk", "file.format": "parquet"}
DATES = [dt.date(2024, 1, 1), dt.date(2024, 2, 29), dt.date(1999, 12, 31)]
HOURS = [0, 23]


def _pk_row(rng, d, hr, i, kind, version):
    name = rng.choice(["x", "short", "a longer name é", None, f"name-{i}-v{version}"])
    return {"dt": d, "hr": hr, "id": i, "name": name,
            "amount": None if rng.random() < 0.1 else D(rng.randint(-10**6, 10**6)) / 100,
            "score": None if rng.random() < 0.1 else rng.randint(-1000, 1000) / 4, "rk": kind}


def _pk_commits(seed=7, n_commits=7, ids_per_partition=60):
    """Batches (each a list of list-of-rows = write_arrow calls) of a random CDC-like history."""
    rng = random.Random(seed)
    live: set = set()
    ever: set = set()
    commits = []
    next_id = 1000
    for c in range(n_commits):
        calls = []
        for _call in range(2 if c % 2 else 1):  # several write_arrow calls per commit sometimes
            rows = []
            if c == 0:
                for d in DATES:
                    for hr in HOURS:
                        for i in range(ids_per_partition):
                            rows.append(_pk_row(rng, d, hr, i, "+I", c))
                rng.shuffle(rows)
            else:
                keys = sorted(live)
                for key in rng.sample(keys, min(len(keys), 40)):
                    op = rng.random()
                    if op < 0.4:
                        rows.append(_pk_row(rng, *key, "+U", c))
                    elif op < 0.6:  # update as a -U/+U pair
                        rows.append({**_pk_row(rng, *key, "-U", c)})
                        rows.append(_pk_row(rng, *key, "+U", c))
                    elif op < 0.85:
                        rows.append({**_pk_row(rng, *key, "-D", c)})
                    else:  # same key twice in one batch: the later row wins
                        rows.append(_pk_row(rng, *key, "+U", c))
                        rows.append(_pk_row(rng, *key, "+U", c + 100))
                for _ in range(10):  # new keys, also into a fresh partition
                    d = rng.choice(DATES + [dt.date(2030, 6, 15)])
                    rows.append(_pk_row(rng, d, rng.choice(HOURS), next_id, "+I", c))
                    next_id += 1
                for key in rng.sample(sorted(ever - live), min(len(ever - live), 3)):
                    rows.append(_pk_row(rng, *key, "+I", c))  # re-insert a deleted key
                rows.append(_pk_row(rng, DATES[0], 0, 999_999, "-D", c))  # delete of a missing key
            calls.append(rows)
            # track liveness as the model would
            for row in rows:
                key = (row["dt"], row["hr"], row["id"])
                ever.add(key)
                if row["rk"] in ("+I", "+U"):
                    live.add(key)
                else:
                    live.discard(key)
        commits.append(calls)
    return commits


def test_pk_table_multi_bucket_partitioned_cdc_history(warehouse, pp_catalog):
    table = h.create_table(pp_catalog, "pk", PK_SCHEMA, partition_keys=["dt", "hr"],
                           primary_keys=PK_KEYS, options=PK_OPTIONS)
    model = PkModel(PK_KEYS)
    for n, calls in enumerate(_pk_commits(), start=1):
        table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.pk")
        h.write_batches(table, *[pa.Table.from_pylist(rows, schema=PK_SCHEMA) for rows in calls])
        for rows in calls:
            model.apply(rows)
        _assert_both_read(warehouse, "pk", PK_KEYS, model.expected(), f"after commit {n}")
    # one APPEND snapshot per commit (plus COMPACT snapshots if the writer compacted, as Java does)
    kinds = h.snapshot_kinds(h.table_dir(warehouse, "pk"))
    assert kinds.count("APPEND") == 7 and set(kinds) <= {"APPEND", "COMPACT"}, kinds
    # premise of the test (not a format rule): readers had to merge several files per bucket
    files_per_bucket = collections.Counter(
        root for root, _dirs, files in os.walk(h.table_dir(warehouse, "pk"))
        for f in files if f.startswith("data-"))
    assert max(files_per_bucket.values()) >= 4, files_per_bucket
    # projection through both readers
    expected = [{"id": r["id"], "name": r["name"], "hr": r["hr"], "dt": r["dt"]}
                for r in model.expected()]
    _assert_both_read(warehouse, "pk", PK_KEYS, expected, "projection id,name,hr,dt",
                      projection=["id", "name", "hr", "dt"])
    for catalog in (h.paimon_py_catalog(warehouse), h.pypaimon_catalog(warehouse)):
        names = h.read_arrow(catalog.get_table(f"{h.DB}.pk"), ["id", "name", "hr", "dt"]).schema.names
        assert names == ["id", "name", "hr", "dt"], (type(catalog).__module__, names)


def test_pk_table_pandas_write_and_read(warehouse, pp_catalog):
    """write_pandas / to_pandas round trip, read back by pypaimon."""
    schema = pa.schema([_field("id", pa.int64(), False), _field("v", pa.string()),
                        _field("x", pa.float64())])
    table = h.create_table(pp_catalog, "pd", schema, primary_keys=["id"], options={"bucket": "2"})
    df = pa.Table.from_pylist([{"id": i, "v": f"v{i}", "x": i / 2} for i in range(50)],
                              schema=schema).to_pandas()
    builder = table.new_batch_write_builder()
    write, commit = builder.new_write(), builder.new_commit()
    write.write_pandas(df)
    commit.commit(write.prepare_commit())
    write.close()
    commit.close()
    expected = df.to_dict("records")
    _assert_both_read(warehouse, "pd", ["id"], expected, "pandas")
    rb = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.pd").new_read_builder()
    out = rb.new_read().to_pandas(rb.new_scan().plan().splits())
    assert sorted(out["id"].tolist()) == list(range(50))


# ---------------------------------------------------------------------------------------------
# 2. Append tables
# ---------------------------------------------------------------------------------------------

APPEND_SCHEMA = pa.schema([
    _field("region", pa.string()),
    _field("k1", pa.int32()),
    _field("k2", pa.string()),
    _field("v", pa.float64()),
    _field("payload", pa.binary()),
])
REGIONS = ["eu", "us-west", "a/b=c", "Zürich", None]


def _append_rows(rng, n, tag, regions=REGIONS):
    return [{"region": rng.choice(regions), "k1": rng.randint(-5, 50),
             "k2": rng.choice(["k", "longer key é", None, f"{tag}-{i % 13}"]),
             "v": rng.randint(0, 10**6) / 8, "payload": None if i % 5 == 0 else f"{tag}{i}".encode()}
            for i in range(n)]


@pytest.mark.parametrize("options", [
    pytest.param({"bucket": "-1"}, id="unaware"),
    pytest.param({"bucket": "2", "bucket-key": "k1,k2"}, id="bucketed"),
])
def test_append_table(warehouse, pp_catalog, options):
    schema = APPEND_SCHEMA
    h.create_table(pp_catalog, "app", schema, partition_keys=["region"],
                   options={**options, "file.format": "parquet"})
    rng = random.Random(3)
    expected = []
    for n in range(4):
        rows = _append_rows(rng, 150, f"c{n}")
        rows += rows[:5]  # exact duplicate rows are kept by append tables
        table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.app")
        h.write_rows(table, schema, rows)
        expected += rows
        _assert_both_read_multiset(warehouse, "app", expected, f"after commit {n + 1}")


# ---------------------------------------------------------------------------------------------
# 3. Every atomic type, NULLs in every nullable column, composite primary key of several types
# ---------------------------------------------------------------------------------------------

ALL_TYPES = list(TYPE_CASES)


def _all_types_schema(pk_types=()):
    fields = [_field("row_id", pa.int64(), False)]
    fields += [_field(f"pk_{n}", TYPE_CASES[n][0], False) for n in pk_types]
    fields += [_field(f"c_{n}", TYPE_CASES[n][0]) for n in ALL_TYPES]
    return pa.schema(fields)


def _all_types_row(i, pk_types=(), null_every=4):
    row = {"row_id": i}
    for n in pk_types:
        row[f"pk_{n}"] = cycle_value(n, i)
    for j, n in enumerate(ALL_TYPES):
        row[f"c_{n}"] = None if (i + j) % null_every == 0 else cycle_value(n, i + j)
    return row


def test_all_types_append_table(warehouse, pp_catalog):
    schema = _all_types_schema()
    h.create_table(pp_catalog, "types_append", schema, options={"bucket": "-1"})
    rows = [_all_types_row(i) for i in range(60)]
    rows.append({"row_id": 1000, **{f"c_{n}": None for n in ALL_TYPES}})  # all-null row
    table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.types_append")
    h.write_rows(table, schema, rows[:30])
    h.write_rows(table, schema, rows[30:])
    _assert_both_read(warehouse, "types_append", ["row_id"], rows, "all types")


COMPOSITE_PK = ["string", "int", "date", "decimal_38_10", "timestamp_6", "bytes", "tinyint",
                "decimal_10_2", "timestamp_3", "bigint", "boolean"]


def test_all_types_composite_primary_key(warehouse, pp_catalog):
    """Composite PK of eleven types (bucket hash over all of them), every type as a value column."""
    schema = _all_types_schema(COMPOSITE_PK)
    keys = [f"pk_{n}" for n in COMPOSITE_PK]
    h.create_table(pp_catalog, "types_pk", schema, primary_keys=keys,
                   options={"bucket": "4", "file.format": "parquet"})
    model = PkModel(keys, rowkind_field=None)
    rows = [_all_types_row(i, COMPOSITE_PK) for i in range(80)]
    table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.types_pk")
    h.write_rows(table, schema, rows)
    model.apply(rows)
    # second commit: update half the keys (new value columns, same key columns)
    updates = [{**_all_types_row(i + 7, COMPOSITE_PK), **{k: r[k] for k in keys}, "row_id": r["row_id"]}
               for i, r in enumerate(rows[::2])]
    table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.types_pk")
    h.write_rows(table, schema, updates)
    model.apply(updates)
    _assert_both_read(warehouse, "types_pk", ["row_id"], model.expected(), "composite key")


def test_read_schema_matches_pypaimon(warehouse, pp_catalog):
    """Both readers return the same Arrow column types for a table paimon_py created."""
    schema = _all_types_schema(["int", "string"])
    h.create_table(pp_catalog, "types_schema", schema, primary_keys=["pk_int", "pk_string"],
                   options={"bucket": "1"})
    table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.types_schema")
    h.write_rows(table, schema, [_all_types_row(i, ["int", "string"]) for i in range(5)])
    pp = h.read_arrow(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.types_schema"))
    ppy = h.read_arrow(h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.types_schema"))
    assert pp.schema.names == ppy.schema.names
    diffs = {f.name: (str(f.type), str(ppy.schema.field(f.name).type))
             for f in pp.schema if f.type != ppy.schema.field(f.name).type}
    assert not diffs, f"column types differ (paimon_py, pypaimon): {diffs}"


# ---------------------------------------------------------------------------------------------
# 4. Schema evolution: added column
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("primary_keys", [["id"], []], ids=["pk", "append"])
def test_added_column(warehouse, pp_catalog, primary_keys):
    import paimon_py

    schema0 = pa.schema([_field("id", pa.int64(), not primary_keys), _field("a", pa.string())])
    options = {"bucket": "2"} if primary_keys else {"bucket": "-1"}
    table = h.create_table(pp_catalog, "evo", schema0, primary_keys=primary_keys, options=options)
    rows0 = [{"id": i, "a": f"a{i}"} for i in range(20)]
    h.write_rows(table, schema0, rows0)

    pp_catalog.alter_table(f"{h.DB}.evo", [paimon_py.SchemaChange.add_column("c", pa.int64())])
    schema1 = pa.schema(list(schema0) + [_field("c", pa.int64())])
    table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.evo")
    if primary_keys:
        rows1 = [{"id": i, "a": f"b{i}", "c": i * 10} for i in range(10, 30)]  # 10..19 are updates
        expected = {r["id"]: {**r, "c": None} for r in rows0}
        expected.update({r["id"]: r for r in rows1})
        expected = list(expected.values())
    else:
        rows1 = [{"id": i, "a": f"b{i}", "c": None if i % 3 == 0 else i * 10} for i in range(10, 30)]
        expected = [{**r, "c": None} for r in rows0] + rows1
    h.write_rows(table, schema1, rows1)
    assert sorted(os.listdir(os.path.join(h.table_dir(warehouse, "evo"), "schema"))) == \
        ["schema-0", "schema-1"]
    if primary_keys:
        _assert_both_read(warehouse, "evo", ["id"], expected, "after add column")
    else:
        _assert_both_read_multiset(warehouse, "evo", expected, "after add column")


# ---------------------------------------------------------------------------------------------
# 5. pypaimon writes, paimon_py reads and continues writing, pypaimon reads the result
# ---------------------------------------------------------------------------------------------

REV_SCHEMA = pa.schema([
    _field("region", pa.string(), False),
    _field("id", pa.int64(), False),
    _field("v", pa.string()),
    _field("n", pa.int32()),
    _field("rk", pa.string()),
])
REV_KEYS = ["region", "id"]


def _rev_rows(ids, kind, tag, region_of=lambda i: ["eu", "us", "Zürich a/b"][i % 3]):
    return [{"region": region_of(i), "id": i, "v": f"{tag}-{i}", "n": i * 3 if i % 4 else None,
             "rk": kind} for i in ids]


def test_pk_table_written_by_pypaimon_then_paimon_py(warehouse, ppy_catalog):
    h.create_table(ppy_catalog, "rev", REV_SCHEMA, partition_keys=["region"],
                         primary_keys=REV_KEYS,
                         options={"bucket": "2", "rowkind.field": "rk", "file.format": "parquet"})
    model = PkModel(REV_KEYS)
    history = [
        ("pypaimon", _rev_rows(range(60), "+I", "p1")),
        ("pypaimon", _rev_rows(range(0, 60, 2), "+U", "p2")),
        ("pypaimon", _rev_rows(range(0, 60, 4), "+U", "p3") + _rev_rows(range(1, 60, 6), "-D", "p3")),
        # pypaimon's own state is checked here (sanity of the reference)
        ("paimon_py", _rev_rows(range(0, 60, 4), "+U", "q1")      # keys pypaimon updated twice
         + _rev_rows(range(3, 60, 9), "-D", "q1")
         + _rev_rows(range(1, 60, 12), "+I", "q1")                 # re-insert pypaimon-deleted
         + _rev_rows(range(100, 120), "+I", "q1")),
        ("paimon_py", _rev_rows(range(100, 120, 2), "-U", "q2") + _rev_rows(range(100, 120, 2), "+U", "q2")
         + _rev_rows(range(0, 60, 8), "+U", "q2")),
        # and pypaimon again on top: its sequence numbers must continue after paimon_py's
        ("pypaimon", _rev_rows(range(0, 60, 16), "+U", "p4") + _rev_rows(range(105, 120, 5), "-D", "p4")),
    ]
    for n, (writer, rows) in enumerate(history, start=1):
        if writer == "pypaimon":
            table = h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.rev")
        else:
            table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.rev")
        h.write_rows(table, REV_SCHEMA, rows)
        model.apply(rows)
        if writer == "pypaimon" and n <= 3:
            got = h.rows_sorted(h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.rev"), REV_KEYS)
            h.assert_rows_equal(got, h.sort_rows(model.expected(), REV_KEYS),
                                f"pypaimon reading its own table after commit {n} (reference sanity)")
            continue
        _assert_both_read(warehouse, "rev", REV_KEYS, model.expected(), f"after {writer} commit {n}")
    kinds = h.snapshot_kinds(h.table_dir(warehouse, "rev"))
    assert kinds.count("APPEND") == len(history) and set(kinds) <= {"APPEND", "COMPACT"}, kinds


def test_pypaimon_written_table_read_by_paimon_py(warehouse, ppy_catalog):
    """Plain read of a pypaimon PK table with updates and deletes (before any paimon_py write)."""
    h.create_table(ppy_catalog, "rev2", REV_SCHEMA, partition_keys=["region"], primary_keys=REV_KEYS,
                   options={"bucket": "2", "rowkind.field": "rk"})
    model = PkModel(REV_KEYS)
    for rows in (_rev_rows(range(40), "+I", "a"), _rev_rows(range(0, 40, 3), "+U", "b"),
                 _rev_rows(range(1, 40, 5), "-D", "c") + _rev_rows(range(2, 40, 5), "+U", "c")):
        h.write_rows(h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.rev2"), REV_SCHEMA, rows)
        model.apply(rows)
    _assert_both_read(warehouse, "rev2", REV_KEYS, model.expected(), "pypaimon-written")


@pytest.mark.parametrize("options", [
    pytest.param({"bucket": "-1"}, id="unaware"),
    pytest.param({"bucket": "2", "bucket-key": "k1"}, id="bucketed"),
])
def test_append_table_written_by_pypaimon_then_paimon_py(warehouse, ppy_catalog, options):
    h.create_table(ppy_catalog, "rev_app", APPEND_SCHEMA, partition_keys=["region"], options=options)
    rng = random.Random(11)
    # pypaimon 2.1.0 cannot write a second commit into a bucketed append table holding a NULL
    # partition (TypeError in Predicate.test_by_simple_stats while restoring sequence numbers)
    regions = REGIONS if options["bucket"] == "-1" else [r for r in REGIONS if r is not None]
    expected = []
    for n, writer in enumerate(["pypaimon", "pypaimon", "paimon_py", "pypaimon", "paimon_py"], 1):
        rows = _append_rows(rng, 80, f"{writer}{n}", regions)
        if writer == "pypaimon":
            table = h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.rev_app")
        else:
            table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.rev_app")
        h.write_rows(table, APPEND_SCHEMA, rows)
        expected += rows
        if n >= 2:
            _assert_both_read_multiset(warehouse, "rev_app", expected, f"after {writer} commit {n}")


# ---------------------------------------------------------------------------------------------
# 6. Same rows -> same partition directory and same bucket in both libraries
# ---------------------------------------------------------------------------------------------

def _write_with_both(warehouse, name, schema, rows, partition_keys=(), primary_keys=(), options=None):
    """Write ``rows`` into ``<name>_pp`` with paimon_py and ``<name>_ppy`` with pypaimon."""
    pp_catalog, ppy_catalog = h.paimon_py_catalog(warehouse), h.pypaimon_catalog(warehouse)
    for catalog, suffix in ((pp_catalog, "_pp"), (ppy_catalog, "_ppy")):
        table = h.create_table(catalog, name + suffix, schema, partition_keys=partition_keys,
                               primary_keys=primary_keys, options=options)
        h.write_rows(table, schema, rows)


def _assert_same_placement(warehouse, name, key_columns):
    pp = h.file_locations_by_key(h.table_dir(warehouse, name + "_pp"), key_columns)
    ppy = h.file_locations_by_key(h.table_dir(warehouse, name + "_ppy"), key_columns)
    assert set(pp) == set(ppy), "the two tables hold different keys"
    diffs = {k: (sorted(pp[k]), sorted(ppy[k])) for k in pp if pp[k] != ppy[k]}
    assert not diffs, (f"{len(diffs)} of {len(pp)} keys are placed differently "
                       f"(paimon_py, pypaimon): {dict(list(diffs.items())[:6])}")


def test_same_bucket_and_partition_dirs_pk_date_int_partitions(warehouse):
    rows = [r for calls in _pk_commits(n_commits=1) for batch in calls for r in batch]
    _write_with_both(warehouse, "place_pk", PK_SCHEMA, rows, partition_keys=["dt", "hr"],
                     primary_keys=PK_KEYS, options=PK_OPTIONS)
    _assert_same_placement(warehouse, "place_pk", PK_KEYS)
    # and each library reads the other's table
    expected = h.sort_rows(rows, PK_KEYS)
    for name in ("place_pk_pp", "place_pk_ppy"):
        _assert_both_read(warehouse, name, PK_KEYS, expected, "placement table")


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_same_bucket_single_column_primary_key(warehouse, type_name):
    """Bucket hash of a one-column key of each atomic type (BinaryRow encoding of that type)."""
    arrow_type, values = TYPE_CASES[type_name]
    schema = pa.schema([_field("k", arrow_type, False), _field("v", pa.string()),
                        _field("n", pa.int64())])
    rows = [{"k": value, "v": f"v{i}", "n": i} for i, value in enumerate(values)]
    _write_with_both(warehouse, "place_one", schema, rows, primary_keys=["k"],
                     options={"bucket": "4"})
    _assert_same_placement(warehouse, "place_one", ["k"])
    for name in ("place_one_pp", "place_one_ppy"):
        _assert_both_read(warehouse, name, ["n"], rows, f"{type_name} key")


def test_same_bucket_composite_primary_key(warehouse):
    schema = pa.schema([_field("row_id", pa.int64(), False)]
                       + [_field(f"pk_{n}", TYPE_CASES[n][0], False) for n in COMPOSITE_PK]
                       + [_field("v", pa.string())])
    rows = [{"row_id": i, **{f"pk_{n}": cycle_value(n, i * 3 + j) for j, n in enumerate(COMPOSITE_PK)},
             "v": f"v{i}"} for i in range(120)]
    keys = [f"pk_{n}" for n in COMPOSITE_PK]
    _write_with_both(warehouse, "place_comp", schema, rows, primary_keys=keys,
                     options={"bucket": "4"})
    _assert_same_placement(warehouse, "place_comp", ["row_id"])


def test_same_bucket_bucketed_append_with_nullable_bucket_key(warehouse):
    """bucket-key of two nullable columns (nulls set null bits), partition values needing escapes."""
    rng = random.Random(5)
    rows = _append_rows(rng, 300, "x")
    for i, row in enumerate(rows):
        row["v"] = float(i)  # unique per row: used as the row identity below
    # nulls only in INT/STRING key columns: pypaimon and Java differ for null DECIMAL p>18 and
    # TIMESTAMP p>3 bucket keys (format §5), which are therefore not used here
    _write_with_both(warehouse, "place_app", APPEND_SCHEMA, rows, partition_keys=["region"],
                     options={"bucket": "3", "bucket-key": "k1,k2"})
    _assert_same_placement(warehouse, "place_app", ["v"])


PARTITION_SCHEMA = pa.schema([
    _field("p_bool", pa.bool_()), _field("p_tiny", pa.int8()), _field("p_int", pa.int32()),
    _field("p_big", pa.int64()), _field("p_str", pa.string()), _field("p_date", pa.date32()),
    _field("p_dec", pa.decimal128(10, 2)), _field("p_ts", pa.timestamp("us")),
    _field("p_ts3", pa.timestamp("ms")), _field("v", pa.int64()),
])

PARTITION_STRINGS = ["plain", "a/b", "x=y", "sp ace", "é漢字", "q?h#p%", "c:d*e", "[]{}^'\"\\",
                     "tab\tnl\n", "", " ", None, "__DEFAULT_PARTITION__x"]


def test_same_partition_dirs_for_all_partition_types(warehouse):
    """Legacy partition names: DATE as epoch days, TIMESTAMP as LocalDateTime text, escapes, NULLs."""
    rows = []
    for i in range(40):
        s = PARTITION_STRINGS[i % len(PARTITION_STRINGS)]
        rows.append({
            "p_bool": None if i % 7 == 0 else bool(i % 2),
            "p_tiny": None if i % 11 == 0 else (i % 5) - 2,
            "p_int": -(i % 3) * 1000,
            "p_big": (i % 4) * 10**12 if i % 9 else None,
            "p_str": s,
            "p_date": None if i % 8 == 0 else dt.date(1969, 12, 30) + dt.timedelta(days=(i % 4) * 9000),
            "p_dec": None if i % 10 == 0 else D(i % 4 - 1) / 4,
            "p_ts": [dt.datetime(2024, 1, 1, 12, 0), dt.datetime(2024, 1, 1, 12, 0, 5),
                     dt.datetime(2024, 1, 1, 0, 0, 0, 123456), dt.datetime(1969, 12, 31, 23, 59, 59, 100000),
                     None][i % 5],
            "p_ts3": [dt.datetime(2024, 1, 1, 12, 0, 5, 123000), dt.datetime(2000, 2, 29), None][i % 3],
            "v": i,
        })
    partition_keys = [n for n in PARTITION_SCHEMA.names if n != "v"]
    _write_with_both(warehouse, "place_part", PARTITION_SCHEMA, rows, partition_keys=partition_keys,
                     options={"bucket": "-1"})
    _assert_same_placement(warehouse, "place_part", ["v"])
    for name in ("place_part_pp", "place_part_ppy"):
        _assert_both_read(warehouse, name, ["v"], rows, "partition types")


# ---------------------------------------------------------------------------------------------
# 7. Metadata that readers trust: checked against the data files, through pypaimon's scan
# ---------------------------------------------------------------------------------------------

def _check_files_through_pypaimon_scan(warehouse, name, trimmed_keys, pk_table=True, one_file_per_commit=True):
    """Every live file's DataFileMeta, as decoded by pypaimon, agrees with the file's content.

    With ``one_file_per_commit`` (no rolling), the files of a bucket must also have disjoint,
    increasing sequence ranges: each commit continues after the bucket's previous maximum.
    """
    import pyarrow.parquet as pq

    table = h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.{name}")
    splits = table.new_read_builder().new_scan().plan().splits()
    assert splits, "pypaimon planned no splits"
    seq_ranges: dict[tuple, list] = {}
    key_ranges: dict[tuple, list] = {}
    for split in splits:
        for f in split.files:
            where = f"{name}: {f.file_name}"
            assert os.path.getsize(f.file_path) == f.file_size, f"{where}: _FILE_SIZE"
            data = pq.read_table(f.file_path)
            assert data.num_rows == f.row_count, f"{where}: _ROW_COUNT"
            assert f.level >= 0 and f.extra_files == [], where
            assert f.file_source in (None, 0, 1), where
            if not pk_table:
                assert f.delete_row_count in (None, 0), where
                continue
            keys = list(zip(*[data.column(f"_KEY_{k}").to_pylist() for k in trimmed_keys]))
            assert keys == sorted(keys), f"{where}: rows not sorted by key"
            assert len(set(keys)) == len(keys), f"{where}: a key occurs twice in one file"
            assert list(keys[0]) == [f.min_key.get_field(i) for i in range(len(trimmed_keys))], \
                f"{where}: _MIN_KEY"
            assert list(keys[-1]) == [f.max_key.get_field(i) for i in range(len(trimmed_keys))], \
                f"{where}: _MAX_KEY"
            for i, k in enumerate(trimmed_keys):
                # null min/max = "unknown" (never prunes; Java omits binary stats too); otherwise
                # the stats must bound the column, or readers silently skip the file
                column = [key[i] for key in keys]
                low, high = f.key_stats.min_values.get_field(i), f.key_stats.max_values.get_field(i)
                assert low is None or low <= min(column), f"{where}: key min {k}: {low!r}"
                assert high is None or high >= max(column), f"{where}: key max {k}: {high!r}"
                assert f.key_stats.null_counts[i] == 0, f"{where}: key null count {k}"
            seq = data.column("_SEQUENCE_NUMBER").to_pylist()
            assert (f.min_sequence_number, f.max_sequence_number) == (min(seq), max(seq)), \
                f"{where}: sequence range"
            kinds = data.column("_VALUE_KIND").to_pylist()
            assert f.delete_row_count == sum(1 for k in kinds if k in (1, 3)), \
                f"{where}: _DELETE_ROW_COUNT"
            bucket_id = (tuple(split.partition.values) if hasattr(split.partition, "values")
                         else repr(split.partition), split.bucket)
            seq_ranges.setdefault(bucket_id, []).append((f.min_sequence_number, f.max_sequence_number))
            if f.level >= 1:
                key_ranges.setdefault((bucket_id, f.level), []).append((keys[0], keys[-1], f.file_name))
    # levels >= 1 are sorted runs: key ranges of their files must not overlap (Java's commit
    # check "LSM conflicts detected"; readers concatenate such files without merging)
    for (bucket_id, level), ranges in key_ranges.items():
        ranges.sort()
        for (_, prev_max, a), (next_min, _, b) in zip(ranges, ranges[1:]):
            assert prev_max < next_min, f"{name} {bucket_id} level {level}: {a} and {b} overlap"
    # one writer per commit: later files of a bucket continue the sequence of earlier ones
    # (compaction outputs cover their inputs' ranges, so this holds for them too)
    for bucket_id, ranges in (seq_ranges.items() if one_file_per_commit else ()):
        ranges.sort()
        for (_, prev_max), (next_min, _) in zip(ranges, ranges[1:]):
            assert next_min > prev_max, f"{name} {bucket_id}: overlapping sequence ranges {ranges}"


def test_file_metadata_agrees_with_file_content(warehouse, pp_catalog):
    h.create_table(pp_catalog, "meta", PK_SCHEMA, partition_keys=["dt", "hr"],
                   primary_keys=PK_KEYS, options=PK_OPTIONS)
    for calls in _pk_commits(seed=21, n_commits=5):
        table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.meta")
        h.write_batches(table, *[pa.Table.from_pylist(rows, schema=PK_SCHEMA) for rows in calls])
    _check_files_through_pypaimon_scan(warehouse, "meta", ["id"])

    schema = _all_types_schema(COMPOSITE_PK)
    keys = [f"pk_{n}" for n in COMPOSITE_PK]
    table = h.create_table(h.paimon_py_catalog(warehouse), "meta_types", schema, primary_keys=keys,
                           options={"bucket": "3"})
    h.write_rows(table, schema, [_all_types_row(i, COMPOSITE_PK) for i in range(60)])
    _check_files_through_pypaimon_scan(warehouse, "meta_types", keys)

    table = h.create_table(h.paimon_py_catalog(warehouse), "meta_app", APPEND_SCHEMA,
                           partition_keys=["region"], options={"bucket": "2", "bucket-key": "k1"})
    h.write_rows(table, APPEND_SCHEMA, _append_rows(random.Random(1), 200, "m"))
    _check_files_through_pypaimon_scan(warehouse, "meta_app", [], pk_table=False)


def test_bucket_whose_only_file_holds_deletes(warehouse, pp_catalog):
    """A fresh partition whose first and only commit holds retractions (+I then -D of a key, -D of
    keys that never existed): readers take the raw, no-merge path for a single file only if its
    _DELETE_ROW_COUNT is 0, so paimon_py must count the -D rows or they surface as rows."""
    table = h.create_table(pp_catalog, "dels", PK_SCHEMA, partition_keys=["dt", "hr"],
                           primary_keys=PK_KEYS, options=PK_OPTIONS)
    rng = random.Random(2)
    d = dt.date(2024, 5, 5)
    rows = [_pk_row(rng, d, 1, i, "+I", 0) for i in range(20)]
    rows += [_pk_row(rng, d, 1, i, "-D", 0) for i in range(20)]       # every key deleted again
    rows += [_pk_row(rng, d, 2, i, "-D", 0) for i in range(20)]       # deletes of unknown keys
    rows += [_pk_row(rng, d, 3, i, "+I", 0) for i in range(10)]
    rows += [_pk_row(rng, d, 3, i, "-D", 0) for i in range(0, 10, 2)]  # half of them deleted
    h.write_rows(table, PK_SCHEMA, rows)
    model = PkModel(PK_KEYS)
    model.apply(rows)
    assert len(model.expected()) == 5
    _assert_both_read(warehouse, "dels", PK_KEYS, model.expected(), "delete-only buckets")


def test_pypaimon_filters_on_paimon_py_table(warehouse, pp_catalog):
    """pypaimon prunes with paimon_py's partition stats (manifest list) and key stats."""
    h.create_table(pp_catalog, "filt", PK_SCHEMA, partition_keys=["dt", "hr"],
                   primary_keys=PK_KEYS, options=PK_OPTIONS)
    model = PkModel(PK_KEYS)
    for calls in _pk_commits(seed=5, n_commits=4):
        table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.filt")
        h.write_batches(table, *[pa.Table.from_pylist(rows, schema=PK_SCHEMA) for rows in calls])
        for rows in calls:
            model.apply(rows)
    table = h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.filt")
    cases = [
        ("dt = 2024-02-29", lambda pb: pb.equal("dt", DATES[1]), lambda r: r["dt"] == DATES[1]),
        ("hr = 23", lambda pb: pb.equal("hr", 23), lambda r: r["hr"] == 23),
        ("dt >= 2024-01-01 and hr = 0",
         lambda pb: pb.and_predicates([pb.greater_or_equal("dt", DATES[0]), pb.equal("hr", 0)]),
         lambda r: r["dt"] >= DATES[0] and r["hr"] == 0),
        ("id < 17", lambda pb: pb.less_than("id", 17), lambda r: r["id"] < 17),
        ("id between 1000 and 1010", lambda pb: pb.between("id", 1000, 1010),
         lambda r: 1000 <= r["id"] <= 1010),
        ("id in (3, 59, 1005)", lambda pb: pb.is_in("id", [3, 59, 1005]), lambda r: r["id"] in (3, 59, 1005)),
    ]
    for what, predicate, keep in cases:
        rb = table.new_read_builder()
        rb = rb.with_filter(predicate(rb.new_predicate_builder()))
        got = rb.new_read().to_arrow(rb.new_scan().plan().splits())
        got = h.sort_rows(got.to_pylist() if got is not None else [], PK_KEYS)
        expected = h.sort_rows([r for r in model.expected() if keep(r)], PK_KEYS)
        h.assert_rows_equal(got, expected, f"pypaimon with filter {what}")


def test_paimon_py_partition_filter_and_projection(warehouse, pp_catalog):
    h.create_table(pp_catalog, "pfilt", PK_SCHEMA, partition_keys=["dt", "hr"],
                   primary_keys=PK_KEYS, options=PK_OPTIONS)
    model = PkModel(PK_KEYS)
    for calls in _pk_commits(seed=9, n_commits=3):
        table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.pfilt")
        h.write_batches(table, *[pa.Table.from_pylist(rows, schema=PK_SCHEMA) for rows in calls])
        for rows in calls:
            model.apply(rows)
    table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.pfilt")
    rb = table.new_read_builder().with_partition_filter({"dt": DATES[1], "hr": 23}) \
        .with_projection(["id", "score"])
    got = h.sort_rows(rb.new_read().to_arrow(rb.new_scan().plan().splits()).to_pylist(), ["id"])
    expected = h.sort_rows([{"id": r["id"], "score": r["score"]} for r in model.expected()
                            if r["dt"] == DATES[1] and r["hr"] == 23], ["id"])
    assert expected
    h.assert_rows_equal(got, expected, "paimon_py partition filter + projection")


def test_rolling_files_within_one_commit(warehouse, pp_catalog):
    """A small target-file-size makes a writer roll several files per bucket in one commit."""
    schema = pa.schema([_field("id", pa.int64(), False), _field("s", pa.string()),
                        _field("x", pa.float64())])
    h.create_table(pp_catalog, "roll", schema, primary_keys=["id"],
                           options={"bucket": "2", "target-file-size": "16 kb"})
    rng = random.Random(4)
    model = PkModel(["id"], rowkind_field=None)
    for version in range(3):
        ids = list(range(0, 6000, 1 + version))
        rng.shuffle(ids)
        rows = [{"id": i, "s": f"{version}-{rng.random()}" * 2, "x": rng.random()} for i in ids]
        h.write_rows(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.roll"), schema, rows)
        model.apply(rows)
    _assert_both_read(warehouse, "roll", ["id"], model.expected(), "rolled files")
    files = [f for _r, _d, fs in os.walk(h.table_dir(warehouse, "roll")) for f in fs if f.startswith("data-")]
    assert len(files) > 6, f"expected rolled files, got {len(files)}"
    _check_files_through_pypaimon_scan(warehouse, "roll", ["id"], one_file_per_commit=False)


# ---------------------------------------------------------------------------------------------
# 8. More table states pypaimon must understand: merged manifests, overwrites, evolution by
#    pypaimon, merge semantics driven by options
# ---------------------------------------------------------------------------------------------

def test_many_commits_merge_manifests(warehouse, pp_catalog):
    """More commits than manifest.merge-min-count (30): the base manifest list gets rewritten."""
    schema = pa.schema([_field("id", pa.int64(), False), _field("v", pa.int64())])
    h.create_table(pp_catalog, "many", schema, primary_keys=["id"], options={"bucket": "2"})
    model = PkModel(["id"], rowkind_field=None)
    for n in range(36):
        rows = [{"id": i, "v": n} for i in range(n % 7, 100, 7)] + [{"id": 1000 + n, "v": n}]
        h.write_rows(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.many"), schema, rows)
        model.apply(rows)
    _assert_both_read(warehouse, "many", ["id"], model.expected(), "after 36 commits")
    rows = [{"id": i, "v": -1} for i in range(0, 100, 3)]  # pypaimon continues on top
    h.write_rows(h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.many"), schema, rows)
    model.apply(rows)
    _assert_both_read(warehouse, "many", ["id"], model.expected(), "pypaimon commit on top")


def test_overwrite_partition_and_table(warehouse, pp_catalog):
    h.create_table(pp_catalog, "ow", REV_SCHEMA, partition_keys=["region"], primary_keys=REV_KEYS,
                   options={"bucket": "2", "rowkind.field": "rk"})
    model = PkModel(REV_KEYS)
    rows = _rev_rows(range(30), "+I", "a")
    h.write_rows(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.ow"), REV_SCHEMA, rows)
    model.apply(rows)
    # overwrite one partition: the others keep their rows
    rows = _rev_rows(range(100, 110), "+I", "b", region_of=lambda i: "eu")
    h.write_batches(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.ow"),
                    pa.Table.from_pylist(rows, schema=REV_SCHEMA), overwrite={"region": "eu"})
    model.rows = {k: r for k, r in model.rows.items() if k[0] != "eu"}
    model.apply(rows)
    _assert_both_read(warehouse, "ow", REV_KEYS, model.expected(), "partition overwrite")
    # pypaimon updates on top of the overwritten partition
    rows = _rev_rows(range(100, 105), "+U", "c", region_of=lambda i: "eu")
    h.write_rows(h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.ow"), REV_SCHEMA, rows)
    model.apply(rows)
    _assert_both_read(warehouse, "ow", REV_KEYS, model.expected(), "pypaimon after overwrite")
    # overwrite the whole table (a static overwrite)
    from paimon_py import SchemaChange

    pp_catalog.alter_table(f"{h.DB}.ow", [SchemaChange.set_option("dynamic-partition-overwrite", "false")])
    rows = _rev_rows(range(200, 205), "+I", "d")
    h.write_batches(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.ow"),
                    pa.Table.from_pylist(rows, schema=REV_SCHEMA), overwrite={})
    model.rows = {}
    model.apply(rows)
    _assert_both_read(warehouse, "ow", REV_KEYS, model.expected(), "table overwrite")


def test_added_column_then_pypaimon_writes(warehouse, pp_catalog):
    """paimon_py's schema-1 is usable by pypaimon's writer too."""
    import paimon_py

    schema0 = pa.schema([_field("id", pa.int64(), False), _field("a", pa.string())])
    table = h.create_table(pp_catalog, "evo2", schema0, primary_keys=["id"], options={"bucket": "2"})
    h.write_rows(table, schema0, [{"id": i, "a": f"a{i}"} for i in range(10)])
    pp_catalog.alter_table(f"{h.DB}.evo2", [paimon_py.SchemaChange.add_column("c", pa.int64())])
    schema1 = pa.schema(list(schema0) + [_field("c", pa.int64())])
    rows = [{"id": i, "a": f"p{i}", "c": i} for i in range(5, 15)]
    h.write_rows(h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.evo2"), schema1, rows)
    expected = {i: {"id": i, "a": f"a{i}", "c": None} for i in range(10)}
    expected.update({r["id"]: r for r in rows})
    _assert_both_read(warehouse, "evo2", ["id"], list(expected.values()), "pypaimon after add column")


def test_pypaimon_added_column_read_by_paimon_py(warehouse, ppy_catalog):
    from pypaimon.schema.data_types import AtomicType
    from pypaimon.schema.schema_change import SchemaChange as PypaimonSchemaChange

    schema0 = pa.schema([_field("id", pa.int64(), False), _field("a", pa.string())])
    table = h.create_table(ppy_catalog, "evo3", schema0, primary_keys=["id"], options={"bucket": "2"})
    h.write_rows(table, schema0, [{"id": i, "a": f"a{i}"} for i in range(10)])
    ppy_catalog.alter_table(f"{h.DB}.evo3", [PypaimonSchemaChange.add_column("c", AtomicType("BIGINT"))])
    schema1 = pa.schema(list(schema0) + [_field("c", pa.int64())])
    rows = [{"id": i, "a": f"p{i}", "c": i} for i in range(5, 15)]
    h.write_rows(h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.evo3"), schema1, rows)
    expected = {i: {"id": i, "a": f"a{i}", "c": None} for i in range(10)}
    expected.update({r["id"]: r for r in rows})
    _assert_both_read(warehouse, "evo3", ["id"], list(expected.values()), "pypaimon-evolved table")
    rows = [{"id": i, "a": f"q{i}", "c": -i} for i in range(0, 15, 2)]
    h.write_rows(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.evo3"), schema1, rows)
    expected.update({r["id"]: r for r in rows})
    _assert_both_read(warehouse, "evo3", ["id"], list(expected.values()), "paimon_py on top")


def test_sequence_field_orders_updates(warehouse, pp_catalog):
    """With sequence.field, a later write carrying an older sequence value loses."""
    schema = pa.schema([_field("id", pa.int64(), False), _field("ver", pa.int64()),
                        _field("v", pa.string())])
    h.create_table(pp_catalog, "seqf", schema, primary_keys=["id"],
                   options={"bucket": "2", "sequence.field": "ver"})
    first = [{"id": i, "ver": 10, "v": f"ten-{i}"} for i in range(20)]
    second = [{"id": i, "ver": 5 if i % 2 else 20, "v": f"second-{i}"} for i in range(20)]
    for rows in (first, second):
        h.write_rows(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.seqf"), schema, rows)
    expected = [second[i] if i % 2 == 0 else first[i] for i in range(20)]
    _assert_both_read(warehouse, "seqf", ["id"], expected, "sequence.field")


def test_ignore_delete_option(warehouse, pp_catalog):
    """ignore-delete=true: -D rows are dropped. Java (RowKindFilter in TableWriteImpl) and pypaimon
    drop them when writing, so readers that do not re-check the option (pypaimon 2.1.0's merge,
    older Java) never see them; a writer must not put them into files either."""
    h.create_table(pp_catalog, "igndel", REV_SCHEMA, partition_keys=["region"], primary_keys=REV_KEYS,
                   options={"bucket": "2", "rowkind.field": "rk", "ignore-delete": "true"})
    rows = _rev_rows(range(20), "+I", "a")
    h.write_rows(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.igndel"), REV_SCHEMA, rows)
    h.write_rows(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.igndel"), REV_SCHEMA,
                 _rev_rows(range(0, 20, 2), "-D", "b"))
    _assert_both_read(warehouse, "igndel", REV_KEYS, rows, "ignore-delete")


@pytest.mark.parametrize("engine", ["partial-update", "aggregation"])
def test_merge_engines(warehouse, pp_catalog, engine):
    """partial-update: newer non-null fields win; aggregation: sum of n, last non-null of s."""
    schema = pa.schema([_field("id", pa.int64(), False), _field("n", pa.int64()), _field("s", pa.string())])
    options = {"bucket": "2", "merge-engine": engine}
    if engine == "aggregation":
        options["fields.n.aggregate-function"] = "sum"
    h.create_table(pp_catalog, "merge", schema, primary_keys=["id"], options=options)
    batches = [
        [{"id": i, "n": i, "s": f"s{i}"} for i in range(10)],
        [{"id": i, "n": None, "s": f"t{i}"} for i in range(0, 10, 2)],
        [{"id": i, "n": 100, "s": None} for i in range(0, 10, 3)] + [{"id": 50, "n": 1, "s": None}],
    ]
    state: dict[int, dict] = {}
    for rows in batches:
        h.write_rows(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.merge"), schema, rows)
        for r in rows:
            old = state.get(r["id"])
            if old is None:
                state[r["id"]] = dict(r)
                continue
            if engine == "partial-update":
                state[r["id"]] = {k: (r[k] if r[k] is not None else old[k]) for k in r}
            else:
                n = r["n"] if old["n"] is None else (old["n"] if r["n"] is None else old["n"] + r["n"])
                state[r["id"]] = {"id": r["id"], "n": n, "s": r["s"] if r["s"] is not None else old["s"]}
    _assert_both_read(warehouse, "merge", ["id"], list(state.values()), engine)


def test_ignore_update_before_option(warehouse, pp_catalog):
    """ignore-update-before=true: -U rows are dropped at write time (Java RowKindFilter, pypaimon),
    so a lone -U does not delete its key."""
    h.create_table(pp_catalog, "ignub", REV_SCHEMA, partition_keys=["region"], primary_keys=REV_KEYS,
                   options={"bucket": "2", "rowkind.field": "rk", "ignore-update-before": "true"})
    rows = _rev_rows(range(20), "+I", "a")
    h.write_rows(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.ignub"), REV_SCHEMA, rows)
    h.write_rows(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.ignub"), REV_SCHEMA,
                 _rev_rows(range(0, 20, 2), "-U", "b"))
    _assert_both_read(warehouse, "ignub", REV_KEYS, rows, "ignore-update-before")


def test_dynamic_bucket_table_written_by_pypaimon(warehouse, ppy_catalog):
    """bucket=-1 PK table (HASH index, several buckets via a small target row count): paimon_py
    reads it and continues it from pypaimon's HASH index (keys keep their buckets), and pypaimon
    reads the result."""
    h.create_table(ppy_catalog, "dyn", REV_SCHEMA, partition_keys=["region"], primary_keys=REV_KEYS,
                   options={"bucket": "-1", "dynamic-bucket.target-row-num": "10"})
    model = PkModel(REV_KEYS)
    for rows in (_rev_rows(range(60), "+I", "a"), _rev_rows(range(0, 60, 3), "+U", "b")):
        h.write_rows(h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.dyn"), REV_SCHEMA, rows)
        model.apply(rows)
    buckets = {d for _r, dirs, _f in os.walk(h.table_dir(warehouse, "dyn")) for d in dirs
               if d.startswith("bucket-")}
    assert len(buckets) > 1, buckets
    _assert_both_read(warehouse, "dyn", REV_KEYS, model.expected(), "dynamic bucket table")
    rows = _rev_rows(range(30, 90), "+U", "c")
    h.write_rows(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.dyn"), REV_SCHEMA, rows)
    model.apply(rows)
    _assert_both_read(warehouse, "dyn", REV_KEYS, model.expected(), "dynamic bucket table continued")
    assert_dynamic_bucket_layout(h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.dyn"))


# ---------------------------------------------------------------------------------------------
# 9. Random histories, alternating writers (property test)
# ---------------------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_OPS = st.tuples(st.integers(0, 2), st.integers(0, 12), st.sampled_from(["+I", "+U", "-U", "-D"]),
                 st.one_of(st.none(), st.integers(-3, 3)))
_HISTORY = st.lists(st.tuples(st.sampled_from(["paimon_py", "pypaimon"]), st.lists(_OPS, min_size=1, max_size=30)),
                    min_size=1, max_size=5)
PROP_SCHEMA = pa.schema([_field("p", pa.int32(), False), _field("id", pa.int64(), False),
                         _field("n", pa.int32()), _field("s", pa.string()), _field("rk", pa.string())])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=_HISTORY, compaction_trigger=st.sampled_from([None, "2"]))
def test_random_histories_alternating_writers(tmp_path_factory, history, compaction_trigger):
    """Any mix of +I/-U/+U/-D batches (paimon_py) and +I/+U batches (pypaimon, which cannot write
    deletes correctly, format §12) reads the same through both libraries as the dict model,
    with paimon_py's default compaction or compaction after every second sorted run."""
    warehouse = tmp_path_factory.mktemp("prop")
    options = {"bucket": "2", "rowkind.field": "rk"}
    if compaction_trigger:
        options["num-sorted-run.compaction-trigger"] = compaction_trigger
    h.create_table(h.paimon_py_catalog(warehouse), "prop", PROP_SCHEMA, partition_keys=["p"],
                   primary_keys=["p", "id"], options=options)
    model = PkModel(["p", "id"])
    for seq, (writer, ops) in enumerate(history):
        rows = []
        for p, i, kind, n in ops:
            if writer == "pypaimon" and kind in ("-U", "-D"):
                kind = "+U"
            rows.append({"p": p, "id": i, "n": n, "s": f"{writer}-{seq}-{i}" * (i % 3), "rk": kind})
        if writer == "pypaimon":
            table = h.pypaimon_catalog(warehouse).get_table(f"{h.DB}.prop")
        else:
            table = h.paimon_py_catalog(warehouse).get_table(f"{h.DB}.prop")
        h.write_rows(table, PROP_SCHEMA, rows)
        model.apply(rows)
    _assert_both_read(warehouse, "prop", ["p", "id"], model.expected(), f"history {history}")


def test_compaction_output_read_by_pypaimon(warehouse, pp_catalog):
    """Frequent compaction (trigger 2 sorted runs): levels >= 1, retractions removed or kept as
    Paimon does; pypaimon writes in between and paimon_py compacts pypaimon's files too."""
    h.create_table(pp_catalog, "compact", REV_SCHEMA, partition_keys=["region"], primary_keys=REV_KEYS,
                   options={"bucket": "2", "rowkind.field": "rk", "num-sorted-run.compaction-trigger": "2"})
    rng = random.Random(17)
    model = PkModel(REV_KEYS)
    for n in range(14):
        writer = "pypaimon" if n % 5 == 4 else "paimon_py"
        ids = rng.sample(range(80), 25)
        kinds = ["+U"] * 25 if writer == "pypaimon" else [rng.choice(["+I", "+U", "-D", "-D"]) for _ in ids]
        rows = [r for i, k in zip(ids, kinds) for r in _rev_rows([i], k, f"{writer}{n}")]
        catalog = h.pypaimon_catalog(warehouse) if writer == "pypaimon" else h.paimon_py_catalog(warehouse)
        h.write_rows(catalog.get_table(f"{h.DB}.compact"), REV_SCHEMA, rows)
        model.apply(rows)
        _assert_both_read(warehouse, "compact", REV_KEYS, model.expected(), f"after {writer} commit {n}")
    kinds = h.snapshot_kinds(h.table_dir(warehouse, "compact"))
    assert "COMPACT" in kinds, f"premise: paimon_py compacted ({kinds})"
    _check_files_through_pypaimon_scan(warehouse, "compact", ["id"])
