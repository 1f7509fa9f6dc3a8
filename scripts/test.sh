#!/usr/bin/env bash
# The README's test command: installs everything it needs into .venv, then runs the whole suite.
# Extra arguments go to pytest (for example: scripts/test.sh -k binary_row).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh"
cd "$root"
set +e
"$root/.venv/bin/python" -m pytest -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit "$status"
