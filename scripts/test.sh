#!/usr/bin/env bash
# The README's test command: installs everything it needs into .venv, then runs the whole suite.
# --fast (first argument): only the tests not marked slow (no PostgreSQL, Flink, JVM or job).
# Extra arguments go to pytest (for example: scripts/test.sh -k binary_row, scripts/test.sh --fast -x).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh"
cd "$root"
lane=()
if [ "${1:-}" = "--fast" ]; then
  shift
  lane=(-m "not slow")
fi
set +e
"$root/.venv/bin/python" -m pytest -p no:cacheprovider "${lane[@]}" "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit "$status"
