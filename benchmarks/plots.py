"""The benchmarks' plots, drawn from the results tables they write (the markdown of
``common.publish``): per panel, grouped horizontal bars of ours against the baselines of the same
run, each bar labelled with its value and its speed relative to a reference bar; latency samples,
when a run passes them, as a CDF.

``python -m benchmarks.plots benchmarks/results/X.md ...`` rebuilds ``X.png`` beside each file, with
the spec ``SPECS`` declares for ``X``.
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
from dataclasses import dataclass

Table = tuple[list[str], list[list[str]]]
"""A markdown table: its header cells and its rows' cells."""

Group = tuple[str, list[tuple[str, float]]]
"""A group of bars: its label and its (series, value) bars."""

LOWER_IS_BETTER = ("s", "ms", "MiB")
OURS_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:purple")
BASELINE_COLOURS = ("0.55", "0.75", "0.35", "0.85")
NUMBER = r"\d[\d,]*(?:\.\d+)?"


@dataclass(frozen=True)
class Panel:
    """One chart of a results file: a group of bars per row of one of its tables."""
    title: str
    unit: str  # "rows/s", "s", "ms", "MiB": the number of a cell that holds several is the one before it
    case: str  # the column naming the rows
    values: tuple[str, ...]  # the columns whose numbers are bars (an "a / b / c" cell: a bar per part)
    reference: str | None = None  # a series or a group: the other bars show their speed relative to it
    baselines: tuple[str, ...] = ()  # series or groups drawn grey
    cases: tuple[tuple[str, str], ...] = ()  # (case prefix, label): only those rows; empty: every row
    table: int = 0  # which table of the file
    series: str | None = None  # a column naming each row's bar (tables with a row per library)


@dataclass(frozen=True)
class Spec:
    """What a results file is (the figure's title) and its panels."""
    title: str
    panels: tuple[Panel, ...]


def tables(text: str) -> list[Table]:
    """The markdown tables of ``text`` (``| a | b |`` lines under a ``|---|`` separator)."""
    found, lines = [], text.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.startswith("|") and lines[i + 1].startswith("|---") and (i == 0 or not lines[i - 1].startswith("|")):
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append(_cells(row))
            found.append((_cells(line), rows))
    return found


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def clean(cell: str) -> str:
    """A cell without markdown emphasis and code quotes."""
    return re.sub(r"[`*]", "", cell).strip()


def number(text: str, unit: str) -> float | None:
    """The number followed by ``unit`` in ``text``, else its first number."""
    match = re.search(rf"({NUMBER})\s*{re.escape(unit)}(?![\w/])", text) or re.search(f"({NUMBER})", text)
    return float(match.group(1).replace(",", "")) if match else None


def numbers(cell: str, unit: str) -> list[float]:
    """The numbers of a cell: one, or one per part of ``a / b / c`` (all must be numbers)."""
    values = [number(part, unit) for part in clean(cell).split(" / ")]
    return [] if None in values else values  # type: ignore[return-value]


def part_names(case: str, column: str, count: int) -> list[str]:
    """Names of the ``count`` numbers of a ``a / b`` cell: from the case (``...: p50 / p99``) or the
    column (``before (run 1 / run 2)``)."""
    from_case = [p.strip() for p in case.rpartition(":")[2].split(" / ")]
    if len(from_case) == count:
        return from_case
    inner = re.search(r"\((.*)\)", column)
    from_column = [p.strip() for p in inner.group(1).split(" / ")] if inner else []
    stem = column.partition(" (")[0]
    if len(from_column) == count:
        return [f"{stem}, {p}" for p in from_column]
    return [f"{stem} {i + 1}" for i in range(count)]


def case_label(panel: Panel, case: str) -> str | None:
    """The group label of a row (None: the panel leaves the row out)."""
    if not panel.cases:
        return case.partition(" (")[0]
    return next((label for prefix, label in panel.cases if case.startswith(prefix)), None)


