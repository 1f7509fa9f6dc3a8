"""``aggregation`` (Java's ``AggregateMergeFunction``): one aggregate function per field.

Per field ``fields.<f>.aggregate-function``, else ``fields.default-aggregate-function``, else
``last_non_null_value``; primary-key fields take the last record's value (``primary-key``) and
``sequence.field`` fields use ``last_value`` (the functions: ``aggregators.py``). With
``aggregation.remove-record-on-delete`` a -D replaces the row by the -D's own values (later
records aggregate onto them, as in Java) and the result is a -D when the last record is a -D.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paimon_py.exceptions import InvalidDataError, OptionError, UnsupportedFeatureError
from paimon_py.io.key_value import VALUE_KIND
from paimon_py.mergetree.merge_function.aggregators import (AGGREGATORS, Aggregation, FieldSpec,
                                                            check_aggregate_name, check_aggregate_type)
from paimon_py.mergetree.merge_function.base import MergeFunction, RowState
from paimon_py.mergetree.merge_function.groups import DELETE, INSERT, Groups, assemble, take_rows
from paimon_py.schema.table_schema import TableSchema


class AggregateMergeFunction(MergeFunction):
    """One ``FieldAggregator`` per field."""

    engine = "aggregation"

    def __init__(self, schema: TableSchema):
        super().__init__(schema)
        options = self.core_options
        self.remove_on_delete = options.aggregation_remove_record_on_delete
        sequence_fields = options.sequence_field
        primary_keys = set(schema.primary_keys)
        default = options.default_aggregate_function
        self.specs: list[FieldSpec] = []
        for f in schema.fields:
            name = f.name
            explicit = options.field_aggregate_function(name)
            if name in sequence_fields:
                if explicit is not None:
                    raise OptionError(f"Should not define aggregation on sequence field: '{name}' "
                                      f"(remove option 'fields.{name}.aggregate-function').")
                function = "last_value"           # AggregateMergeFunction.getAggFuncName
            elif name in primary_keys:
                function = "primary-key"
            else:
                function = (explicit if explicit is not None else default) or "last_non_null_value"
                function = function.strip()
                check_aggregate_name(function, name)
                if function == "first_not_null_value":          # legacy factory name
                    function = "first_non_null_value"
            ignore_retract = options.field_ignore_retract(name)
            if ignore_retract and self.remove_on_delete:
                raise OptionError(f"aggregation.remove-record-on-delete and fields.{name}."
                                  f"ignore-retract have conflicting behavior so should not be "
                                  f"enabled at the same time.")
            if function == "listagg" and options.field_distinct(name):
                raise UnsupportedFeatureError(f"Option 'fields.{name}.distinct'=true for listagg is "
                                              f"not supported by paimon_py yet; remove it.")
            spec = FieldSpec(name, function, f.type, ignore_retract, options.field_list_agg_delimiter(name))
            check_aggregate_type(spec)
            self.specs.append(spec)

    def _merge(self, table: pa.Table, groups: Groups) -> pa.Table:
        if groups.count == table.num_rows:
            return table
        state = RowState(table, groups, self.remove_on_delete)
        multi_rows = groups.per_row(state.multi)
        retracting_rows = state.retract & multi_rows
        any_retraction = bool(retracting_rows.any())
        if any_retraction:
            for spec in self.specs:
                if not AGGREGATORS[spec.function].retractable and not spec.ignore_retract:
                    raise InvalidDataError(
                        f"Aggregate function '{spec.function}' does not support retraction "
                        f"(field '{spec.name}' received a -U/-D record), If you allow this "
                        f"function to ignore retraction messages, you can configure "
                        f"'fields.{spec.name}.ignore-retract'='true'.")
        agg = Aggregation(table, groups, state)
        replaced = {}
        for spec in self.specs:
            column = table.column(spec.name)
            aggregator = AGGREGATORS[spec.function]
            retracts = any_retraction and aggregator.retractable and not spec.ignore_retract
            replaced[spec.name] = aggregator.compute(agg, spec, column, retracts)
        results = agg.run_group_by()
        for name, finish in agg.finishers.items():
            replaced[name] = finish(results)
        single = pa.array(~state.multi)
        base = groups.last
        for spec in self.specs:                 # a lone record is passed through unchanged
            if not state.multi.all():
                merged = replaced[spec.name].cast(table.schema.field(spec.name).type)
                replaced[spec.name] = pc.if_else(single, take_rows(table.column(spec.name), base),
                                                 merged)
        last_kinds = state.kinds[base]
        kinds = np.where(self.remove_on_delete & (last_kinds == DELETE), DELETE, INSERT)
        replaced[VALUE_KIND] = pa.array(np.where(state.multi, kinds, last_kinds).astype(np.int8))
        return assemble(table, base, replaced)
