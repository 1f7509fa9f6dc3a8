"""postgres_sync_table: PostgreSQL -> Paimon, exactly once (flags as Paimon's CDC action).

    python jobs/postgres_sync_table.py --help
    flink run -py jobs/postgres_sync_table.py ...
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from operators.postgres.sync_job import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:], database_sync=False)
