"""The class data sharing archive: its options only when it exists, a user's own archive options
win, and the archive bootstrap made is one the JVM of a local run can map."""

from __future__ import annotations

import os
import subprocess

import pytest

from operators.runtime import class_sharing

pytestmark = pytest.mark.slow  # PyFlink's jars and a JVM


def test_options_name_the_archive_only_when_it_exists(tmp_path, monkeypatch):
    archive = tmp_path / "flink-x.jsa"
    monkeypatch.setattr(class_sharing, "archive_path", lambda: str(archive))
    assert class_sharing.jvm_options("-Xmx1g") == "-Xmx1g"
    archive.write_bytes(b"archive")
    assert class_sharing.jvm_options("-Xmx1g") == f"-Xmx1g -XX:SharedArchiveFile={archive} {class_sharing.QUIET}"
    own = "-Xmx1g -XX:SharedArchiveFile=/elsewhere.jsa"
    assert class_sharing.jvm_options(own) == own
    creating = "-XX:ArchiveClassesAtExit=/tmp/new.jsa"
    assert class_sharing.jvm_options(creating) == creating


def test_the_name_follows_the_jars_and_the_jvm():
    first = class_sharing.archive_path()
    assert first == class_sharing.archive_path()
    assert os.path.dirname(first) == class_sharing.ARCHIVE_DIR
    assert os.path.basename(first).startswith("flink-") and first.endswith(".jsa")


def test_the_bootstrap_archive_maps_with_the_gateways_classpath():
    """-Xshare:on makes the JVM fail when it cannot use the archive (another classpath, a damaged
    file); with PyFlink's own classpath for its gateway it must start."""
    path = class_sharing.archive_path()
    assert os.path.isfile(path), "scripts/bootstrap.sh creates the archive: run it"
    java, classpath = class_sharing.gateway_command()
    done = subprocess.run([java, "-XX:+UseSerialGC", "-Xshare:on", f"-XX:SharedArchiveFile={path}",
                           "-Xlog:cds=info", "-cp", classpath, "-version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    wrong = subprocess.run([java, "-XX:+UseSerialGC", "-Xshare:on", f"-XX:SharedArchiveFile={path}",
                            "-cp", "/nonexistent.jar", "-version"], capture_output=True, text=True, timeout=60)
    assert wrong.returncode != 0, "the check must be able to fail: another classpath cannot map the archive"
