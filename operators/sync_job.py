"""``SyncJob``: one place where every source's sync job is checked, prepared and assembled.

Preparation runs in the client (``python jobs/...`` or the ``flink run`` client) so that a bad
option, an unready server or an incompatible table fails before anything exists: the source's
checks, then the lake tables' checks (types, options, compatible evolution), and only then the
source's server objects and the lake tables are created. The topology::

    ticks -> key_by(reader key) -> [bridge] -> SourceReader -> add_paimon_sink
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from operators.cdc.catalog import open_catalog
from operators.cdc.errors import InvalidJobOption
from operators.cdc.source import SourcePlan, SyncSource
from operators.cdc.sync_flags import masked, parse_key_values
from operators.runtime.job_config import job_settings, web_ui_address
from operators.sink.schema_evolution import SchemaEvolutionLogic
from paimon_py.exceptions import PaimonError


@dataclass
class SyncJob:
    source: SyncSource
    plan: Optional[SourcePlan] = None
    settings: Optional[dict[str, str]] = None
    """Flink settings, checked by ``prepare``."""

    def prepare(self) -> list[str]:
        """Checks everything (Flink settings, the source, the lake tables), then creates the
        source's server objects and the lake tables; returns the target tables."""
        source = self.source
        self.settings = job_settings(source.args.flink_conf)
        plan = source.preparation.check()
        evolution = SchemaEvolutionLogic(open_catalog(source.catalog_options), source.args.ignore_incompatible)
        for event in plan.schema_events:
            try:
                evolution.check(event.table, event.schema, event.spec)
            except PaimonError as e:
                fix = "" if " — " in str(e) else " — fix --table_conf (or the existing table)"
                raise InvalidJobOption(f"table {event.table}: {e}{fix}") from e
        source.preparation.create()
        for event in plan.schema_events:
            evolution.apply(event.table, event.schema, event.spec)
        self.plan = plan
        return sorted({e.table for e in plan.schema_events})

    def build(self, commit_user: Optional[str] = None):
        """The job's StreamExecutionEnvironment (not started); after ``prepare``."""
        from pyflink.common.typeinfo import Types

        from operators.runtime import bridge
        from operators.runtime.failures import FailurePlan
        from operators.runtime.job_config import create_environment, submitted_to_cluster
        from operators.runtime.source_reader import SourceReader
        from operators.sink.paimon_sink import add_paimon_sink, new_commit_user

        source, args = self.source, self.source.args
        env = create_environment(self.settings)
        failures = FailurePlan(args.fail, args.failure_dir)
        factory = source.preparation.factory
        ticks_total = self.plan.snapshot_ticks if factory.bounded else 2 ** 63 - 1
        ticks = bridge.tick_source(env, ticks_total, args.ticks_per_second).set_parallelism(1)
        key = source.reader_key
        keyed = ticks.map(lambda t: bridge.data_envelope(key, t), output_type=bridge.ENVELOPE_TYPE) \
            .set_parallelism(1).key_by(lambda e: e[bridge.KEY], key_type=Types.STRING())
        kind = source.name.split("_")[0]
        commit_user = commit_user or new_commit_user(f"{kind}-{key}")
        reader = SourceReader(factory, source.catalog_options, f"paimon-cdc {commit_user[-12:]}",
                              1.0 / args.ticks_per_second, self.plan.snapshot_ticks - 1, failures,
                              print_progress=not submitted_to_cluster())
        changes = bridge.process_with_signals(keyed, reader, output_type=bridge.ENVELOPE_TYPE,
                                              name=f"{kind} reader", parallelism=1)
        table_conf = parse_key_values(args.table_conf, "--table_conf")
        add_paimon_sink(changes, source.catalog_options, commit_user, args.writer_parallelism, failures,
                        args.ignore_incompatible, int(table_conf.get("dynamic-bucket.assigner-parallelism", 0)))
        return env

    def run(self) -> None:
        targets = self.prepare()
        print("\n".join(self.summary(targets)), flush=True)
        self.build().execute(self.source.name)

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
