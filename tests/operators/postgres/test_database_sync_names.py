"""postgres_sync_database names a lake table after its source table alone, without Flink
(``PostgresChangeSource``): a table created while the job runs, in another matched schema, with
the name of a table already captured stops the source with the fix (the start-up check refuses
the same pair: ``test_job_errors``), while a new table of a new name is picked up."""

from __future__ import annotations

import pytest

from operators.cdc.change_batch import ChangeBatch
from operators.cdc.errors import SourceNotReady
from operators.postgres.job_args import from_args

pytestmark = pytest.mark.slow


def test_a_new_table_sharing_a_lake_name_stops_the_source(postgres_server, database, tmp_path):
    postgres_server.execute("CREATE SCHEMA sales; CREATE TABLE public.orders (id int PRIMARY KEY)", database=database)
    conf = {**postgres_server.conf(database), "schema-name": "public|sales", "slot.name": "names",
            "scan.startup.mode": "latest-offset"}
    sync = from_args(["--warehouse", str(tmp_path / "lake"), "--database", "lake",
                      *[a for k, v in conf.items() for a in ("--postgres_conf", f"{k}={v}")]], database_sync=True)
    sync.preparation.check()
    sync.preparation.create()
    source = sync.preparation.factory.open(None, "names")
    try:
        source.start()
        postgres_server.execute("CREATE TABLE sales.items (id int PRIMARY KEY); INSERT INTO sales.items VALUES (1)",
                                database=database)
        picked = []
        for _ in range(25):
            picked += [e.table for e in source.step(0.2) if isinstance(e, ChangeBatch)]
            if picked:
                break
        assert picked == ["lake.items"]
        postgres_server.execute("CREATE TABLE sales.orders (id int PRIMARY KEY); INSERT INTO sales.orders VALUES (1)",
                                database=database)
        with pytest.raises(SourceNotReady, match="public.orders and sales.orders would both be written into "
                                                 "lake.orders — match one schema"):
            for _ in range(25):
                source.step(0.2)
    finally:
        source.close()
