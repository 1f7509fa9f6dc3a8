"""docs/architecture.md stays true: every path it names exists, and every module of
``operators/`` is named (directly, or as part of a ``dir/a.py``, ``b.py`` row)."""

from __future__ import annotations

import re

from tests.support.paths import ROOT

DOC = (ROOT / "docs" / "architecture.md").read_text()


def named_paths() -> set[str]:
    return set(re.findall(r"`((?:operators|paimon_py|jobs|bridge)/[\w/.]*\w)`", DOC))


def test_every_named_path_exists():
    missing = sorted(p for p in named_paths() if not (ROOT / p).exists() and "..." not in p)
    assert missing == []


def test_every_operators_module_is_named():
    modules = {str(p.relative_to(ROOT / "operators")) for p in (ROOT / "operators").rglob("*.py")
               if p.name != "__init__.py"}
    unnamed = sorted(m for m in modules if f"`{m}`" not in DOC and f"`{m.split('/')[-1]}`" not in DOC
                     and f"operators/{m}" not in DOC)
    assert unnamed == []
