#!/usr/bin/env bash
# The README's run command: installs what it needs into .venv, then runs the main job on an
# embedded default (jobs/demo.py: a private PostgreSQL with a sample shop database, synced by
# postgres_sync_database into ./warehouse; --source mariadb: the same with MariaDB and
# mysql_sync_database). Arguments go to the demo.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh"
exec "$root/.venv/bin/python" "$root/jobs/demo.py" "$@"
