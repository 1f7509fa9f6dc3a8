"""``add_paimon_sink``: the design card's topology after a source's reader::

    reader -> parser --main--> key_by(table, partition, bucket) -> [bridge] -> writers --+
                     |                                                                    +--> key_by -> [bridge]
                     +--side output: schema events----------------------------------------+   -> committer and
                                                                                                 schema evolution (p=1)

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
from operators.sink.sink_functions import SCHEMA_CHANGES, ChangeCommitter, ChangeParser, ChangeWriter


def add_paimon_sink(changes, catalog_options: dict[str, str], commit_user: str, writer_parallelism: int = 1,
                    failures: FailurePlan | None = None, ignore_incompatible: bool = False) -> None:
    """``catalog_options``: the warehouse and its FileIO options (``operators/cdc/catalog.py``), for every
    operator. ``commit_user``: use a new one for every job submission (``new_commit_user``); a restored
    job keeps the one in its state."""
    # Parallelism 1 like the reader before it: a rebalance here would reorder a key's changes.
    parsed = changes.process(ChangeParser(catalog_options), output_type=ENVELOPE_TYPE) \
        .name("change parser").set_parallelism(1)
    keyed = parsed.key_by(lambda e: e[KEY], key_type=Types.STRING())
    committables = process_with_signals(
        keyed, ChangeWriter(catalog_options, failures), output_type=ENVELOPE_TYPE, name="paimon writer",
        parallelism=writer_parallelism)
    process_with_signals(
        committer_input(committables, parsed), ChangeCommitter(catalog_options, commit_user, failures, ignore_incompatible),
        output_type=Types.STRING(), name="paimon committer and schema evolution", parallelism=1, bundle_size=1)


def committer_input(committables, parsed):
    """The writers' committables keyed for the committer, joined in Java by the parser's side
    output (schema events already shaped ``Row(key, envelope)``): PyFlink runs every Python
    operator on a side output in a worker of its own (it never chains them), which cost ~1.7 s of
    start-up and ~400 MiB; joined here, schema evolution runs in the committer's worker."""
    from pyflink.datastream.data_stream import KeyedStream
    from pyflink.java_gateway import get_gateway

    jvm = get_gateway().jvm
    keyed = committables.key_by(lambda e: e[KEY], key_type=Types.STRING())
    j_keyed = keyed._j_data_stream
    with_keys = jvm.org.apache.flink.streaming.api.datastream.DataStream(
        j_keyed.getExecutionEnvironment(), j_keyed.getTransformation().getInputs().get(0))
    schema_changes = parsed._j_data_stream.getSideOutput(SCHEMA_CHANGES.get_java_output_tag())
    streams = get_gateway().new_array(jvm.org.apache.flink.streaming.api.datastream.DataStream, 1)
    streams[0] = schema_changes
    joined = with_keys.union(streams).keyBy(jvm.KeyByKeySelector(), j_keyed.getKeyType())
    return KeyedStream(joined, keyed._original_data_type_info, keyed._origin_stream)


def new_commit_user(prefix: str) -> str:
    """``<prefix>-<random>``: Paimon's committers likewise take a fresh user per new job."""
    import uuid
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
