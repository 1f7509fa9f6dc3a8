"""Shared helpers of the benchmarks: what machine they ran on, and writing their results (table and plot)."""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata

from benchmarks.plots import SPECS, plot


def cpu_probe_s(loops: int = 5_000_000, repeats: int = 3) -> float:
    """Seconds a pure-Python loop of ``loops`` additions takes (best of ``repeats``): how fast this
    host runs Python right now. The shared hosts of this project change speed by up to 2x within an
    hour, which moves every absolute figure; compare ratios, or runs with similar probes."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        total = 0
        for i in range(loops):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


def machine() -> str:
    """CPU model, cores, OS, Python and library versions, and the CPU probe, for the results table."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        cpu = platform.processor() or cpu
    versions = []
    for name in ("paimon_py", "pypaimon", "pyarrow", "fastavro", "numpy"):
        try:
            version = __import__(name).__version__
        except Exception:
            try:
                version = metadata.version(name)
            except Exception:
                version = "?"
        versions.append(f"{name} {version}")
    return (f"{cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}; " + ", ".join(versions)
            + f"; CPU probe at the end of the run {cpu_probe_s():.2f} s (`common.cpu_probe_s`: 5M Python "
              f"additions; lower is faster)")


def publish(text: str, path: str, spec: str, latencies: dict[str, list[float]] | None = None) -> None:
    """Print a results table, write it to ``path`` and draw its plot beside it (``.png``) with
    ``plots.SPECS[spec]`` and the latency samples (ms) if any."""
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as out:
        out.write(text)
    plot(text, SPECS[spec], os.path.splitext(path)[0] + ".png", latencies)
