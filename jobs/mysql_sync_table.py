"""mysql_sync_table: MySQL/MariaDB -> Paimon, exactly once (flags as Paimon's CDC action).

    python jobs/mysql_sync_table.py --help
    flink run -py jobs/mysql_sync_table.py ...
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from operators.mysql.job_args import from_args  # noqa: E402
from operators.cli import run_job  # noqa: E402
from operators.sync_job import SyncJob  # noqa: E402

if __name__ == "__main__":
    run_job(lambda argv: SyncJob(from_args(argv, database_sync=False)), sys.argv[1:])
