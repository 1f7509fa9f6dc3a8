from paimon_py.schema.schema import Schema
from paimon_py.schema.schema_change import SchemaChange
from paimon_py.schema.schema_manager import SchemaManager
from paimon_py.schema.table_schema import TableSchema

__all__ = ["Schema", "SchemaChange", "SchemaManager", "TableSchema"]
