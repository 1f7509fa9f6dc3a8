"""``native.build``: the C sources are compiled once, into libraries named by their source."""

from __future__ import annotations

import pytest

from operators.postgres import native


@pytest.mark.parametrize("name", native.SOURCES)
def test_each_library_is_built_once_and_named_by_its_source(name):
    path = native.build(name)
    assert path.exists() and path.name.startswith(f"{name}-")
    assert native.build(name) == path
