"""Table options (Paimon's ``CoreOptions``): typed access, Paimon's defaults, validation.

Options are stored in schema files as a string-to-string map. Every option this library
interprets is declared once in ``_OPTIONS`` with its default and a parser; a value that does not
parse fails with a message naming the option and its legal values. Keys we do not interpret are
kept as they are (other engines may use them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from paimon_py.exceptions import OptionError

MEMORY_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
                "g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40}
DURATION_UNITS_MS = {"": 1, "ms": 1, "s": 1000, "sec": 1000, "min": 60_000, "m": 60_000,
                     "h": 3_600_000, "d": 86_400_000}


def parse_int(text: str) -> int:
    return int(text.strip())


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false"):
        raise ValueError("expected true or false")
    return value == "true"


def parse_memory(text: str) -> int:
    """``"128 mb"`` -> bytes (Paimon's MemorySize syntax)."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in MEMORY_UNITS:
        raise ValueError("expected a size such as '128 mb' or '1 gb'")
    return int(match.group(1)) * MEMORY_UNITS[match.group(2).lower()]


def parse_duration_ms(text: str) -> int:
    """``"1 h"`` -> milliseconds (Paimon's Duration syntax)."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in DURATION_UNITS_MS:
        raise ValueError("expected a duration such as '1 h', '30 min' or '10 s'")
    return int(match.group(1)) * DURATION_UNITS_MS[match.group(2).lower()]


def one_of(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return value
    return parse


def parse_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


@dataclass(frozen=True)
class ConfigOption:
    key: str
    default: str | None
    parse: Callable[[str], Any]
    fallback_keys: tuple[str, ...] = ()
    """Older keys read when ``key`` is not set, in order."""


_OPTIONS = {o.key: o for o in [
    ConfigOption("bucket", "-1", parse_int),
    ConfigOption("bucket-key", None, parse_list),
    ConfigOption("file.format", "parquet", one_of("parquet", "orc")),
    ConfigOption("file.compression", "zstd", one_of("zstd", "snappy", "gzip", "lz4", "none", "uncompressed")),
    ConfigOption("file.compression.zstd-level", "1", parse_int),
    ConfigOption("manifest.compression", "zstd", one_of("zstd", "null", "deflate", "snappy", "bzip2", "xz", "none")),
    ConfigOption("manifest.target-file-size", "8 mb", parse_memory),
    ConfigOption("manifest.merge-min-count", "30", parse_int),
    ConfigOption("target-file-size", None, parse_memory),
    ConfigOption("write-buffer-size", "256 mb", parse_memory),
    ConfigOption("write-buffer-spillable", "true", parse_bool),
    ConfigOption("merge-engine", "deduplicate", one_of("deduplicate", "partial-update", "aggregation", "first-row")),
    ConfigOption("changelog-producer", "none", one_of("none", "input", "lookup", "full-compaction")),
    ConfigOption("sequence.field", None, parse_list),
    ConfigOption("ignore-delete", "false", parse_bool, ("first-row.ignore-delete", "deduplicate.ignore-delete",
                                                        "partial-update.ignore-delete")),
    ConfigOption("partial-update.remove-record-on-delete", "false", parse_bool),
    ConfigOption("aggregation.remove-record-on-delete", "false", parse_bool),
    ConfigOption("fields.default-aggregate-function", None, str),
    ConfigOption("ignore-update-before", "false", parse_bool),
    ConfigOption("rowkind.field", None, str),
    ConfigOption("partition.default-name", "__DEFAULT_PARTITION__", str),
    ConfigOption("partition.legacy-name", "true", parse_bool),
    ConfigOption("data-file.prefix", "data-", str),
    ConfigOption("changelog-file.prefix", "changelog-", str),
    ConfigOption("commit.max-retries", "10", parse_int),
    ConfigOption("num-levels", None, parse_int),
    ConfigOption("num-sorted-run.compaction-trigger", "5", parse_int),
    ConfigOption("num-sorted-run.stop-trigger", None, parse_int),
    ConfigOption("compaction.max-size-amplification-percent", "200", parse_int),
    ConfigOption("compaction.size-ratio", "1", parse_int),
    ConfigOption("full-compaction.delta-commits", None, parse_int),
    ConfigOption("write-only", "false", parse_bool),
    ConfigOption("compaction.min.file-num", "5", parse_int),
    ConfigOption("compaction.max.file-num", "50", parse_int),
    ConfigOption("snapshot.num-retained.min", "10", parse_int),
    ConfigOption("snapshot.num-retained.max", str(2**31 - 1), parse_int),
    ConfigOption("snapshot.time-retained", "1 h", parse_duration_ms),
    ConfigOption("snapshot.expire.limit", "50", parse_int),
    ConfigOption("changelog.num-retained.min", None, parse_int),
    ConfigOption("changelog.num-retained.max", None, parse_int),
    ConfigOption("changelog.time-retained", None, parse_duration_ms),
    ConfigOption("snapshot.clean-empty-directories", "false", parse_bool),
    ConfigOption("metadata.stats-mode", "truncate(16)", str),
    ConfigOption("deletion-vectors.enabled", "false", parse_bool),
    ConfigOption("row-tracking.enabled", "false", parse_bool),
    ConfigOption("data-file.thin-mode", "false", parse_bool),
    ConfigOption("bucket-function.type", "default", one_of("default")),
]}

UNSUPPORTED_TRUE = ("deletion-vectors.enabled", "row-tracking.enabled", "data-evolution.enabled")


class CoreOptions:
    """Typed view over a table's options map with Paimon's defaults."""

    def __init__(self, options: Mapping[str, str]):
        self.options: dict[str, str] = {k: str(v) for k, v in options.items()}
        self._parsed: dict[str, Any] = {}
        for key in self.options:
            if key in _OPTIONS:
                self.get(key)
        for key in UNSUPPORTED_TRUE:
            if self.options.get(key, "false").lower() == "true":
                raise OptionError(f"Option '{key}'=true is not supported by paimon_py yet; "
                                  f"create the table without it.")

    def get(self, key: str) -> Any:
        if key not in self._parsed:
            option = _OPTIONS[key]
            found = next((k for k in (key, *option.fallback_keys) if k in self.options), None)
            text = option.default if found is None else self.options[found]
            self._parsed[key] = None if text is None else self._parse(found or key, text, option.parse)
        return self._parsed[key]

    @staticmethod
    def _parse(key: str, text: str, parse: Callable[[str], Any]) -> Any:
        try:
            return parse(text)
        except ValueError as error:
            raise OptionError(f"Invalid value {text!r} for table option '{key}': {error}.") from None

    def _field_option(self, field: str, suffix: str, default: str | None, parse: Callable[[str], Any]) -> Any:
        """``fields.<field>.<suffix>``, the per-field options of the merge engines."""
        key = f"fields.{field}.{suffix}"
        text = self.options.get(key, default)
        return None if text is None else self._parse(key, text, parse)

    @property
    def bucket(self) -> int:
        return self.get("bucket")

    @property
    def bucket_key(self) -> list[str] | None:
        return self.get("bucket-key")

    @property
    def file_format(self) -> str:
        return self.get("file.format")

    @property
    def file_compression(self) -> str:
        return self.get("file.compression")

    @property
    def zstd_level(self) -> int:
        return self.get("file.compression.zstd-level")

    @property
    def manifest_compression(self) -> str:
        return self.get("manifest.compression")

    @property
    def manifest_target_file_size(self) -> int:
        return self.get("manifest.target-file-size")

    @property
    def manifest_merge_min_count(self) -> int:
        return self.get("manifest.merge-min-count")

    def target_file_size(self, has_primary_key: bool) -> int:
        value = self.get("target-file-size")
        if value is None:
            return (128 if has_primary_key else 256) << 20
        return value

    @property
    def write_buffer_size(self) -> int:
        return self.get("write-buffer-size")

    @property
    def merge_engine(self) -> str:
        return self.get("merge-engine")

    @property
    def changelog_producer(self) -> str:
        return self.get("changelog-producer")

    @property
    def sequence_field(self) -> list[str]:
        return self.get("sequence.field") or []

    @property
    def ignore_delete(self) -> bool:
        return self.get("ignore-delete")

    @property
    def partial_update_remove_record_on_delete(self) -> bool:
        return self.get("partial-update.remove-record-on-delete")

    @property
    def aggregation_remove_record_on_delete(self) -> bool:
        return self.get("aggregation.remove-record-on-delete")

    @property
    def default_aggregate_function(self) -> str | None:
        return self.get("fields.default-aggregate-function")

    def field_aggregate_function(self, field: str) -> str | None:
        """``fields.<field>.aggregate-function`` as set (without the default function)."""
        return self._field_option(field, "aggregate-function", None, str)

    def field_ignore_retract(self, field: str) -> bool:
        return self._field_option(field, "ignore-retract", "false", parse_bool)

    def field_distinct(self, field: str) -> bool:
        return self._field_option(field, "distinct", "false", parse_bool)

    def field_list_agg_delimiter(self, field: str) -> str:
        return self._field_option(field, "list-agg-delimiter", ",", str)

    @property
    def ignore_update_before(self) -> bool:
        return self.get("ignore-update-before")

    @property
    def rowkind_field(self) -> str | None:
        return self.get("rowkind.field")

    @property
    def partition_default_name(self) -> str:
        return self.get("partition.default-name")

    @property
    def partition_legacy_name(self) -> bool:
        return self.get("partition.legacy-name")

    @property
    def data_file_prefix(self) -> str:
        return self.get("data-file.prefix")

    @property
    def changelog_file_prefix(self) -> str:
        return self.get("changelog-file.prefix")

    @property
    def commit_max_retries(self) -> int:
        return self.get("commit.max-retries")

    @property
    def num_sorted_runs_compaction_trigger(self) -> int:
        return self.get("num-sorted-run.compaction-trigger")

    @property
    def num_sorted_runs_stop_trigger(self) -> int:
        value = self.get("num-sorted-run.stop-trigger")
        return value if value is not None else self.num_sorted_runs_compaction_trigger + 3

    # ---- snapshot expiration (format §9) ----------------------------------------------------

    @property
    def snapshot_num_retained_min(self) -> int:
        return self.get("snapshot.num-retained.min")

    @property
    def snapshot_num_retained_max(self) -> int:
        return self.get("snapshot.num-retained.max")

    @property
    def snapshot_time_retained_ms(self) -> int:
        return self.get("snapshot.time-retained")

    @property
    def snapshot_expire_limit(self) -> int:
        return self.get("snapshot.expire.limit")

    @property
    def changelog_num_retained_min(self) -> int:
        """Defaults to ``snapshot.num-retained.min`` (decoupled changelog only when larger)."""
        value = self.get("changelog.num-retained.min")
        return self.snapshot_num_retained_min if value is None else value

    @property
    def changelog_num_retained_max(self) -> int:
        value = self.get("changelog.num-retained.max")
        return self.snapshot_num_retained_max if value is None else value

    @property
    def changelog_time_retained_ms(self) -> int:
        value = self.get("changelog.time-retained")
        return self.snapshot_time_retained_ms if value is None else value

    @property
    def snapshot_clean_empty_directories(self) -> bool:
        return self.get("snapshot.clean-empty-directories")

    @property
    def num_levels(self) -> int:
        value = self.get("num-levels")
        return value if value is not None else self.num_sorted_runs_compaction_trigger + 1

    @property
    def max_size_amplification_percent(self) -> int:
        return self.get("compaction.max-size-amplification-percent")

    @property
    def compaction_size_ratio(self) -> int:
        return self.get("compaction.size-ratio")

    @property
    def full_compaction_delta_commits(self) -> int | None:
        return self.get("full-compaction.delta-commits")

    @property
    def write_only(self) -> bool:
        return self.get("write-only")

    @property
    def write_buffer_spillable(self) -> bool:
        return self.get("write-buffer-spillable")

    @property
    def compaction_min_file_num(self) -> int:
        return self.get("compaction.min.file-num")

    @property
    def compaction_max_file_num(self) -> int:
        return self.get("compaction.max.file-num")