def groups(table: Table, panel: Panel) -> list[Group]:
    """The panel's groups of bars from the table's rows; cells without a number are left out."""
    header, rows = table
    out: dict[str, list[tuple[str, float]]] = {}
    for row in rows:
        cell = dict(zip(header, row + [""] * (len(header) - len(row))))
        case = clean(cell[panel.case])
        label = case_label(panel, case)
        if label is None:
            continue
        for column in panel.values:
            found = numbers(cell[column], panel.unit)
            group = f"{label}, {column}" if panel.series and len(panel.values) > 1 else label
            if panel.series:
                names = [clean(cell[panel.series])]
            elif len(found) > 1:
                names = part_names(case, column, len(found))
            else:
                names = [column]
            out.setdefault(group, []).extend(zip(names, found))
    return [(label, bars) for label, bars in out.items() if bars]


def figures(text: str, spec: Spec) -> list[tuple[Panel, list[Group]]]:
    """Each panel of ``spec`` with its groups of bars from the results ``text``; ValueError where
    the two disagree (a table, column, case or reference missing)."""
    found = tables(text)
    out = []
    for panel in spec.panels:
        if panel.table >= len(found):
            raise ValueError(f"{panel.title}: the file has no table {panel.table}")
        header = found[panel.table][0]
        missing = [c for c in (panel.case, *panel.values, panel.series) if c is not None and c not in header]
        drawn = [] if missing else groups(found[panel.table], panel)
        labels = [label for label, _ in drawn]
        missing += [label for _, label in panel.cases if not any(g.startswith(label) for g in labels)]
        names = labels + [name for _, bars in drawn for name, _ in bars]
        missing += [name for name in (panel.reference, *panel.baselines) if name is not None and name not in names]
        if missing or not drawn:
            raise ValueError(f"{panel.title}: not in table {panel.table}: {missing or 'any number'}")
        out.append((panel, drawn))
    return out


def ratios(panel: Panel, drawn: list[Group]) -> dict[tuple[str, str], float]:
    """(group, series) -> its speed relative to the reference (time units: the inverse ratio)."""
    if panel.reference is None:
        return {}
    by_group = {label: dict(bars) for label, bars in drawn}
    against_group = panel.reference in by_group
    out = {}
    for label, bars in drawn:
        for name, value in bars:
            if (label if against_group else name) == panel.reference:
                continue
            ref = by_group[panel.reference].get(name) if against_group else by_group[label].get(panel.reference)
            if ref and value:
                out[(label, name)] = ref / value if panel.unit in LOWER_IS_BETTER else value / ref
    return out


def fmt(value: float) -> str:
    """A bar's value: 1,234,567, 74.5, 0.526."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def compact(value: float, _=None) -> str:
    """Axis ticks: 2M, 500k, 1,250, 0.5."""
    if value >= 1e6:
        return f"{value / 1e6:g}M"
    return f"{value / 1e3:g}k" if value >= 1e4 else f"{value:,g}"


def subtitle(text: str) -> str:
    """Machine, date and command line of a results file, as far as it names them."""
    machine = re.search(r"([\w()@. -]*?, \d+ logical cores, [^;,]*)", text) or re.search(r"\d+-core [^,.]*", text)
    date = re.search(r"\d{4}-\d\d-\d\d", text)
    command = re.search(r"— `benchmarks/bench_\w+\.py ?([^`]*)`", text)
    parts = [machine.group(0).strip() if machine else "", date.group(0) if date else "",
             command.group(1).strip() if command else ""]
    return " · ".join(p for p in parts if p)


def plot(text: str, spec: Spec, path: str, latencies: dict[str, list[float]] | None = None) -> str | None:
    """Draws ``spec``'s panels from the results ``text`` (and a CDF of ``latencies``, ms, if given)
    into the PNG ``path``; returns it, or None when matplotlib is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"plot skipped ({path}): matplotlib is not installed (the bench extra)")
        return None
    drawn = figures(text, spec)
    heights = [1.2 + 0.3 * sum(len(bars) for _, bars in g) for _, g in drawn] + ([3.0] if latencies else [])
    fig, axes = plt.subplots(len(heights), 1, figsize=(11, sum(heights) + 1.0), squeeze=False, layout="constrained",
                             gridspec_kw={"height_ratios": heights})
    for ax, (panel, panel_groups) in zip(axes[:, 0], drawn):
        bars(ax, panel, panel_groups)
    if latencies:
        cdf(axes[-1, 0], latencies)
    fig.suptitle(f"{spec.title}\n{subtitle(text)}", fontsize=11)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"plot: {path}")
    return path


