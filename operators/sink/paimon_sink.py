"""``add_paimon_sink``: the design card's topology after a source's reader::

    reader -> parser --main--> key_by(table, partition, bucket) -> [bridge] -> writers
                     |                                  -> key_by -> [bridge] -> committer (p=1)
                     +--side output: schema events--> schema evolution (p=1)

on a stream of envelopes (``operators/runtime/bridge.py``'s ENVELOPE_TYPE): change batches (kind
``D``, payload a ``ChangeBatch``), schema events (kind ``S``, a ``SchemaEvent``) and source
positions (kind ``P``), which travel the data path (so they stay behind every change before them)
and are forwarded by a writer to the committer. Writers and the parser wait, bounded, for the
table or columns a batch needs (``operators/sink/schema_wait.py``).
"""

from __future__ import annotations

from pyflink.common.typeinfo import Types

from operators.runtime.bridge import ENVELOPE_TYPE, KEY, process_with_signals
from operators.runtime.failures import FailurePlan
from operators.sink.sink_functions import SCHEMA_CHANGES, ChangeCommitter, ChangeParser, ChangeWriter, SchemaEvolution


def add_paimon_sink(changes, catalog_options: dict[str, str], commit_user: str, writer_parallelism: int = 1,
                    failures: FailurePlan | None = None, ignore_incompatible: bool = False) -> None:
    """``catalog_options``: the warehouse and its FileIO options (``operators/cdc/catalog.py``), for every
    operator. ``commit_user``: use a new one for every job submission (``new_commit_user``); a restored
    job keeps the one in its state."""
    # Parallelism 1 like the reader before it: a rebalance here would reorder a key's changes.
    parsed = changes.process(ChangeParser(catalog_options), output_type=ENVELOPE_TYPE) \
        .name("change parser").set_parallelism(1)
    parsed.get_side_output(SCHEMA_CHANGES) \
        .process(SchemaEvolution(catalog_options, ignore_incompatible, failures), output_type=Types.STRING()) \
        .name("schema evolution").set_parallelism(1)
    keyed = parsed.key_by(lambda e: e[KEY], key_type=Types.STRING())
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
