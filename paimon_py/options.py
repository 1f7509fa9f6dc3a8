"""Table options (Paimon's ``CoreOptions``): typed access, Paimon's defaults, validation.

Options are stored in schema files as a string-to-string map. Every option this library
interprets is declared once in ``TABLE_OPTIONS`` (``paimon_py.config_option``) with its type,
default and description; a value that does not parse fails with ``OptionError``
(``<key>=<value> is <what> — <how to fix>``). Keys we do not interpret are kept as they are
(other engines may use them). The README's table of table options is rendered from these
declarations (``scripts/readme_options.py``).
"""

from __future__ import annotations

from typing import Any, Mapping

from paimon_py.config_option import (BOOLEAN, DURATION, INT, LIST, MEMORY, STRING, ConfigOption, OptionSet,
                                     at_least, enum)
from paimon_py.exceptions import OptionError

TABLE_OPTIONS = OptionSet("table", [
    ConfigOption("bucket", INT, "-1", "Buckets per partition; `-1`: dynamic bucket mode for a primary-key table "
                 "(keys spread over buckets by a hash index), an unbucketed append table otherwise"),
    ConfigOption("bucket-key", LIST, None, "Comma-separated columns that choose the bucket",
                 default_doc="the primary key without the partition columns"),
    ConfigOption("file.format", enum("parquet", "orc"), "parquet", "Data file format: `parquet` or `orc`"),
    ConfigOption("changelog-file.format", enum("parquet", "orc"), None, "Changelog file format: `parquet` or `orc`",
                 default_doc="`file.format`"),
    ConfigOption("file.compression", enum("zstd", "snappy", "gzip", "lz4", "none", "uncompressed"), "zstd",
                 "Data file compression: `zstd`, `snappy`, `gzip`, `lz4`, `none`"),
    ConfigOption("file.compression.zstd-level", INT, "1", "zstd level of data files"),
    ConfigOption("manifest.compression", enum("zstd", "null", "deflate", "snappy", "bzip2", "xz", "none"), "zstd",
                 "Codec of the Avro manifest files"),
    ConfigOption("manifest.target-file-size", MEMORY, "8 mb", "Target size of a manifest file"),
    ConfigOption("manifest.merge-min-count", INT, "30", "Manifest files that are merged into one at the latest"),
    ConfigOption("target-file-size", MEMORY, None, "Target size of a data file",
                 default_doc="`128 mb` (primary key), `256 mb` (append)"),
    ConfigOption("write-buffer-size", MEMORY, "256 mb", "Memory that buffers rows before they are spilled or flushed"),
    ConfigOption("write-buffer-spillable", BOOLEAN, "true",
                 "Spill a full write buffer to local disk as a sorted run rather than flush a level-0 file"),
    ConfigOption("merge-engine", enum("deduplicate", "partial-update", "aggregation", "first-row"), "deduplicate",
                 "How rows of one primary key merge: `deduplicate`, `partial-update`, `aggregation`, `first-row`"),
    ConfigOption("changelog-producer", enum("none", "input", "lookup", "full-compaction"), "none",
                 "Changelog files for streaming reads: `none`, `input`, `lookup`, `full-compaction`"),
    ConfigOption("sequence.field", LIST, None, "Columns that order the rows of one key (instead of the write order)"),
    ConfigOption("sequence.field.sort-order", enum("ascending", "descending"), "ascending",
                 "Order of `sequence.field`: `ascending` (the largest value is the latest) or `descending`"),
    ConfigOption("ignore-delete", BOOLEAN, "false", "Drop deletions (`-D`, `-U`) instead of applying them",
                 fallback_keys=("first-row.ignore-delete", "deduplicate.ignore-delete", "partial-update.ignore-delete")),
    ConfigOption("partial-update.remove-record-on-delete", BOOLEAN, "false", "partial-update: `-D` removes the row"),
    ConfigOption("aggregation.remove-record-on-delete", BOOLEAN, "false", "aggregation: `-D` removes the row"),
    ConfigOption("fields.default-aggregate-function", STRING, None,
                 "aggregation: the function of columns without `fields.<field>.aggregate-function`"),
    ConfigOption("ignore-update-before", BOOLEAN, "false", "Drop `-U` rows"),
    ConfigOption("rowkind.field", STRING, None, "Column of written batches that holds each row's kind "
                 "(`+I`, `-U`, `+U`, `-D`)"),
    ConfigOption("partition.default-name", STRING, "__DEFAULT_PARTITION__",
                 "Partition directory name of NULL and empty values"),
    ConfigOption("partition.legacy-name", BOOLEAN, "true", "Partition directory names from the values' string form"),
    ConfigOption("data-file.prefix", STRING, "data-", "File name prefix of data files"),
    ConfigOption("changelog-file.prefix", STRING, "changelog-", "File name prefix of changelog files"),
    ConfigOption("dynamic-partition-overwrite", BOOLEAN, "true",
                 "An overwrite of a partitioned table replaces only the partitions it writes into; "
                 "`false`: the table or the given static partition"),
    ConfigOption("commit.max-retries", INT, "10", "Retries of a commit that lost a race with another commit"),
    ConfigOption("num-levels", INT, None, "Levels of the LSM tree",
                 default_doc="`num-sorted-run.compaction-trigger` + 1"),
    ConfigOption("num-sorted-run.compaction-trigger", INT, "5", "Sorted runs that trigger a compaction"),
    ConfigOption("num-sorted-run.stop-trigger", INT, None, "Sorted runs at which writes wait for compaction",
                 default_doc="`num-sorted-run.compaction-trigger` + 3"),
    ConfigOption("compaction.max-size-amplification-percent", INT, "200",
                 "Size amplification (percent) that triggers a full compaction"),
    ConfigOption("compaction.size-ratio", INT, "1", "Size difference (percent) under which sorted runs are merged"),
    ConfigOption("full-compaction.delta-commits", INT, None, "A full compaction after this many commits"),
    ConfigOption("write-only", BOOLEAN, "false", "Skip compaction and snapshot expiration (another job does them)"),
    ConfigOption("compaction.min.file-num", INT, "5", "Append tables: files that trigger a compaction"),
    ConfigOption("compaction.max.file-num", INT, "50", "Append tables: files compacted at once at most"),
    ConfigOption("snapshot.num-retained.min", INT, "10", "Snapshots kept at least"),
    ConfigOption("snapshot.num-retained.max", INT, str(2**31 - 1), "Snapshots kept at most"),
    ConfigOption("snapshot.time-retained", DURATION, "1 h", "Snapshots younger than this are kept"),
    ConfigOption("snapshot.expire.limit", INT, "50", "Snapshots expired by one commit at most"),
    ConfigOption("changelog.num-retained.min", INT, None, "Changelogs kept at least (above the snapshot "
                 "setting: not supported)", default_doc="`snapshot.num-retained.min`"),
    ConfigOption("changelog.num-retained.max", INT, None, "Changelogs kept at most (above the snapshot "
                 "setting: not supported)", default_doc="`snapshot.num-retained.max`"),
    ConfigOption("changelog.time-retained", DURATION, None, "Changelogs younger than this are kept (above the "
                 "snapshot setting: not supported)", default_doc="`snapshot.time-retained`"),
    ConfigOption("snapshot.clean-empty-directories", BOOLEAN, "false",
                 "Remove directories that expiration left empty"),
    ConfigOption("metadata.stats-mode", STRING, "truncate(16)", "Column statistics in the data files' metadata"),
    ConfigOption("deletion-vectors.enabled", BOOLEAN, "false",
                 "Deletion vectors (primary-key tables, `deduplicate` engine): compaction marks superseded "
                 "rows deleted, readers read levels >= 1 without merging"),
    ConfigOption("deletion-vectors.bitmap64", BOOLEAN, "false", "64-bit deletion vectors (`true` is not supported)"),
    ConfigOption("row-tracking.enabled", BOOLEAN, "false",
                 "Row tracking (append tables with `bucket` = -1): every row gets a `_ROW_ID`, assigned at "
                 "commit from the snapshot's `nextRowId`, and a `_SEQUENCE_NUMBER` (the snapshot that wrote "
                 "it), readable as columns; compaction keeps both. Cannot be changed after creation"),
    ConfigOption("row-tracking.partition-group-on-commit", BOOLEAN, "true",
                 "Row tracking: a commit's new files are grouped by partition before row ids are assigned, so "
                 "each partition's new rows get consecutive ids"),
    ConfigOption("data-file.thin-mode", BOOLEAN, "false",
                 "Primary-key tables' data files without the key columns stored twice"),
    ConfigOption("read.parallelism", INT, None, "Threads that read the splits of one read at most",
                 checks=(at_least(1),), default_doc="the CPU count"),
    ConfigOption("dynamic-bucket.target-row-num", INT, "2000000",
                 "Dynamic bucket mode: keys per bucket before new keys go to a new bucket", checks=(at_least(1),)),
    ConfigOption("dynamic-bucket.initial-buckets", INT, None,
                 "Dynamic bucket mode: bucket assigners per partition in a Flink job (at most its assigner "
                 "parallelism)", checks=(at_least(1),), default_doc="the assigner parallelism"),
    ConfigOption("dynamic-bucket.max-buckets", INT, "-1",
                 "Dynamic bucket mode: buckets per partition at most (`-1`: unlimited); once reached, new keys "
                 "go to a random existing bucket", checks=(at_least(-1),)),
    ConfigOption("dynamic-bucket.assigner-parallelism", INT, None,
                 "Dynamic bucket mode: parallelism of a Flink job's bucket assigner",
                 checks=(at_least(1),), default_doc="the writer parallelism"),
    ConfigOption("bucket-function.type", enum("default"), "default", "Bucket function: only `default`"),
])

