"""Class data sharing (CDS) for the JVM of a local run.

A local run's JVM (PyFlink's gateway and the mini-cluster) loads and verifies some 10,000 Flink,
Beam and Netty classes at every start: about 3 s of CPU on a 2-core machine, before the job does
anything. A dynamic CDS archive (Java 13+, ``-XX:ArchiveClassesAtExit``) holds those classes
parsed and verified; a JVM started with ``-XX:SharedArchiveFile`` maps it instead (measured: a
1-row job 8.2 -> 6.4 s, peak RSS 569 -> 527 MiB).

``scripts/bootstrap.sh`` creates the archive once per installation (``python -m
operators.runtime.class_sharing``: a short synthetic job whose JVM writes it at exit). Its name
carries a digest of the JVM and the classpath's jars, so a changed installation gets a new one;
a JVM that cannot use an archive (another garbage collector chosen, files replaced) runs without
it, silently.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARCHIVE_DIR = os.path.join(ROOT, "bridge", "build", "cds")
CREATE_TIMEOUT_S = 600
QUIET = "-Xlog:cds=off,cds+dynamic=off"
"""An archive the JVM cannot use is a warning on stdout otherwise."""


def archive_path() -> str:
    """The archive for the JVM and the classpath PyFlink starts its gateway with (it may not
    exist yet)."""
    java, classpath = gateway_command()
    digest = hashlib.sha1()
    for path in [os.path.realpath(java), *classpath.split(os.pathsep)]:
        stat = os.stat(path)
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return os.path.join(ARCHIVE_DIR, f"flink-{digest.hexdigest()[:16]}.jsa")


def gateway_command() -> tuple[str, str]:
    """(java executable, classpath) of the JVM PyFlink launches for a local run, as PyFlink
    derives them (``pyflink_gateway_server``)."""
    from pyflink import pyflink_gateway_server as gateway

    env = dict(os.environ)
    gateway.prepare_environment_variables(env)
    java = shutil.which(gateway.find_java_executable())
    if java is None:
        raise FileNotFoundError("no java on PATH and no JAVA_HOME — install Java 17")
    return java, gateway.construct_flink_classpath(env)


def jvm_options(options: str) -> str:
    """``options`` (``env.java.opts.all``) with the archive's, when it exists and ``options`` name
    no archive of their own."""
    if "SharedArchiveFile" in options or "ArchiveClassesAtExit" in options:
        return options
    path = archive_path()
    if not os.path.isfile(path):
        return options
    return f"{options} -XX:SharedArchiveFile={path} {QUIET}".strip()


def create() -> str:
    """Runs a short synthetic job whose JVM writes the archive at exit; returns its path."""
    path = archive_path()
    if os.path.isfile(path):
        return path
    from operators.runtime.job_config import JVM_OPTIONS, load_settings

    os.makedirs(ARCHIVE_DIR, exist_ok=True)
    partial = f"{path}.{os.getpid()}.partial"
    options = f"{load_settings().get(JVM_OPTIONS, '')} -XX:ArchiveClassesAtExit={partial} {QUIET}"
    with tempfile.TemporaryDirectory(prefix="cds-") as work:
        command = [sys.executable, os.path.join(ROOT, "jobs", "sync_synthetic.py"), "--warehouse",
                   os.path.join(work, "lake"), "--positions", "40", "--ticks_per_second", "40",
                   "--flink_conf", f"{JVM_OPTIONS}={options}"]
        try:
            done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=CREATE_TIMEOUT_S)
            if done.returncode != 0 or not os.path.isfile(partial):
                raise RuntimeError(f"the synthetic job ended with exit code {done.returncode} and no archive:\n"
                                   f"{done.stderr[-2000:]}")
            os.replace(partial, path)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
    for stale in glob.glob(os.path.join(ARCHIVE_DIR, "flink-*.jsa")):  # of an earlier installation
        if stale != path:
            os.remove(stale)
    return path


if __name__ == "__main__":
    print(f"class data sharing archive: {create()}")
