"""``add_paimon_sink``: the design card's topology after a source's reader::

    reader -> parser --main--> key_by(table, partition, bucket) -> [bridge] -> writers --+
                     |                                  ^                                 +--> key_by -> [bridge]
                     |   side output: dynamic-bucket    |                                 |   -> committer and
                     +-- batches -> key_by(table, assigner) -> bucket assigners           |      schema evolution (p=1)
                     |   (with one writer subtask, no assigners: the writer assigns)      |
                     |                                                                    |
                     +--side output: schema events----------------------------------------+
                     |
                     +--side output: snapshot splits -> key_by(split reader) -> split readers -> parser
                        (p = scan.snapshot.parallelism; joins the parser's main and dynamic-bucket outputs)

on a stream of envelopes (``operators/runtime/bridge.py``'s ENVELOPE_TYPE): change batches (kind
``D``, payload a ``ChangeBatch``), schema events (kind ``S``, a ``SchemaEvent``) and source
positions (kind ``P``), which travel the data path (so they stay behind every change before them)
and are forwarded by a writer to the committer. Writers and the parser wait, bounded, for the
table or columns a batch needs (``operators/sink/schema_wait.py``).
"""

from __future__ import annotations

from pyflink.common.typeinfo import Types

from operators.runtime.bridge import (DATA_BUNDLE, ENVELOPE_TYPE, KEYED_ENVELOPE_TYPE, READER_BUNDLE, SIGNAL_BUNDLE,
                                      SPLIT_BUNDLE, key_in_java, process_with_signals, set_python_bundle)
from operators.runtime.failures import FailurePlan
from operators.sink.sink_functions import (DYNAMIC_BUCKETS, SCHEMA_CHANGES, SNAPSHOT_SPLITS, BucketAssigner,
                                           ChangeCommitter, ChangeParser, ChangeWriter)


def add_paimon_sink(changes, catalog_options: dict[str, str], commit_user: str, writer_parallelism: int = 1,
                    failures: FailurePlan | None = None, ignore_incompatible: bool = False,
                    assigner_parallelism: int | None = None, split_reader=None, split_parallelism: int = 1) -> None:
    """``catalog_options``: the warehouse and its FileIO options (``operators/cdc/catalog.py``), for every
    operator. ``commit_user``: use a new one for every job submission (``new_commit_user``); a restored
    job keeps the one in its state. ``assigner_parallelism``: of the dynamic bucket assigners
    (default: the writers'), as Paimon's ``dynamic-bucket.assigner-parallelism``. ``split_reader``: the
    snapshot split readers' function (``operators/runtime/split_reader.py``) with ``split_parallelism``
    subtasks, when the source reads its snapshot in parallel."""
    assigner_parallelism = assigner_parallelism or writer_parallelism
    # Parallelism 1 like the reader before it: a rebalance here would reorder a key's changes.
    # The parser and the writers emit Row(key, envelope) themselves and are keyed in Java: a
    # Python key_by map after the parser could not chain to it (a side output forbids it) and
    # would run in a Python worker of its own, as would any Python operator on the side output.
    parsed = changes.process(ChangeParser(catalog_options, assigner_parallelism), output_type=KEYED_ENVELOPE_TYPE) \
        .name("change parser").set_parallelism(1)
    set_python_bundle(parsed, READER_BUNDLE)  # chained to the reader, whose limits it shares
    parsers = [parsed]
    if split_reader is not None:
        splits = key_in_java(parsed._j_data_stream.getSideOutput(SNAPSHOT_SPLITS.get_java_output_tag())) \
            .process(split_reader, output_type=ENVELOPE_TYPE).name("snapshot split reader") \
            .set_parallelism(split_parallelism)
        set_python_bundle(splits, SPLIT_BUNDLE)
        split_rows = splits.process(ChangeParser(catalog_options, assigner_parallelism),
                                    output_type=KEYED_ENVELOPE_TYPE) \
            .name("split change parser").set_parallelism(split_parallelism)
        set_python_bundle(split_rows, SPLIT_BUNDLE)  # chained to the split reader
        parsers.append(split_rows)
    to_assign = [p._j_data_stream.getSideOutput(DYNAMIC_BUCKETS.get_java_output_tag()) for p in parsers]
    if writer_parallelism == 1:
        # The one writer subtask sees every row: it assigns buckets itself, and a dynamic-bucket
        # table's rows cross between Python and Java once instead of twice.
        writer_input, writer = key_in_java(*parsers, *to_assign), \
            ChangeWriter(catalog_options, failures, assigner_channels=assigner_parallelism)
    else:
        assigned = key_in_java(*to_assign).process(BucketAssigner(catalog_options, assigner_parallelism),
                                                  output_type=KEYED_ENVELOPE_TYPE) \
            .name("dynamic bucket assigner").set_parallelism(assigner_parallelism)
        set_python_bundle(assigned, DATA_BUNDLE)
        writer_input, writer = key_in_java(*parsers, assigned), ChangeWriter(catalog_options, failures)
    committables = process_with_signals(
        writer_input, writer, output_type=KEYED_ENVELOPE_TYPE,
        name="paimon writer", parallelism=writer_parallelism, bundle=DATA_BUNDLE)
    schema_changes = parsed._j_data_stream.getSideOutput(SCHEMA_CHANGES.get_java_output_tag())
    process_with_signals(
        key_in_java(committables, schema_changes),
        ChangeCommitter(catalog_options, commit_user, failures, ignore_incompatible), output_type=Types.STRING(),
        name="paimon committer and schema evolution", parallelism=1, bundle=SIGNAL_BUNDLE)


def new_commit_user(prefix: str) -> str:
    """``<prefix>-<random>``: Paimon's committers likewise take a fresh user per new job."""
    import uuid
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
