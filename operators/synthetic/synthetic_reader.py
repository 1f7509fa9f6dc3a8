"""``SyntheticReader``: a keyed PyFlink function that replays ``SyntheticChangeStream`` with its
position in keyed state, one position per tick, like a CDC reader keeps its source offset.

Change batches and schema events go out in stream order as envelopes (kinds ``D`` and ``S``).
"""

from __future__ import annotations

import pickle

from pyflink.common.typeinfo import Types
from pyflink.datastream import KeyedProcessFunction
from pyflink.datastream.state import ValueStateDescriptor

from operators.cdc import batch_handover
from operators.cdc.change_batch import ChangeBatch
from operators.cdc.schema_event import SchemaEvent
from operators.runtime.bridge import SCHEMA, data_envelope, signal_envelope
from operators.runtime.failures import FailurePlan
from operators.synthetic.synthetic_source import SourceSchema, SyntheticChangeStream

class SyntheticReader(KeyedProcessFunction):
    def __init__(self, stream: SyntheticChangeStream, failures: FailurePlan | None = None):
        self.stream = stream
        self.failures = failures or FailurePlan()

    def open(self, runtime_context):
        batch_handover.opened(runtime_context.get_attempt_number())
        self.position = runtime_context.get_state(ValueStateDescriptor("position", Types.LONG()))

    def process_element(self, tick, ctx):
        position = self.position.value() or 0
        for event in self.stream.events(position):
            if isinstance(event, SourceSchema):
                yield signal_envelope(SCHEMA, 0, event.table, pickle.dumps(SchemaEvent(event.table, event.schema)))
            elif isinstance(event, ChangeBatch):
                yield data_envelope(event.table, event)
        self.position.update(position + 1)
        self.failures.check("reader", "after-emit", position)
