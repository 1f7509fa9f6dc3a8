"""``partial-update`` (Java's ``PartialUpdateMergeFunction`` without sequence groups).

Each field takes the last non-null value; the result's sequence number is the last record's; its
kind is +I, or -D when the last record is a -D (with ``partial-update.remove-record-on-delete``)
or when the key saw no +I/+U. Retractions raise unless ``ignore-delete`` or
``partial-update.remove-record-on-delete``; with the latter a -D *replaces the row by the -D's
own values* (Java's ``initRow``: later records overlay their non-null fields on the -D's values,
they do not start from an empty row), a -U is ignored except that, as the first record of a
merge, it seeds the row with its values (Java's ``notNullColumnFilled`` path). The result is -D
when no +I/+U follows the last -D (Java looks at +I/+U anywhere in the merge, so a -U right after
a -D would turn the deleted row into +I, but only within one merge).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from paimon_py.exceptions import InvalidDataError, OptionError, UnsupportedFeatureError
from paimon_py.io.key_value import VALUE_KIND
from paimon_py.mergetree.merge_function.aggregators import check_aggregate_name
from paimon_py.mergetree.merge_function.base import MergeFunction, RowState
from paimon_py.mergetree.merge_function.groups import (DELETE, INSERT, UPDATE_BEFORE, Groups, assemble,
                                                       take_rows, valid_mask)
from paimon_py.schema.table_schema import TableSchema

_DELETE_MESSAGE = (
    "By default, Partial update can not accept delete records, you can choose one of the "
    "following solutions:\n"
    "1. Configure 'ignore-delete' to ignore delete records.\n"
    "2. Configure 'partial-update.remove-record-on-delete' to remove the whole row when "
    "receiving delete records.\n"
    "3. Configure 'sequence-group's to retract partial columns (not supported by paimon_py yet).")


class PartialUpdateMergeFunction(MergeFunction):
    """Last non-null value per field."""

    engine = "partial-update"

    def __init__(self, schema: TableSchema):
        super().__init__(schema)
        opts = self.core_options.options
        for key in opts:
            if key.startswith("fields.") and key.endswith(".sequence-group"):
                raise UnsupportedFeatureError(
                    f"Option '{key}' (partial-update sequence groups) is not supported by "
                    f"paimon_py yet; remove it.")
        if "partial-update.remove-record-on-sequence-group" in opts:
            raise UnsupportedFeatureError(
                "Option 'partial-update.remove-record-on-sequence-group' needs sequence groups, "
                "which paimon_py does not support yet; remove it.")
        self.remove_on_delete = self.core_options.partial_update_remove_record_on_delete
        if self.remove_on_delete and self.ignore_delete:
            raise OptionError("ignore-delete and partial-update.remove-record-on-delete have "
                              "conflicting behavior so should not be enabled at the same time.")
        primary_keys = set(schema.primary_keys)
        for name in schema.field_names:
            if name in primary_keys:
                continue
            function = self.core_options.field_aggregate_function(name)
            if function is None:
                function = self.core_options.default_aggregate_function
            if function is not None:
                check_aggregate_name(function.strip(), name)
                if function.strip() != "last_non_null_value":
                    raise OptionError(
                        f"Must use sequence group for aggregation functions but not found for "
                        f"field {name}: partial-update without 'fields.<f>.sequence-group' only "
                        f"allows 'last_non_null_value' (option 'fields.{name}.aggregate-function' "
                        f"or 'fields.default-aggregate-function').")
        self.not_null = [f.name for f in schema.fields if not f.type.nullable]

    def _merge(self, table: pa.Table, groups: Groups) -> pa.Table:
        if groups.count == table.num_rows:
            return table
        state = RowState(table, groups, self.remove_on_delete)
        multi_rows = groups.per_row(state.multi)
        if not self.remove_on_delete and (state.retract & multi_rows).any():
            raise InvalidDataError(_DELETE_MESSAGE)
        for name in self.not_null:
            if table.column(name).null_count:
                raise InvalidDataError(f"Field {name} can not be null (it is NOT NULL in the schema).")
        # Rows whose non-null fields overlay the row: inserts, the reset -D, and a leading -U
        # (Java initialises the row from the first record even when it is a retraction).
        contributes = state.seg(state.insert | state.reset
                                | (groups.starts & (state.kinds == UPDATE_BEFORE))) | ~multi_rows
        replaced = {}
        for name in self.schema.field_names:
            column = table.column(name)
            if column.null_count == 0 and self.remove_on_delete is False:
                continue                       # every row contributes: the last row's value
            rows = groups.last_where(contributes & valid_mask(column))
            replaced[name] = take_rows(column, rows, rows < 0)
        # Java: DELETE when the last record is a -D or no +I/+U was seen in the whole merge. A -U
        # right after a -D would then turn the deleted row into +I in one merge but not when the
        # -D was merged earlier; we count only +I/+U after the last -D (associative, and equal
        # to Java whenever no -U directly follows a -D).
        last_kinds = state.kinds[groups.last]
        saw_insert = groups.any(state.seg(state.insert))
        kinds = np.where(~saw_insert, DELETE, INSERT).astype(np.int8)
        replaced[VALUE_KIND] = pa.array(np.where(state.multi, kinds, last_kinds).astype(np.int8))
        return assemble(table, groups.last, replaced)
