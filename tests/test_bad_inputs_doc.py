"""docs/bad-inputs.md stays true: it lists at least 25 cases, every case names a test that exists
(its exact pytest node id, as collection finds it), and every message it shows is one that test's
module asserts: a piece of one of its string literals, and for a case of a table such as
``CASES`` (a parameter that is a key of a dict literal) a piece of that entry's literals."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from typing import Optional

from tests.support.paths import ROOT

DOC = ROOT / "docs" / "bad-inputs.md"
COLUMNS = 6
"""# | what the user did | message | outcome | guaranteed | test"""


@dataclass(frozen=True)
class Row:
    number: str
    message: Optional[str]
    """The message's code span; None where the row says there is none."""
    node: str
    """``path::name`` or ``path::name[parameter]``."""

    @property
    def path(self) -> str:
        return self.node.split("::")[0]

    @property
    def parameter(self) -> Optional[str]:
        found = re.search(r"\[(.*)\]$", self.node)
        return found.group(1) if found else None


def rows() -> list[Row]:
    out = []
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) != COLUMNS or not cells[0].isdigit():
            continue
        message = re.fullmatch(r"`([^`]+)`.*", cells[2])
        node = re.fullmatch(r"`([^`]+)`", cells[5])
        assert node, f"case {cells[0]}: the test column holds one code span: {cells[5]}"
        assert message or cells[2] == "none", f"case {cells[0]}: the message column: {cells[2]}"
        out.append(Row(cells[0], message.group(1) if message else None, node.group(1)))
    return out


@cache
def collected(paths: tuple[str, ...]) -> set[str]:
    """The node ids pytest collects from ``paths`` (collection only: nothing runs)."""
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                             *paths], capture_output=True, text=True, cwd=ROOT, timeout=300)
    return {line.strip() for line in result.stdout.splitlines() if "::" in line}


def literals(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def entry_literals(tree: ast.Module, key: str) -> Optional[list[str]]:
    """The string literals of the value of a dict literal's entry ``key`` (None: no such entry)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if isinstance(k, ast.Constant) and k.value == key:
                    return literals(v)
    return None


def test_the_catalogue_lists_at_least_25_numbered_cases():
    numbers = [int(r.number) for r in rows()]
    assert len(numbers) >= 25
    assert numbers == list(range(1, len(numbers) + 1))


def test_every_case_names_a_test_that_exists():
    cases = rows()
    found = collected(tuple(sorted({r.path for r in cases})))
    assert sorted(r.node for r in cases if r.node not in found) == []


def test_every_message_is_the_one_its_test_asserts():
    wrong = []
    for row in (r for r in rows() if r.message is not None):
        tree = ast.parse((ROOT / row.path).read_text())
        entry = entry_literals(tree, row.parameter) if row.parameter else None
        candidates = entry if entry is not None else literals(tree)
        if not any(row.message in text for text in candidates):
            wrong.append(f"case {row.number}: {row.message!r} is not asserted by {row.node}")
    assert wrong == []