FIELD_AGGREGATE_FUNCTION = ConfigOption("aggregate-function", STRING, None)
FIELD_IGNORE_RETRACT = ConfigOption("ignore-retract", BOOLEAN, "false")
FIELD_DISTINCT = ConfigOption("distinct", BOOLEAN, "false")
FIELD_LIST_AGG_DELIMITER = ConfigOption("list-agg-delimiter", STRING, ",")
"""The per-field options ``fields.<field>.<suffix>`` of the merge engines, by suffix."""

UNSUPPORTED_TRUE = ("deletion-vectors.bitmap64", "data-evolution.enabled")


class CoreOptions:
    """Typed view over a table's options map with Paimon's defaults."""

    def __init__(self, options: Mapping[str, str]):
        self.options: dict[str, str] = {k: str(v) for k, v in options.items()}
        self._parsed: dict[str, Any] = {}
        for key in self.options:
            if key in TABLE_OPTIONS:
                self.get(key)
        for key in UNSUPPORTED_TRUE:
            if self.options.get(key, "false").lower() == "true":
                raise OptionError(f"{key}=true is not supported by paimon_py yet — create the table without it")

    def get(self, key: str) -> Any:
        if key not in self._parsed:
            self._parsed[key] = TABLE_OPTIONS[key].get(self.options)
        return self._parsed[key]

    def _field_option(self, field: str, option: ConfigOption) -> Any:
        """``fields.<field>.<option.key>``, a per-field option of the merge engines."""
        return ConfigOption(f"fields.{field}.{option.key}", option.type, option.default).get(self.options)

    @property
    def bucket(self) -> int:
        return self.get("bucket")

    @property
    def dynamic_bucket_target_row_num(self) -> int:
        return self.get("dynamic-bucket.target-row-num")

    @property
    def dynamic_bucket_initial_buckets(self) -> int | None:
        return self.get("dynamic-bucket.initial-buckets")

    @property
    def dynamic_bucket_max_buckets(self) -> int:
        return self.get("dynamic-bucket.max-buckets")

    @property
    def dynamic_bucket_assigner_parallelism(self) -> int | None:
        return self.get("dynamic-bucket.assigner-parallelism")

    @property
    def bucket_key(self) -> list[str] | None:
        return self.get("bucket-key")

    @property
    def file_format(self) -> str:
        return self.get("file.format")

    @property
    def changelog_file_format(self) -> str:
        return self.get("changelog-file.format") or self.file_format

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
    def deletion_vectors_enabled(self) -> bool:
        return self.get("deletion-vectors.enabled")

    @property
    def row_tracking_enabled(self) -> bool:
        return self.get("row-tracking.enabled")

    @property
    def row_tracking_partition_group_on_commit(self) -> bool:
        return self.get("row-tracking.partition-group-on-commit")

    @property
    def sequence_field(self) -> list[str]:
        return self.get("sequence.field") or []

    @property
    def sequence_field_sort_order(self) -> str:
        return self.get("sequence.field.sort-order")

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
        return self._field_option(field, FIELD_AGGREGATE_FUNCTION)

    def field_ignore_retract(self, field: str) -> bool:
        return self._field_option(field, FIELD_IGNORE_RETRACT)

    def field_distinct(self, field: str) -> bool:
        return self._field_option(field, FIELD_DISTINCT)

    def field_list_agg_delimiter(self, field: str) -> str:
        return self._field_option(field, FIELD_LIST_AGG_DELIMITER)

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
    def dynamic_partition_overwrite(self) -> bool:
        return self.get("dynamic-partition-overwrite")

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
    def read_parallelism(self) -> int | None:
        return self.get("read.parallelism")

    @property
    def compaction_min_file_num(self) -> int:
        return self.get("compaction.min.file-num")

    @property
    def compaction_max_file_num(self) -> int:
        return self.get("compaction.max.file-num")



class OptionKey(str):
    """A table option's key; ``key()`` too, as pypaimon's ``CoreOptions.BUCKET.key()``."""

    def key(self) -> str:
        return str(self)


for _option in TABLE_OPTIONS:
    # pypaimon's constants: CoreOptions.BUCKET, CoreOptions.SNAPSHOT_NUM_RETAINED_MIN, ...
    setattr(CoreOptions, _option.key.replace(".", "_").replace("-", "_").upper(), OptionKey(_option.key))
