"""Import rules between layers (docs/architecture.md), checked on the sources with ``ast``.

Every import counts, including those inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.support.paths import ROOT

PAIMON_LAYERS = ["version", "exceptions", "types", "data", "bucket", "partition", "config_option", "options", "fs",
                 "stats", "predicate", "schema", "io", "manifest", "snapshot", "tag", "deletionvectors", "index",
                 "mergetree", "operation",
                 "table", "catalog"]
"""``paimon_py``'s top-level modules and packages, lowest first; a module may import its own
layer and those before it. The package's ``__init__`` (the public API) sits above all."""

FORBIDDEN_IN_PAIMON = ["operators", "jobs", "pyflink", "tests"]

SOURCE_PACKAGES = ["operators.postgres", "operators.mysql"]
"""Packages that read a database. They build on the CDC core (``operators.cdc``) alone: never the
sink, the Flink runtime or the assembly of the jobs. Every subpackage of ``operators`` is one
unless listed in ``OTHER_OPERATOR_PACKAGES``."""

OTHER_OPERATOR_PACKAGES = ["operators.cdc", "operators.runtime", "operators.sink", "operators.synthetic",
                           "operators.console"]
"""The CDC core, the Flink runtime (bridge, reader, settings), the sink, the test-double source
(a synthetic change stream with its own reader, used by the sink's exactly-once tests), and the
``paimon-cdc`` console command."""

SOURCE_IMPORTERS = ["operators.console"]
"""Besides ``jobs/``, the one package that may import a source: the console's ``verify`` and
``positions`` read the source databases (never through Flink)."""

NOT_FOR_CONSOLE = ["pyflink", "operators.runtime", "operators.sink", "operators.sync_job"]

NOT_FOR_SOURCES = ["operators.sink", "operators.runtime", "operators.sync_job", "operators.cli", "pyflink"]

OPERATOR_LAYERS = ["cdc", "runtime", "sink", "synthetic", "sync_job", "cli", "console"]
"""``operators``' own layers (sources aside), lowest first: the Flink-free CDC core, the Flink
runtime, the sink, the test-double source, the assembly of every job and its command line, the
console command."""

@dataclass(frozen=True, order=True)
class Violation:
    module: str
    line: int
    imported: str


def modules_of(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of ``package`` (a directory under ``root``)."""
    modules = {}
    for path in sorted((root / package.replace(".", "/")).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imports_of(path: Path, module: str, is_module: Callable[[str], bool]) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in the file; relative imports are resolved, and
    ``from a import b`` yields ``a.b`` when ``b`` is a module."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            for alias in node.names:
                name = f"{base}.{alias.name}"
                yield node.lineno, name if is_module(name) else base


def find_violations(root: Path, package: str, is_forbidden: Callable[[str, str], bool]) -> list[Violation]:
    """Imports of modules in ``package`` for which ``is_forbidden(module, imported)`` holds, sorted."""
    def is_module(name: str) -> bool:
        path = root / name.replace(".", "/")
        return path.with_suffix(".py").exists() or (path / "__init__.py").exists()

    return sorted({Violation(module, line, imported)
                   for module, path in modules_of(root, package).items()
                   for line, imported in imports_of(path, module, is_module)
                   if is_forbidden(module, imported)})


def is_under(name: str, prefixes: list[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layer_rule(package: str, layers: list[str]) -> Callable[[str, str], bool]:
    """Forbids imports of a higher layer of ``package``; the package itself is the top."""
    def layer(name: str) -> int:
        parts = name.split(".")
        return layers.index(parts[1]) if len(parts) > 1 else len(layers)

    return lambda module, imported: is_under(imported, [package]) and layer(imported) > layer(module)


def test_paimon_py_layers_import_only_lower_layers():
    modules = modules_of(ROOT, "paimon_py")
    tops = {name.split(".")[1] for name in modules if name != "paimon_py"}
    assert tops == set(PAIMON_LAYERS), "every top-level module of paimon_py has a layer"
    assert find_violations(ROOT, "paimon_py", layer_rule("paimon_py", PAIMON_LAYERS)) == []


def test_paimon_py_imports_no_runtime_or_tests():
    assert find_violations(ROOT, "paimon_py", lambda _, imported: is_under(imported, FORBIDDEN_IN_PAIMON)) == []


def test_every_operators_subpackage_is_classified():
    subpackages = {name for name, path in modules_of(ROOT, "operators").items()
                   if path.name == "__init__.py" and name.count(".") == 1}
    assert subpackages == set(SOURCE_PACKAGES + OTHER_OPERATOR_PACKAGES)


@pytest.mark.parametrize("source_package", SOURCE_PACKAGES)
def test_source_packages_build_on_the_cdc_core_alone(source_package):
    assert find_violations(ROOT, source_package, lambda _, imported: is_under(imported, NOT_FOR_SOURCES)) == []


def test_operators_layers_point_one_way():
    """No source package is imported by the core, runtime, sink or assembly, and they import
    only layers below them (the CDC core imports no Flink)."""
    layered = layer_rule("operators", OPERATOR_LAYERS)

    def rule(module: str, imported: str) -> bool:
        return not is_under(module, SOURCE_PACKAGES) and not is_under(imported, SOURCE_PACKAGES) \
            and module != "operators" and layered(module, imported)
    assert find_violations(ROOT, "operators", rule) == []
    assert find_violations(ROOT, "operators.cdc", lambda _, imported: is_under(imported, ["pyflink"])) == []
    assert find_violations(ROOT, "operators", lambda module, imported: is_under(imported, SOURCE_PACKAGES)
                           and not is_under(module, SOURCE_PACKAGES + SOURCE_IMPORTERS)) == []


def test_the_console_starts_no_flink():
    assert find_violations(ROOT, "operators.console", lambda _, imported: is_under(imported, NOT_FOR_CONSOLE)) == []


def test_the_checker_finds_upward_relative_and_function_level_imports(tmp_path):
    files = {
        "pkg/__init__.py": "from pkg.high.b import B\n",
        "pkg/low/__init__.py": "",
        "pkg/low/a.py": "import os\n\ndef f():\n    from ..high import b\n    return b\n",
        "pkg/high/__init__.py": "",
        "pkg/high/b.py": "from pkg.low import a\nfrom . import c\nB = 1\n",
        "pkg/high/c.py": "import pkg\n",
        "pkg/mid.py": "from pkg import low\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)

    found = find_violations(tmp_path, "pkg", layer_rule("pkg", ["low", "mid", "high"]))

    assert found == [Violation("pkg.high.c", 1, "pkg"), Violation("pkg.low.a", 4, "pkg.high.b")]
    assert find_violations(tmp_path, "pkg.high", lambda _, imported: is_under(imported, ["os", "pkg.low"])) \
        == [Violation("pkg.high.b", 1, "pkg.low.a")]
