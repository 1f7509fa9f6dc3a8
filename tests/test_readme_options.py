"""The README's option tables are the options' declarations (``paimon_py.config_option``): the
``--postgres_conf``, ``--catalog_conf`` and table options, rendered by ``scripts/readme_options.py``."""

from __future__ import annotations

import importlib.util
import re

import pytest

from tests.support.paths import ROOT


def _script():
    spec = importlib.util.spec_from_file_location("readme_options", ROOT / "scripts" / "readme_options.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _script()
README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name", ["postgres", "catalog", "table"])
def test_readme_table_equals_the_declarations(name):
    found = SCRIPT.blocks(README)[name]
    assert found is not None, f"README.md has no <!-- options:{name} --> block"
    assert found == SCRIPT.tables()[name], \
        f"README.md's {name} options differ from their declarations — run {SCRIPT.COMMAND}"


def test_every_declared_postgres_option_is_in_the_readme_table():
    from operators.postgres.source_config import POSTGRES_OPTIONS
    table = SCRIPT.blocks(README)["postgres"]
    assert [line.split("`")[1] for line in table.splitlines()[2:]] == list(POSTGRES_OPTIONS.keys)
    assert set(POSTGRES_OPTIONS.keys) == {
        "hostname", "port", "username", "password", "password.file", "database-name", "schema-name", "table-name",
        "slot.name", "publication.name", "decoding.plugin.name", "scan.startup.mode", "scan.snapshot.chunk.size",
        "scan.snapshot.parallelism",
        "heartbeat.interval.ms", "poll.max.rows", "poll.prefetch.size"}


def test_table_options_named_in_the_readme_prose_are_declared():
    """Backquoted ``key=value`` settings of table options in the README (``bucket=4``,
    ``write-only=true``...; placeholders such as ``bucket=N`` aside) take values the declarations accept."""
    from paimon_py.options import TABLE_OPTIONS
    settings = set(re.findall(r"`(?:--table_conf )?([a-z][a-z0-9.-]*)=([^`\s]+)`", README))
    table_settings = {(k, v) for k, v in settings if k in TABLE_OPTIONS and not v.isupper()}
    assert {"bucket", "write-only"} <= {k for k, _ in table_settings}
    for key, value in table_settings:
        TABLE_OPTIONS[key].parse(value)
