"""``SyncJob``: one place where every source's sync job is checked, prepared and assembled.

Preparation runs in the client (``python jobs/...`` or the ``flink run`` client) so that a bad
option, an unready server or an incompatible table fails before anything exists: the source's
checks, then the lake tables' checks (types, options, compatible evolution), and only then the
source's server objects and the lake tables are created. The topology::

    ticks -> keyed in place -> [bridge] -> SourceReader -> add_paimon_sink
                                                      (+ SplitReader subtasks for a parallel snapshot)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from operators.cdc.catalog import check_writable, open_catalog
from operators.cdc.errors import InvalidJobOption
from operators.cdc.source import SourcePlan, SyncSource, snapshot_parallelism
from operators.cdc.sync_flags import masked, parse_key_values
from operators.runtime.job_config import job_settings, web_ui_address
from operators.sink.schema_evolution import SchemaEvolutionLogic
from paimon_py.exceptions import PaimonError
from paimon_py.options import TABLE_OPTIONS


@dataclass
class SyncJob:
    source: SyncSource
    plan: Optional[SourcePlan] = None
    settings: Optional[dict[str, str]] = None
    """Flink settings, checked by ``prepare``."""

    def prepare(self) -> list[str]:
        """Checks everything (Flink settings, the source, the lake tables: types, layout options,
        readable latest snapshots; that the warehouse takes files), then creates the source's
        server objects and the lake tables; returns the target tables."""
        source = self.source
        self.settings = job_settings(source.args.flink_conf)
        plan = source.preparation.check()
        catalog = open_catalog(source.catalog_options)
        evolution = SchemaEvolutionLogic(catalog, source.args.ignore_incompatible)
        given = parse_key_values(source.args.table_conf, "--table_conf")
        for event in plan.schema_events:
            try:
                evolution.check(event.table, event.schema, event.spec)
                _check_existing_table(catalog, event.table, event.spec, given)
            except PaimonError as e:
                fix = "" if " — " in str(e) else " — fix --table_conf (or the existing table)"
                raise InvalidJobOption(f"table {event.table}: {e}{fix}") from e
        check_writable(catalog)
        source.preparation.create()
        for event in plan.schema_events:
            evolution.apply(event.table, event.schema, event.spec)
        self.plan = plan
        return sorted({e.table for e in plan.schema_events})

    def build(self, commit_user: Optional[str] = None):
        """The job's StreamExecutionEnvironment (not started); after ``prepare``."""
        from operators.runtime import bridge
        from operators.runtime.failures import FailurePlan
        from operators.runtime.job_config import create_environment, submitted_to_cluster
        from operators.runtime.source_reader import SourceReader
        from operators.runtime.split_reader import SplitReader
        from operators.sink.paimon_sink import add_paimon_sink, new_commit_user

        source, args = self.source, self.source.args
        env = create_environment(self.settings)
        failures = FailurePlan(args.fail, args.failure_dir)
        factory = source.preparation.factory
        ticks_total = self.plan.snapshot_ticks if factory.bounded else 2 ** 63 - 1
        keyed = bridge.keyed_ticks(env, source.reader_key, ticks_total, args.ticks_per_second)
        kind = source.name.split("_")[0]
        commit_user = commit_user or new_commit_user(f"{kind}-{source.reader_key}")
        instance = f"paimon-cdc {commit_user[-12:]}"
        split_parallelism = snapshot_parallelism(factory)
        split_keys = bridge.subtask_keys(f"{source.reader_key}/split", split_parallelism) \
            if split_parallelism > 1 else []
        reader = SourceReader(factory, source.catalog_options, instance, 1.0 / args.ticks_per_second,
                              self.plan.snapshot_ticks - 1, failures, print_progress=not submitted_to_cluster(),
                              split_keys=split_keys)
        changes = bridge.process_with_signals(keyed, reader, output_type=bridge.ENVELOPE_TYPE,
                                              name=f"{kind} reader", parallelism=1, bundle=bridge.READER_BUNDLE)
        table_conf = parse_key_values(args.table_conf, "--table_conf")
        add_paimon_sink(changes, source.catalog_options, commit_user, args.writer_parallelism, failures,
                        args.ignore_incompatible, int(table_conf.get("dynamic-bucket.assigner-parallelism", 0)),
                        SplitReader(factory, instance, failures) if split_keys else None, split_parallelism)
        return env

    def run(self) -> None:
        """Prepares, then runs the job; a job that fails raises ``JobFailed`` (one line: why)."""
        from py4j.protocol import Py4JJavaError

        from operators.runtime.job_failure import job_failed

        targets = self.prepare()
        print("\n".join(self.summary(targets)), flush=True)
        try:
            self.build().execute(self.source.name)
        except Py4JJavaError as e:
            raise job_failed(str(e), "the client log (PAIMON_CDC_LOG_DIR) and the Flink logs") from e

    def summary(self, targets: list[str]) -> list[str]:
        """What the job captures, printed at start: the lake tables (keys, bucket mode, merge
        engine, changelog producer), the options given (secrets masked), the web UI."""
        catalog = open_catalog(self.source.catalog_options)
        lines = [f"Syncing into {len(targets)} table(s): {', '.join(targets)}"]
        lines += [f"  {name}: {_table_summary(catalog.get_table(name))}" for name in targets]
        args = vars(self.source.args)
        for flag in sorted(k for k in args if k.endswith("_conf") and args[k]):
            options = masked(parse_key_values(args[flag], f"--{flag}"))
            lines.append(f"--{flag}: " + ", ".join(f"{k}={v}" for k, v in options.items()))
        address = web_ui_address(self.settings)
        if address:
            lines.append(f"Flink web UI: {address}")
        return lines


LAYOUT_OPTIONS = ("bucket", "bucket-key", "merge-engine", "sequence.field")
"""Table options that decide where and how rows are stored: an existing table keeps them."""


def _check_existing_table(catalog, name: str, spec, given: dict[str, str]) -> None:
    """An existing table: its latest snapshot and manifests are readable (the writers and the
    committer continue from them), and ``--table_conf`` asks for none of its layout options
    to change (they would be silently ignored)."""
    if not catalog.table_exists(name):
        return
    table = catalog.get_table(name)
    table.new_read_builder().new_scan().plan()
    for key in LAYOUT_OPTIONS:
        wanted = spec.options.get(key) if spec is not None and key in given else None
        existing = table.schema.options.get(key, TABLE_OPTIONS[key].default)
        if wanted is not None and wanted != existing:
            raise InvalidJobOption(f"table {name}: --table_conf {key}={wanted} differs from the existing table's "
                                   f"{key}={existing}, which cannot change — leave {key} out of --table_conf, or "
                                   f"drop the table and start the job again to rebuild it from a new snapshot")


def _table_summary(table) -> str:
    schema, options = table.schema, table.options
    keys = f"primary key ({', '.join(schema.primary_keys)})" if schema.primary_keys else "append table"
    if options.bucket > 0:
        buckets = f"{options.bucket} fixed buckets"
    else:
        buckets = "dynamic buckets" if schema.primary_keys else "bucket-unaware"
    parts = [keys, buckets]
    if schema.partition_keys:
        parts.append(f"partitioned by {', '.join(schema.partition_keys)}")
    if schema.primary_keys:
        parts += [f"merge-engine {options.merge_engine}", f"changelog-producer {options.changelog_producer}"]
    return ", ".join(parts)
