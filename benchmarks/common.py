"""Shared helpers of the benchmarks: what machine they ran on."""

from __future__ import annotations

import os
import platform
from importlib import metadata


def machine() -> str:
    """CPU model, cores, OS, Python and library versions, for the results table."""
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
            f"Python {platform.python_version()}; " + ", ".join(versions))


def publish(text: str, path: str) -> None:
    """Print a results table and write it to ``path``."""
    print(text)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as out:
        out.write(text)
