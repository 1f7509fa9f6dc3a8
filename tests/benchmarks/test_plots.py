"""``benchmarks/plots.py``: a plot drawn from a few results rows, and every committed results file
read with the spec ``SPECS`` declares for it."""

from __future__ import annotations

import pytest

from benchmarks.plots import SPECS, Panel, Spec, figures, plot
from tests.support.paths import ROOT

RESULTS = ROOT / "benchmarks" / "results"

TEXT = """# A benchmark

2026-12-02T07:14:41+00:00 — `benchmarks/bench_x.py --rows 10`

Machine: Some CPU, 2 logical cores, Linux 6.1; Python 3.11.7

| phase | ours rows/s | theirs rows/s |
|---|---:|---:|
| insert (write) | 1,000,000 (0.50 s) | 50,000 |
| **read** | **2,000,000** | n/a |

| what | value |
|---|---:|
| latency commit -> snapshot: p50 / p99 / max | 763 / 1,305 / 1,365 ms |
| baseline: drain | 1.8 s (110,866 changes/s) |
"""

SPEC = Spec("bench_x.py: ours against theirs", (
    Panel("Rows/s", "rows/s", "phase", ("ours rows/s", "theirs rows/s"), "theirs rows/s", ("theirs rows/s",)),
    Panel("Latency", "ms", "what", ("value",), table=1, cases=(("latency", "commit -> snapshot"),)),
    Panel("Drain", "changes/s", "what", ("value",), table=1, cases=(("baseline: drain", "drain"),))))


def test_a_plot_from_results_rows_is_a_png(tmp_path):
    path = plot(TEXT, SPEC, str(tmp_path / "x.png"), {"commit -> snapshot": [700.0, 760.0, 1300.0]})
    assert path is not None, "matplotlib (pinned in the test extra) is not installed"
    data = (tmp_path / "x.png").read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000


def test_the_bars_are_the_numbers_of_the_cells():
    (_, rates), (_, latency), (_, drain) = figures(TEXT, SPEC)
    assert rates == [("insert", [("ours rows/s", 1e6), ("theirs rows/s", 5e4)]), ("read", [("ours rows/s", 2e6)])]
    assert latency == [("commit -> snapshot", [("p50", 763.0), ("p99", 1305.0), ("max", 1365.0)])]
    assert drain == [("drain", [("value", 110866.0)])]


def test_a_spec_that_does_not_fit_the_file_fails():
    stale = Spec("stale", (Panel("Rows/s", "rows/s", "phase", ("ours rows/s", "pypaimon rows/s")),))
    with pytest.raises(ValueError, match="pypaimon rows/s"):
        figures(TEXT, stale)


@pytest.mark.parametrize("name", sorted(p.stem for p in RESULTS.glob("*.md")))
def test_every_results_file_is_read_by_its_spec(name):
    assert name in SPECS, f"declare a spec for benchmarks/results/{name}.md in benchmarks/plots.py"
    assert figures((RESULTS / f"{name}.md").read_text(), SPECS[name])


def test_the_lsm_results_without_pypaimon_have_a_spec_of_their_own():
    """``bench_lsm_upserts.py --skip-pypaimon`` writes "–" for pypaimon: its own spec draws it."""
    text = ("| measure | paimon_py | pypaimon | pyarrow sort + Parquet | paimon_py / pypaimon | paimon_py / pyarrow |\n"
            "|---|---:|---:|---:|---:|---:|\n"
            "| write rows/s | 2,000,000 | – | 3,000,000 | – | 0.67x |\n"
            "| read of the final table, s | 0.20 | – | – | – | – |\n")
    with pytest.raises(ValueError, match="pypaimon"):
        figures(text, SPECS["lsm_upserts"])
    [(_, groups)] = figures(text, SPECS["lsm_upserts_without_pypaimon"])
    assert groups == [("write", [("paimon_py", 2e6), ("pyarrow sort + Parquet", 3e6)])]
