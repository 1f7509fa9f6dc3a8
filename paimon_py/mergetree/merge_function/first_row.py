"""``first-row`` (Java's ``FirstRowMergeFunction``): the first record; a -U/-D in a key with
several records raises unless ``ignore-delete``. ``sequence.field`` is refused (``SchemaValidation``)."""

from __future__ import annotations

import pyarrow as pa

from paimon_py.exceptions import InvalidDataError, OptionError
from paimon_py.mergetree.merge_function.base import MergeFunction
from paimon_py.mergetree.merge_function.groups import DELETE, UPDATE_BEFORE, Groups, value_kinds
from paimon_py.schema.table_schema import TableSchema

_DELETE_MESSAGE = (
    "By default, First row merge engine can not accept DELETE/UPDATE_BEFORE records.\n"
    "You can config 'ignore-delete' to ignore the DELETE/UPDATE_BEFORE records.")


class FirstRowMergeFunction(MergeFunction):
    """The earliest record wins; retractions are refused."""

    engine = "first-row"

    def __init__(self, schema: TableSchema):
        super().__init__(schema)
        if self.core_options.sequence_field:
            raise OptionError("Do not support use sequence field on FIRST_ROW merge engine: remove "
                              "option 'sequence.field' or use another 'merge-engine'.")

    def _merge(self, table: pa.Table, groups: Groups) -> pa.Table:
        if groups.count == table.num_rows:
            return table
        if not self.ignore_delete:
            kinds = value_kinds(table)
            retract = (kinds == UPDATE_BEFORE) | (kinds == DELETE)
            if (retract & groups.per_row(groups.size >= 2)).any():
                raise InvalidDataError(_DELETE_MESSAGE)
        return table.filter(pa.array(groups.starts))
