#!/usr/bin/env bash
# The README's run command: installs what it needs into .venv, then runs the main job.
# Until the CDC jobs exist this is the paimon_py batch demo; arguments go to it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh"
exec "$root/.venv/bin/python" "$root/jobs/batch_demo.py" "$@"