def colour(panel: Panel, label: str, name: str, series: list[str]) -> str:
    """Ours in colour, one per series; baselines (a series or a group) in greys."""
    if label in panel.baselines or name in panel.baselines:
        return BASELINE_COLOURS[series.index(name) % len(BASELINE_COLOURS)] if len(series) > 1 else "0.6"
    return OURS_COLOURS[series.index(name) % len(OURS_COLOURS)]


def bars(ax, panel: Panel, drawn: list[Group]) -> None:
    """One panel: a group of horizontal bars per row, value and relative speed at each bar's end."""
    import matplotlib.patches
    import matplotlib.ticker
    series = list(dict.fromkeys(name for _, group in drawn for name, _ in group))
    relative = ratios(panel, drawn)
    height = 0.8 / len(series)
    values = [v for _, group in drawn for _, v in group if v > 0]
    for i, (label, group) in enumerate(drawn):
        for name, value in group:
            y = i + (series.index(name) - (len(series) - 1) / 2) * height
            ax.barh(y, value, height * 0.9, color=colour(panel, label, name, series))
            ratio = relative.get((label, name))
            ax.text(value, y, f" {fmt(value)}" + (f"  ({ratio:.3g}x)" if ratio else ""), va="center", fontsize=8)
    ax.set_yticks(range(len(drawn)), [textwrap.fill(label, 34) for label, _ in drawn], fontsize=8)
    ax.invert_yaxis()
    log = max(values) / min(values) > 30
    if log:
        ax.set_xscale("log")
        ax.set_xlim(min(values) / 2, max(values) * 12)
    else:
        ax.set_xlim(0, max(values) * 1.4)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(compact))
    better = "lower" if panel.unit in LOWER_IS_BETTER else "higher"
    note = f"; (Nx) = speed relative to {panel.reference}" if panel.reference else ""
    ax.set_xlabel(f"{panel.unit}{' (log scale)' if log else ''}, {better} is better{note}", fontsize=8)
    ax.set_title(panel.title, fontsize=10)
    if len(series) > 1:
        ax.legend(handles=[matplotlib.patches.Patch(color=colour(panel, "", name, series), label=name)
                           for name in series], fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def cdf(ax, latencies: dict[str, list[float]]) -> None:
    """Cumulative distribution of latency samples (ms), p50 and p99 marked."""
    for name, samples in latencies.items():
        ordered = sorted(samples)
        ax.plot(ordered, [(i + 1) / len(ordered) for i in range(len(ordered))], label=f"{name} ({len(ordered):,})")
    for p in (0.5, 0.99):
        ax.axhline(p, color="0.7", linewidth=0.8, linestyle="--")
    ax.set_xlabel("ms", fontsize=8)
    ax.set_ylabel("fraction of transactions", fontsize=8)
    ax.set_title("Latency, source commit -> covering Paimon snapshot (CDF; dashed: p50, p99)", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")


# --- what each results file holds (keyed by its name; the benchmarks name theirs to publish) ----------

def vs(ours: str, baseline: str, title: str, unit: str, case: str, **more) -> Panel:
    """A panel of two value columns, ours against a baseline column (the reference)."""
    return Panel(title, unit, case, (ours, baseline), baseline, (baseline,), **more)


LATENCY = Panel("Latency, source commit -> covering Paimon snapshot (paced small transactions)", "ms", "what",
                ("value",), table=1,
                cases=(("latency commit -> covering snapshot timeMillis", "to the snapshot's timeMillis"),
                       ("latency commit -> covering snapshot file seen", "to the snapshot file seen")))
MYSQL_CDC = Spec("bench_mysql_cdc.py: MySQL/MariaDB CDC into Paimon against baselines in the same run", (
    Panel("Initial snapshot (bounded job)", "rows/s", "what", ("rows/s",), "mariadb --batch --quick",
          ("mariadb --batch --quick",),
          (("mysql_sync_table scan.startup.mode", "mysql_sync_table, gross (process start to exit)"),
           ("mysql_sync_table, net", "mysql_sync_table, net of the fixed start/stop cost"),
           ("baseline: mariadb --batch", "mariadb --batch --quick"))),
    Panel("Streaming (1 s checkpoints): the same binlog range", "changes/s", "what", ("changes/s",),
          "python-mysql-replication", ("python-mysql-replication", "mariadb-binlog --raw", "mariadb-binlog decoded"),
          (("job: first change", "mysql_sync_table job"),
           ("baseline: python-mysql-replication", "python-mysql-replication"),
           ("baseline: mariadb-binlog --read-from-remote-server --raw", "mariadb-binlog --raw"),
           ("baseline: mariadb-binlog --read-from-remote-server decoded", "mariadb-binlog decoded")), table=1),
    Panel("A backlog drained alone (the job paused while it was written), local run's default", "changes/s",
          "what", ("changes/s",), "python-mysql-replication", ("python-mysql-replication",),
          (("backlog: job paused", "mysql_sync_table job, operators as threads"),
           ("backlog baseline: python-mysql-replication draining the same set", "python-mysql-replication")),
          table=1),
    Panel("Another backlog, the job with Python worker processes (as on a cluster)", "changes/s", "what",
          ("changes/s",), "python-mysql-replication", ("python-mysql-replication",),
          (("backlog, the job restarted with Python worker processes", "mysql_sync_table job, worker processes"),
           ("backlog baseline: python-mysql-replication draining that set", "python-mysql-replication")),
          table=1),
    LATENCY))
POSTGRES_CDC_STAGES = (
    Panel("Initial snapshot (bounded job)", "rows/s", "what", ("rows/s",), "pypaimon 2.1.0 write + commit",
          ("COPY csv drain", "pypaimon 2.1.0 write + commit"),
          (("postgres_sync_table scan.startup.mode", "postgres_sync_table, gross (process start to exit)"),
           ("postgres_sync_table, net", "postgres_sync_table, net of the fixed start/stop cost"),
           ("baseline: COPY", "COPY csv drain"), ("baseline: pypaimon", "pypaimon 2.1.0 write + commit"))),
    Panel("Streaming (1 s checkpoints): the same changes", "changes/s", "what", ("value",), "pg_recvlogical",
          ("pg_recvlogical",), (("job: sustained changes/s", "postgres_sync_table job"),
                                ("baseline: pg_recvlogical (pgoutput", "pg_recvlogical")), table=1))
POSTGRES_BACKLOGS = (
    Panel("A backlog drained alone (the job paused while it was written), local run's default", "changes/s",
          "what", ("value",), "pg_recvlogical", ("pg_recvlogical",),
          (("backlog: job paused", "postgres_sync_table job, operators as threads"),
           ("baseline: pg_recvlogical draining the same backlog", "pg_recvlogical")), table=1),
    Panel("Another backlog, the job with Python worker processes (as on a cluster)", "changes/s", "what",
          ("value",), "pg_recvlogical", ("pg_recvlogical",),
          (("backlog, the job restarted with Python worker processes", "postgres_sync_table job, worker processes"),
           ("baseline: pg_recvlogical draining that set", "pg_recvlogical")), table=1))
POSTGRES_CDC_TITLE = "bench_postgres_cdc.py: PostgreSQL CDC into Paimon against baselines in the same run"
POSTGRES_CDC = Spec(POSTGRES_CDC_TITLE, (*POSTGRES_CDC_STAGES, *POSTGRES_BACKLOGS, LATENCY))
POSTGRES_CDC_1M = Spec(POSTGRES_CDC_TITLE, (*POSTGRES_CDC_STAGES, LATENCY))
"""The issue-8 runs of 1M rows, from before the benchmark drained backlogs."""
ISSUE8_RUNS = ("before (run 1 / run 2)", "after, final code")
ISSUE8_BEFORE = ("before, run 1", "before, run 2")
CHAOS_RECOVERY = Panel("Recovery: kill -> the lake commits again (min / median / max)", "s", "kind",
                       ("recovery: min / median / max",))
"""The chaos runs' one panel (``tests/support/chaos_report.py``)."""

JOB_MEMORY = Spec("bench_job_memory.py: peak RSS of a bounded PostgreSQL snapshot job, before and after", (
    Panel("Peak RSS of the job's process group", "MiB", "rows", ("peak RSS MiB",), series="code"),
    Panel("At the peak, per process", "MiB", "rows", ("client MiB", "JVM MiB", "worker boots MiB"), series="code")))

SPECS = {
    "batch_write_read": Spec("bench_batch_write_read.py: batch write, update and read, paimon_py vs pypaimon", (
        vs("paimon_py rows/s", "pypaimon rows/s", "Rows/s per phase", "rows/s", "phase"),)),
    "binlog_decoder": Spec("bench_binlog_decoder.py: binlog decoding, BinlogStream vs python-mysql-replication", (
        vs("ours rows/s", "PMR rows/s", "Rows/s per phase (best of 2)", "rows/s", "phase"),)),
    "chaos_mariadb": Spec("chaos run, MariaDB: recovery after each kind of kill", (CHAOS_RECOVERY,)),
    "chaos_postgres": Spec("chaos run, PostgreSQL: recovery after each kind of kill", (CHAOS_RECOVERY,)),
    "deletion_vectors": Spec("bench_deletion_vectors.py: deletion vectors vs merge-on-read", (
        vs("paimon_py final read", "pypaimon 2.1.0 final read", "Read of the final table", "s", "table"),
        Panel("paimon_py: the write, and a read after each commit", "s", "table",
              ("paimon_py write", "paimon_py read after each commit (mean)"), "merge-on-read",
              ("merge-on-read",)))),
    "dynamic_bucket": Spec("bench_dynamic_bucket.py: dynamic vs fixed bucket batch writes", (
        Panel("Rows/s per bucket mode and phase", "rows/s", "mode", ("insert rows/s", "update rows/s"), "pypaimon",
              ("pypaimon",), series="library"),)),
    "filtered_read": Spec("bench_filtered_read.py: filtered reads, paimon_py vs pypaimon", (
        vs("paimon_py", "pypaimon", "Read time (plan + to_arrow, median)", "s", "read"),)),
    "flink_sink": Spec("bench_flink_sink.py: the Flink sink end to end vs paimon_py alone", (
        Panel("Rows/s, gross and net of start-up", "rows/s", "pipeline", ("rows/s", "rows/s net of start-up"),
              "paimon_py directly", ("paimon_py directly",)),)),
    "issue8_before_after": Spec("Issue 8 (the CDC core restructure): before and after, back to back", (
        vs("after", "before", "Flink sink: whole-process wall time (median of 3)", "s", "run"),
        Panel("PostgreSQL CDC, 1,000,000 rows: wall times", "s", "figure", ISSUE8_RUNS, baselines=ISSUE8_BEFORE,
              cases=(("snapshot, 1,000,000 rows", "snapshot, process start to exit"),
                     ("fixed start/stop cost", "fixed start/stop cost")), table=1),
        Panel("PostgreSQL CDC: rates", "rows or changes/s", "figure", ISSUE8_RUNS, baselines=ISSUE8_BEFORE,
              cases=(("snapshot rows/s net", "snapshot rows/s net of the fixed cost"),
                     ("streaming changes/s", "streaming changes/s")), table=1),
        Panel("PostgreSQL CDC: peak RSS of the job's processes", "MiB", "figure", ISSUE8_RUNS,
              baselines=ISSUE8_BEFORE, cases=(("peak RSS of the job's processes, 1,000,000", "1,000,000 rows"),
                                              ("peak RSS of the job's processes, 1 row", "1 row")), table=1))),
    "job_memory": JOB_MEMORY,
    "job_memory_fixed_buckets": JOB_MEMORY,
    "job_memory_write_buffer": JOB_MEMORY,
    "lsm_upserts": Spec("bench_lsm_upserts.py: sustained upserts with compaction, paimon_py vs pypaimon and pyarrow", (
        Panel("Write", "rows/s", "measure", ("paimon_py", "pypaimon", "pyarrow sort + Parquet"), "pypaimon",
              ("pypaimon", "pyarrow sort + Parquet"), cases=(("write rows/s", "write"),)),
        vs("paimon_py", "pypaimon", "Read of the final table", "s", "measure",
           cases=(("read of the final table", "read"),)))),
    "lsm_upserts_without_pypaimon": Spec("bench_lsm_upserts.py --skip-pypaimon: paimon_py vs pyarrow", (
        Panel("Write", "rows/s", "measure", ("paimon_py", "pyarrow sort + Parquet"), "pyarrow sort + Parquet",
              ("pyarrow sort + Parquet",), cases=(("write rows/s", "write"),)),)),
    "memory": Spec("bench_memory.py: writer memory with a 64 MiB write buffer", (
        Panel("Peak memory above the process's fixed overhead", "MiB", "write-buffer-spillable",
              ("peak - baseline MiB", "Arrow pool peak MiB"), cases=(("true", "spilling on"), ("false", "spilling off"))),
        Panel("Write rate", "rows/s", "write-buffer-spillable", ("rows/s",), "spilling off",
              cases=(("true", "spilling on"), ("false", "spilling off"))))),
    "merge_function": Spec("bench_merge_function.py: merge functions vs a pyarrow sort", (
        Panel("Time to merge (best of 5)", "ms", "case", ("ms",), "baseline: pyarrow sort_indices + take",
              ("baseline: pyarrow sort_indices + take",)),)),
    "mysql_cdc": MYSQL_CDC,
    "mysql_cdc_fixed_buckets": MYSQL_CDC,
    "mysql_snapshot_read": Spec("bench_mysql_snapshot_read.py: MySQL snapshot readers", (
        Panel("Median rows/s", "rows/s", "reader", ("median rows/s",), "mariadb --batch --quick",
              ("mariadb --batch --quick", "pymysql fetchall, 50000 rows a chunk")),)),
    "postgres_cdc": POSTGRES_CDC,
    "postgres_cdc_1m_after_issue8": POSTGRES_CDC_1M,
    "postgres_cdc_1m_before_issue8": POSTGRES_CDC_1M,
    "postgres_cdc_1m_before_issue8_run2": POSTGRES_CDC_1M,
    "sort_merge": Spec("bench_sort_merge.py: merging sorted runs, vectorised vs a heap merge", (
        Panel("Rows/s", "rows/s", "merge", ("rows/s",), "heapq merge", ("heapq merge",)),)),
    "snapshot_readers": Spec("bench_snapshot_readers.py: PostgreSQL table -> typed Arrow", (
        Panel("Rows/s (best of 2)", "rows/s", "reader", ("rows/s",), "COPY binary + C decoder into typed Arrow",
              ("raw COPY drain, no parsing", "COPY csv + pyarrow + typed converters", "ADBC fetch_arrow_table",
               "psycopg2 fetchall")),)),
}


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    for path in argv:
        stem = os.path.splitext(os.path.basename(path))[0]
        if stem not in SPECS:
            print(f"{path}: no plot spec; declare one in SPECS (benchmarks/plots.py)")
            return 2
        with open(path) as f:
            plot(f.read(), SPECS[stem], os.path.splitext(path)[0] + ".png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
