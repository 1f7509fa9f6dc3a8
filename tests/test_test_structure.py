"""The shape of the test suite itself (fast: parses tests/**/*.py with ast, runs nothing).

* No module imports a test module (``from tests.paimon_py.test_x import ...``,
  ``import tests.test_x``, ``from tests.operators import test_x``, at any depth): shared code lives
  in ``tests/support/``, fixtures in ``tests/conftest.py``.
* A test module that starts a server, a JVM or a job (it uses ``postgres_server``/``database``,
  ``mariadb_server``/``mysql_database``, ``LocalPostgres``, ``LocalMariaDB``, ``Cluster``, ``Job``, ``java_tool``, imports ``pyflink``, or runs something
  under ``jobs/``) is marked ``slow``: ``pytestmark = pytest.mark.slow`` (or a list holding it),
  or every test of the module decorated ``@pytest.mark.slow``. ``scripts/test.sh --fast``
  leaves those out.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import TESTS
SERVER_NAMES = {"LocalPostgres", "LocalMariaDB", "Cluster", "ClusterJob", "Job", "java_tool"}
SERVER_FIXTURES = {"postgres_server", "database", "mariadb_server", "mysql_database"}
SERVER_MODULES = ("pyflink", "tests.support.java_tool", "tests.support.flink_standalone",
                  "operators.postgres.local_server", "operators.mysql.local_server")


def _modules() -> dict[str, ast.Module]:
    return {str(p.relative_to(TESTS.parent)): ast.parse(p.read_text(), str(p)) for p in sorted(TESTS.rglob("*.py"))}


def _is_test_module(name: str) -> bool:
    """``tests.test_x``, ``tests.paimon_py.test_x``, ``tests.operators.cdc.test_x.y`` ..."""
    parts = name.split(".")
    return parts[0] == "tests" and any(part.startswith("test_") for part in parts[1:])


def _imports_of_test_modules(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if _is_test_module(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if _is_test_module(node.module):
                found.append(node.module)
            elif node.module.split(".")[0] == "tests":
                found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("test_")]
    return found


def _why_slow(tree: ast.Module) -> list[str]:
    """What in the module starts a server, a JVM or a job."""
    reasons = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in SERVER_NAMES:
            reasons.add(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in SERVER_NAMES:
            reasons.add(node.attr)
        elif isinstance(node, ast.Import):
            reasons.update(a.name for a in node.names if a.name.startswith(SERVER_MODULES))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(SERVER_MODULES):
            reasons.add(node.module)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            reasons.update(f"fixture {a.arg}" for a in node.args.args if a.arg in SERVER_FIXTURES)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join":
            if any(isinstance(a, ast.Constant) and a.value == "jobs" for a in node.args):
                reasons.add("runs a job under jobs/")  # os.path.join(ROOT, "jobs", ...)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("jobs/") and node.value.endswith(".py"):
                reasons.add(f"runs {node.value}")
    return sorted(reasons)


def _marks_slow(node: ast.AST) -> bool:
    return "mark.slow" in ast.unparse(node)


def _is_slow(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark"
                                                for t in node.targets):
            if _marks_slow(node.value):
                return True
    tests = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
             and n.name.startswith("test_")]
    return bool(tests) and all(any(_marks_slow(d) for d in t.decorator_list) for t in tests)


def test_no_module_imports_a_test_module():
    offenders = {path: found for path, tree in _modules().items() if (found := _imports_of_test_modules(tree))}
    assert offenders == {}, "move what is shared into tests/support/ (or a fixture into tests/conftest.py)"


def test_modules_that_start_servers_jvms_or_jobs_are_slow():
    unmarked = {path: reasons for path, tree in _modules().items()
                if Path(path).name.startswith("test_") and (reasons := _why_slow(tree)) and not _is_slow(tree)}
    assert unmarked == {}, "mark them: pytestmark = pytest.mark.slow"


def test_the_checks_see_what_they_look_for():
    bad = ast.parse("from tests.test_postgres_sync import Job\nfrom tests import test_x\nimport tests.test_y\n"
                    "from tests.operators.postgres.test_pgoutput import f\nfrom tests.paimon_py import test_z\n"
                    "import tests.jobs.test_demo\n")
    assert _imports_of_test_modules(bad) == ["tests.test_postgres_sync", "tests.test_x", "tests.test_y",
                                             "tests.operators.postgres.test_pgoutput", "tests.paimon_py.test_z",
                                             "tests.jobs.test_demo"]
    assert _imports_of_test_modules(ast.parse("from tests.support.postgres import Job\nimport tests.support\n")) == []
    server = ast.parse("def test_a(postgres_server):\n    pass\n")
    assert _why_slow(server) == ["fixture postgres_server"] and not _is_slow(server)
    marked = ast.parse("import pytest\npytestmark = [pytest.mark.slow, pytest.mark.timeout(9)]\n" + ast.unparse(server))
    assert _is_slow(marked)
    each = ast.parse("import pytest\n@pytest.mark.slow\ndef test_a(database):\n    pass\n")
    assert _why_slow(each) == ["fixture database"] and _is_slow(each)
    assert _why_slow(ast.parse("import os\nos.path.join(ROOT, 'jobs', 'x.py')\n")) == ["runs a job under jobs/"]
    assert _why_slow(ast.parse("FORBIDDEN = ['operators', 'jobs']\n")) == []
