"""Builds the checkpoint-signal bridge jar from ``bridge/src`` (no Maven, no prebuilt jar).

``javac`` compiles the Java sources against the jars the pip package ``apache-flink`` ships
(``pyflink/lib/*.jar`` and ``pyflink/opt/*.jar``); the classes are packed with a manifest into
``bridge/build/paimon-cdc-bridge.jar``. The jar is rebuilt only when the sources (or the Flink
jars they compile against, or this script) change: a hash of them is kept beside the jar.
Concurrent builds are serialised with a file lock and the jar is replaced atomically.

Usage: ``python bridge/build.py [--force]`` (prints the jar's path). Needs a JDK (javac) on PATH
or in JAVA_HOME, and ``pyflink`` importable by this interpreter. Standard library only, so that
``operators/bridge.py`` can load it by path.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

BRIDGE_DIR = Path(__file__).resolve().parent
SRC_DIR = BRIDGE_DIR / "src"
BUILD_DIR = BRIDGE_DIR / "build"
JAR_NAME = "paimon-cdc-bridge.jar"
JAVA_RELEASE = "11"  # Flink 2.x runs on Java 11+; the classes must load wherever Flink does.


def pyflink_dir() -> Path:
    spec = importlib.util.find_spec("pyflink")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"pyflink is not installed for {sys.executable}: "
                           "run scripts/bootstrap.sh first")
    return Path(list(spec.submodule_search_locations)[0])


def flink_classpath() -> list[Path]:
    root = pyflink_dir()
    jars = sorted((root / "lib").glob("*.jar")) + sorted((root / "opt").glob("*.jar"))
    if not jars:
        raise RuntimeError(f"no Flink jars under {root}/lib and {root}/opt")
    return jars


def find_javac() -> str:
    candidates = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "javac"))
    candidates.append(shutil.which("javac") or "")
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    raise RuntimeError("javac not found (install a JDK 17, e.g. apt-get install "
                       "openjdk-17-jdk-headless, or set JAVA_HOME): it compiles the "
                       "checkpoint-signal bridge")


def sources() -> list[Path]:
    files = sorted(SRC_DIR.rglob("*.java"))
    if not files:
        raise RuntimeError(f"no Java sources under {SRC_DIR}")
    return files


def source_hash() -> str:
    h = hashlib.sha256()
    h.update(JAVA_RELEASE.encode())
    h.update(Path(__file__).read_bytes())
    for f in sources():
        h.update(str(f.relative_to(SRC_DIR)).encode() + b"\0" + f.read_bytes() + b"\0")
    for jar in flink_classpath():  # a different apache-flink version means a rebuild
        st = jar.stat()
        h.update(f"{jar.name}:{st.st_size}\0".encode())
    return h.hexdigest()


def jar_path() -> Path:
    return BUILD_DIR / JAR_NAME


def build_jar(force: bool = False, quiet: bool = True) -> Path:
    """Returns the bridge jar's path, compiling it first if the sources changed."""
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    jar = jar_path()
    stamp = BUILD_DIR / (JAR_NAME + ".sha256")
    with open(BUILD_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        digest = source_hash()
        if not force and jar.exists() and stamp.exists() and stamp.read_text().strip() == digest:
            return jar
        with tempfile.TemporaryDirectory(dir=BUILD_DIR, prefix="tmp-") as tmp:
            classes = Path(tmp) / "classes"
            classes.mkdir()
            cmd = [find_javac(), "--release", JAVA_RELEASE, "-nowarn", "-encoding", "UTF-8",
                   "-cp", os.pathsep.join(str(j) for j in flink_classpath()),
                   "-d", str(classes)] + [str(s) for s in sources()]
            result = subprocess.run(cmd, capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError("compiling the checkpoint-signal bridge failed:\n"
                                   + result.stdout + result.stderr)
            tmp_jar = Path(tmp) / JAR_NAME
            with zipfile.ZipFile(tmp_jar, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr("META-INF/MANIFEST.MF",
                            "Manifest-Version: 1.0\r\nCreated-By: paimon-cdc-py bridge/build.py\r\n"
                            f"Bridge-Source-Hash: {digest}\r\n\r\n")
                for cls in sorted(classes.rglob("*.class")):
                    zf.write(cls, cls.relative_to(classes).as_posix())
            os.replace(tmp_jar, jar)
        stamp.write_text(digest + "\n")
        if not quiet:
            print(f"built {jar}", file=sys.stderr)
        return jar


def main(argv: list[str]) -> int:
    force = "--force" in argv
    print(build_jar(force=force, quiet=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
