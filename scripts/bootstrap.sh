#!/usr/bin/env bash
# Creates (or refreshes) the project's virtualenv in .venv and installs the package with its
# test extras. Sourced by scripts/test.sh and scripts/run.sh; safe to run again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python_bin="${PYTHON:-python3.11}"
command -v "$python_bin" >/dev/null 2>&1 || python_bin=python3
if [ ! -x "$root/.venv/bin/python" ]; then
  "$python_bin" -m venv "$root/.venv"
fi
stamp="$root/.venv/.installed-$(cat "$root/pyproject.toml" | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  "$root/.venv/bin/pip" install --quiet --upgrade pip
  "$root/.venv/bin/pip" install --quiet -e "$root[test]"
  rm -f "$root"/.venv/.installed-*
  touch "$stamp"
fi
"$root/.venv/bin/python" "$root/bridge/build.py" >/dev/null  # the checkpoint-signal bridge jar (rebuilt only when its sources change)
(cd "$root" && "$root/.venv/bin/python" -m operators.postgres.native >/dev/null)  # the C pgoutput decoder and COPY drain (gcc; rebuilt only when a source changes)
# The class data sharing archive of a local run's JVM (made once per installation, ~20 s; then a
# check of ~0.1 s): every job starts ~2 s sooner. Jobs run without it when it cannot be made.
(cd "$root" && "$root/.venv/bin/python" -m operators.runtime.class_sharing >/dev/null) \
  || echo "warning: no class data sharing archive (jobs start ~2 s slower): python -m operators.runtime.class_sharing says why" >&2
# The project's bytecode, written once: where PYTHONDONTWRITEBYTECODE is set (CI images), every job,
# worker and test would otherwise compile ~300 modules from source at each start (~0.3 s a job).
"$root/.venv/bin/python" -m compileall -q -j 0 "$root/operators" "$root/paimon_py" "$root/jobs" >/dev/null
