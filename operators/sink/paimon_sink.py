"""``add_paimon_sink``: schema evolution -> bucket router -> writer -> committer, on a stream of
envelopes (``operators/bridge.py``'s ENVELOPE_TYPE): change batches (kind ``D``, payload a
``ChangeBatch``) and schema events (kind ``S``, see ``sink_functions.SCHEMA``) in stream order,
and source positions (kind ``P``, see ``source_position.py``), which travel the same path (so they
stay behind every change before them) and are forwarded by a writer to the committer.
"""

from __future__ import annotations

from pyflink.common.typeinfo import Types

from operators.runtime.bridge import ENVELOPE_TYPE, KEY, process_with_signals
from operators.runtime.failures import FailurePlan
from operators.sink.sink_functions import ChangeCommitter, ChangeWriter, RouteByBucket, SchemaEvolution


def add_paimon_sink(changes, catalog_options: dict[str, str], commit_user: str, writer_parallelism: int = 1,
                    failures: FailurePlan | None = None, ignore_incompatible: bool = False) -> None:
    """``catalog_options``: the warehouse and its FileIO options (``operators/catalog.py``), for every
    operator. ``commit_user``: use a new one for every job submission (``new_commit_user``); a restored
    job keeps the one in its state."""
    evolved = changes.process(SchemaEvolution(catalog_options, ignore_incompatible), output_type=ENVELOPE_TYPE) \
        .name("schema evolution").set_parallelism(1)
    # Parallelism 1 like the evolution before it: a rebalance here would reorder a key's changes.
    routed = evolved.flat_map(RouteByBucket(catalog_options), output_type=ENVELOPE_TYPE) \
        .name("bucket router").set_parallelism(1)
    keyed = routed.key_by(lambda e: e[KEY], key_type=Types.STRING())
    committables = process_with_signals(
        keyed, ChangeWriter(catalog_options, failures), output_type=ENVELOPE_TYPE, name="paimon writer",
        parallelism=writer_parallelism)
    process_with_signals(
        committables.key_by(lambda e: e[KEY], key_type=Types.STRING()),
        ChangeCommitter(catalog_options, commit_user, failures), output_type=Types.STRING(),
        name="paimon committer", parallelism=1, bundle_size=1)


def new_commit_user(prefix: str) -> str:
    """``<prefix>-<random>``: Paimon's committers likewise take a fresh user per new job."""
    import uuid
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
