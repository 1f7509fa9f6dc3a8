"""Synthetic change stream -> Paimon tables, exactly once: the sink side without a database.

    python jobs/sync_synthetic.py --warehouse DIR [--positions 120] [--ticks_per_second 20]
        [--writer_parallelism 2] [--commit_user NAME] [--fail POINT ...] [--flink_conf k=v ...]
        [--orders_option k=v ...]

Replays ``operators/synthetic_source.py`` (a primary-key table ``cdc.orders`` with updates,
deletes and two schema changes, and an append table ``cdc.events``) through the reader, the
writer and the committer; the run ends by itself after ``--positions`` positions, committing the
last data at end of input. ``--orders_option`` sets options of ``cdc.orders`` (default ``bucket=2``). ``--fail`` injects exceptions at named points (``operators/failures.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import paimon_py  # noqa: E402
from operators.synthetic.synthetic_source import (EVENTS_SCHEMA, LOG_TABLE, PK_TABLE,  # noqa: E402
                                        SyntheticChangeStream, orders_schema)


def create_tables(warehouse: str, orders_options: dict[str, str] | None = None) -> None:
    catalog = paimon_py.CatalogFactory.create({"warehouse": warehouse})
    catalog.create_database("cdc", ignore_if_exists=True)
    catalog.create_table(PK_TABLE, paimon_py.Schema.from_pyarrow_schema(
        orders_schema(0), primary_keys=["id"], options={"bucket": "2", **(orders_options or {})}),
        ignore_if_exists=True)
    catalog.create_table(LOG_TABLE, paimon_py.Schema.from_pyarrow_schema(EVENTS_SCHEMA),
                         ignore_if_exists=True)


def build(args):
    from operators.runtime import bridge
    from operators.runtime.failures import FailurePlan
    from operators.runtime.job_config import create_environment, job_settings
    from operators.sink.paimon_sink import add_paimon_sink, new_commit_user
    from operators.synthetic.synthetic_reader import SyntheticReader

    env = create_environment(job_settings(args.flink_conf))
    failures = FailurePlan(args.fail, args.failure_dir)
    changes = bridge.keyed_ticks(env, "split-0", args.positions, args.ticks_per_second) \
        .process(SyntheticReader(SyntheticChangeStream(), failures), output_type=bridge.ENVELOPE_TYPE) \
        .name("synthetic reader").set_parallelism(1)
    bridge.set_python_bundle(changes, bridge.READER_BUNDLE)
    add_paimon_sink(changes, {"warehouse": args.warehouse}, args.commit_user or new_commit_user("sync-synthetic"),
                    args.writer_parallelism, failures)
    return env


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--positions", type=int, default=120)
    parser.add_argument("--ticks_per_second", type=float, default=20.0)
    parser.add_argument("--writer_parallelism", type=int, default=2)
    parser.add_argument("--commit_user", default=None, help="default: a new one per run")
    parser.add_argument("--fail", action="append", default=[], help="failure point, e.g. writer:after-flush:3")
    parser.add_argument("--failure_dir", default=None, help="where fired failures are remembered")
    parser.add_argument("--flink_conf", action="append", default=[], help="Flink option key=value")
    parser.add_argument("--orders_option", action="append", default=[], help="option key=value of cdc.orders")
    args = parser.parse_args(argv)
    if args.fail and args.failure_dir is None:
        args.failure_dir = tempfile.mkdtemp(prefix="failures-")
    create_tables(args.warehouse, dict(option.split("=", 1) for option in args.orders_option))
    build(args).execute("sync_synthetic")


if __name__ == "__main__":
    main()
