"""The README's pypaimon-style example runs unchanged on paimon_py and on pypaimon 2.1.0 (only the
imports differ) and both print the same."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.paths import ROOT

MARKER = "<!-- pypaimon-example -->\n```python\n"


def _example() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index(MARKER) + len(MARKER)
    return readme[start:readme.index("```", start)]


def _run(code: str, temporary) -> str:
    """``code`` in a Python whose temporary directory (the example's warehouse) is ``temporary``."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                            env={**os.environ, "TMPDIR": str(temporary)})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_readme_example_prints_the_same_with_paimon_py_and_pypaimon(tmp_path):
    code = _example()
    assert "pypaimon" not in code
    ours = _run(code, tmp_path)
    assert ours == _run(code.replace("paimon_py", "pypaimon"), tmp_path)
    assert ours.splitlines() == ["[{'id': 1, 'score': 2.5}, {'id': 2, 'score': 3.5}]", "[2.5, 3.5]", "2",
                                 "['id', 'city']"]
