"""The README's first command (``scripts/run.sh`` -> ``jobs/demo.py``, on PostgreSQL and with
``--source mariadb``) on a short workload:
it ends by itself with exit code 0, every table equal in source and lake, and leaves no process
and nothing in the temporary directory; on the way it shows the job's web UI address and the
snapshot's progress."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

from tests.support.paths import ROOT

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("source", ["postgres", "mariadb"])
def test_demo_syncs_the_shop_and_stops_everything(tmp_path, source):
    temporary = tempfile.mkdtemp(prefix="demo-tmp-")  # not under tmp_path, which the servers cannot reach
    os.chmod(temporary, 0o1777)  # as /tmp: the servers, running as their own users, write there too
    try:
        _run_demo(tmp_path, source, temporary)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def _temporary_files_in(temporary: str) -> dict[str, str]:
    """The environment of a demo whose Python and JVM (``java.io.tmpdir``) put temporary files in
    ``temporary``."""
    jvm_args = f"-Djava.io.tmpdir={temporary} {os.environ.get('JVM_ARGS', '')}".strip()
    return {**os.environ, "TMPDIR": temporary, "JVM_ARGS": jvm_args}


def _run_demo(tmp_path, source: str, temporary: str) -> None:
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, "jobs", "demo.py"), "--source", source,
                                "--warehouse", str(tmp_path / "warehouse"), "--seconds", "4"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True, cwd=ROOT, env=_temporary_files_in(temporary))
    try:
        output, _ = process.communicate(timeout=300)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert process.returncode == 0, output[-4000:]
    rows = [line.split() for line in output.splitlines() if line.split()[:1] in (["customers"], ["orders"],
                                                                                 ["order_events"])]
    assert len(rows) == 3 and all(r[-1] == "yes" and r[1] == r[2] for r in rows), output[-4000:]
    assert int(rows[1][3]) >= 2, "orders: expected the snapshot and streamed changes in separate snapshots"
    assert re.search(r"^  job \| Flink web UI: http://127\.0\.0\.1:\d+$", output, re.MULTILINE), output[-4000:]
    assert re.search(r"^  job \| snapshot \w+\.orders: done, 20,000 rows", output, re.MULTILINE), output[-4000:]
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert leftovers == [], f"processes left behind: {leftovers}"
    left = sorted(set(os.listdir(temporary)) - {"paimon-cdc"})  # the client log's directory stays, by design
    assert left == [], f"left in the temporary directory: {left}"
