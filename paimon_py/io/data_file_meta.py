"""``DataFileMeta``: what a manifest records about one data or changelog file (format §4.3)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace

from paimon_py.stats.simple_stats import EMPTY_ROW, EMPTY_STATS, SimpleStats, stats_avro_schema

FILE_SOURCE_APPEND = 0
FILE_SOURCE_COMPACT = 1

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


@dataclass(frozen=True)
class DataFileMeta:
    file_name: str
    file_size: int
    row_count: int
    min_key: bytes = EMPTY_ROW
    max_key: bytes = EMPTY_ROW
    key_stats: SimpleStats = EMPTY_STATS
    value_stats: SimpleStats = EMPTY_STATS
    min_sequence_number: int = 0
    max_sequence_number: int = 0
    schema_id: int = 0
    level: int = 0
    extra_files: tuple[str, ...] = ()
    creation_time_millis: int | None = None
    delete_row_count: int | None = 0
    embedded_index: bytes | None = None
    file_source: int | None = FILE_SOURCE_APPEND
    value_stats_cols: tuple[str, ...] | None = None
    external_path: str | None = None
    first_row_id: int | None = None
    write_cols: tuple[str, ...] | None = None
    write_cols_sequences: tuple[int, ...] | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def upgrade(self, level: int) -> "DataFileMeta":
        return replace(self, level=level)

    def has_deletes(self) -> bool:
        """Whether the file may hold -U/-D rows (null means unknown, treated as 0 by Paimon)."""
        return bool(self.delete_row_count)

    def to_avro(self) -> dict:
        return {
            "_FILE_NAME": self.file_name, "_FILE_SIZE": self.file_size,
            "_ROW_COUNT": self.row_count, "_MIN_KEY": self.min_key, "_MAX_KEY": self.max_key,
            "_KEY_STATS": self.key_stats.to_avro(), "_VALUE_STATS": self.value_stats.to_avro(),
            "_MIN_SEQUENCE_NUMBER": self.min_sequence_number,
            "_MAX_SEQUENCE_NUMBER": self.max_sequence_number,
            "_SCHEMA_ID": self.schema_id, "_LEVEL": self.level,
            "_EXTRA_FILES": list(self.extra_files),
            "_CREATION_TIME": self.creation_time_millis,
            "_DELETE_ROW_COUNT": self.delete_row_count,
            "_EMBEDDED_FILE_INDEX": self.embedded_index, "_FILE_SOURCE": self.file_source,
            "_VALUE_STATS_COLS": _list_or_none(self.value_stats_cols),
            "_EXTERNAL_PATH": self.external_path, "_FIRST_ROW_ID": self.first_row_id,
            "_WRITE_COLS": _list_or_none(self.write_cols),
            "_WRITE_COLS_SEQUENCES": _list_or_none(self.write_cols_sequences),
        }

    @staticmethod
    def from_avro(r: dict) -> "DataFileMeta":
        creation = r.get("_CREATION_TIME")
        if isinstance(creation, datetime.datetime):
            if creation.tzinfo is None:
                creation = creation.replace(tzinfo=datetime.timezone.utc)
            creation = (creation - _EPOCH) // datetime.timedelta(milliseconds=1)
        return DataFileMeta(
            file_name=r["_FILE_NAME"], file_size=r["_FILE_SIZE"], row_count=r["_ROW_COUNT"],
            min_key=r["_MIN_KEY"], max_key=r["_MAX_KEY"],
            key_stats=SimpleStats.from_avro(r["_KEY_STATS"]),
            value_stats=SimpleStats.from_avro(r["_VALUE_STATS"]),
            min_sequence_number=r["_MIN_SEQUENCE_NUMBER"],
            max_sequence_number=r["_MAX_SEQUENCE_NUMBER"],
            schema_id=r["_SCHEMA_ID"], level=r["_LEVEL"],
            extra_files=tuple(r.get("_EXTRA_FILES") or ()), creation_time_millis=creation,
            delete_row_count=r.get("_DELETE_ROW_COUNT"),
            embedded_index=r.get("_EMBEDDED_FILE_INDEX"), file_source=r.get("_FILE_SOURCE"),
            value_stats_cols=_tuple_or_none(r.get("_VALUE_STATS_COLS")),
            external_path=r.get("_EXTERNAL_PATH"), first_row_id=r.get("_FIRST_ROW_ID"),
            write_cols=_tuple_or_none(r.get("_WRITE_COLS")),
            write_cols_sequences=_tuple_or_none(r.get("_WRITE_COLS_SEQUENCES")),
        )


def _list_or_none(values):
    return None if values is None else list(values)


def _tuple_or_none(values):
    return None if values is None else tuple(values)


def _nullable(avro_type) -> list:
    return ["null", avro_type]


DATA_FILE_META_AVRO_SCHEMA = {
    "type": "record", "name": "record__FILE", "fields": [
        {"name": "_FILE_NAME", "type": "string"},
        {"name": "_FILE_SIZE", "type": "long"},
        {"name": "_ROW_COUNT", "type": "long"},
        {"name": "_MIN_KEY", "type": "bytes"},
        {"name": "_MAX_KEY", "type": "bytes"},
        {"name": "_KEY_STATS", "type": stats_avro_schema("record__KEY_STATS")},
        {"name": "_VALUE_STATS", "type": stats_avro_schema("record__VALUE_STATS")},
        {"name": "_MIN_SEQUENCE_NUMBER", "type": "long"},
        {"name": "_MAX_SEQUENCE_NUMBER", "type": "long"},
        {"name": "_SCHEMA_ID", "type": "long"},
        {"name": "_LEVEL", "type": "int"},
        {"name": "_EXTRA_FILES", "type": {"type": "array", "items": "string"}},
        {"name": "_CREATION_TIME", "default": None,
         "type": _nullable({"type": "long", "logicalType": "timestamp-millis"})},
        {"name": "_DELETE_ROW_COUNT", "type": _nullable("long"), "default": None},
        {"name": "_EMBEDDED_FILE_INDEX", "type": _nullable("bytes"), "default": None},
        {"name": "_FILE_SOURCE", "type": _nullable("int"), "default": None},
        {"name": "_VALUE_STATS_COLS", "default": None,
         "type": _nullable({"type": "array", "items": "string"})},
        {"name": "_EXTERNAL_PATH", "type": _nullable("string"), "default": None},
        {"name": "_FIRST_ROW_ID", "type": _nullable("long"), "default": None},
        {"name": "_WRITE_COLS", "default": None,
         "type": _nullable({"type": "array", "items": "string"})},
        {"name": "_WRITE_COLS_SEQUENCES", "default": None,
         "type": _nullable({"type": "array", "items": "long"})},
    ]}
