"""Writes the README's option tables from the options' declarations (``paimon_py.config_option``).

Each table sits between marker comments, ``<!-- options:NAME -->`` and ``<!-- /options:NAME -->``;
``tests/test_readme_options.py`` fails when one differs from its declarations.

    .venv/bin/python scripts/readme_options.py          # rewrite the tables in README.md
    .venv/bin/python scripts/readme_options.py --check  # exit 1 when a table is out of date
"""

from __future__ import annotations

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
COMMAND = "python scripts/readme_options.py"


def tables() -> dict[str, str]:
    """Marker name -> the Markdown table of its options."""
    sys.path.insert(0, ROOT)
    from operators.cdc.catalog import CATALOG_OPTIONS
    from operators.mysql.source_config import MYSQL_OPTIONS
    from operators.postgres.source_config import POSTGRES_OPTIONS
    from paimon_py.options import TABLE_OPTIONS
    return {"postgres": POSTGRES_OPTIONS.markdown(), "mysql": MYSQL_OPTIONS.markdown(),
            "catalog": CATALOG_OPTIONS.markdown(),
            "table": TABLE_OPTIONS.markdown()}


def block_pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- options:{name} -->\n)(.*?)(<!-- /options:{name} -->)", re.S)


def blocks(text: str) -> dict[str, str]:
    """Marker name -> what the README holds between that name's markers (for every name of ``tables``)."""
    found = {}
    for name in tables():
        match = block_pattern(name).search(text)
        found[name] = match.group(2) if match else None
    return found


def render(text: str) -> str:
    """``text`` with every marked table replaced by the one rendered from the declarations."""
    for name, table in tables().items():
        pattern = block_pattern(name)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no <!-- options:{name} --> ... <!-- /options:{name} --> block")
        text = pattern.sub(lambda m: m.group(1) + table + m.group(3), text)
    return text


def main(argv: list[str]) -> int:
    with open(README) as f:
        text = f.read()
    new = render(text)
    if "--check" in argv:
        if new != text:
            print(f"README.md's option tables are out of date — run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    if new != text:
        with open(README, "w") as f:
            f.write(new)
        print("README.md: option tables rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
