#!/usr/bin/env bash
# The chaos suite's long run: a sync job on a private standalone cluster under a live workload,
# TaskManagers SIGKILLed and whole clusters killed with kill -9 on a seeded schedule, then the
# lake compared with the source row by row. Installs what it needs into .venv first (as
# scripts/test.sh), writes benchmarks/results/chaos_<source>.md (and its plot); exit code 1 when
# the run failed (the results file says why).
#   scripts/chaos.sh [--kills 20] [--cluster-kills 5] [--seed 13] [--source postgres|mariadb]
# The short run of CI: pytest -m chaos (tests/jobs/test_chaos.py).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh"
cd "$root"
exec "$root/.venv/bin/python" -m tests.support.chaos_report "$@"
