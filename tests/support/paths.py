"""Where the tests find the repository, whatever their depth under ``tests/``.

* ``ROOT``: the repository's root (``jobs/``, ``scripts/``, ``README.md``; the ``cwd`` of the jobs the
  tests start). A ``Path``; ``os.path.join(ROOT, "jobs", ...)`` gives a ``str``.
* ``TESTS``: the ``tests/`` directory (``tests/java/``).
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
