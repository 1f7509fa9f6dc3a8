"""``build``: the C sources beside this module, compiled with the system's C compiler on first use.

``scripts/bootstrap.sh`` builds them once (``python -m operators.postgres.native``). Each library
goes into ``build/`` beside its source, named by a hash of the source and flags, under a file lock
and renamed into place atomically: concurrent workers compile it once, and a changed source is
recompiled. The libraries use no Python API and are loaded with ctypes by their modules
(``tuple_data.py``, ``copy_out.py``, ``binary_copy.py``), which pass numpy arrays by ``address``.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

HERE = Path(__file__).parent
BUILD_DIR = HERE / "build"
CFLAGS = ["-O2", "-shared", "-fPIC", "-std=c99"]
SOURCES = ("tuple_data", "copy_out", "binary_copy")
"""The C sources here (``<name>.c``), each built into a library of its own."""


def build(name: str) -> Path:
    """The compiled library of ``<name>.c``, compiling it first when it is missing or its source
    changed."""
    source = HERE / f"{name}.c"
    digest = hashlib.sha1(source.read_bytes() + " ".join(CFLAGS).encode()).hexdigest()[:12]
    target = BUILD_DIR / f"{name}-{digest}.so"
    if target.exists():
        return target
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    with open(BUILD_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            _compile(source, target)
    return target


def address(array: np.ndarray) -> int:
    """Where ``array``'s data starts, for a C function's pointer argument."""
    return array.__array_interface__["data"][0]


def _compile(source: Path, target: Path) -> None:
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise RuntimeError("no C compiler found (cc or gcc; install gcc, e.g. apt-get install gcc, or set CC): "
                           f"it compiles {source}")
    fd, temporary = tempfile.mkstemp(suffix=".so", dir=BUILD_DIR)
    os.close(fd)
    try:
        done = subprocess.run([compiler, *CFLAGS, "-o", temporary, str(source)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"compiling {source} failed: {done.stderr.strip()}")
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


if __name__ == "__main__":
    for name in SOURCES:
        print(build(name))
