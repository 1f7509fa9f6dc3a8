/*
 * A tiny command-line front end to Apache Paimon's own Java implementation, used by the tests to
 * prove that tables written by paimon_py are real Paimon tables (tests/paimon_py/test_interop_java.py).
 *
 * Compiled and run by tests/support/java_tool.py against the self-contained jar of the PyPI package
 * paimon-python-ali==0.1.1 (Paimon 1.0-SNAPSHOT + Hadoop). Commands:
 *
 *   read    <warehouse> <db.table> [<snapshot-id>|latest [<filter>]]
 *           all rows of the latest (or the given) snapshot as JSON lines. filter: a JSON list of
 *           conditions that must all hold, [column, op, value] with op one of = != < <= > >=,
 *           or [column, "is_null"|"is_not_null"]. It goes to Paimon's scan (partition, manifest
 *           and file statistics, Parquet row-group statistics) and to the rows (executeFilter),
 *           so wrong statistics show up as missing rows.
 *   write   <warehouse> <db.table> <rows.jsonl>
 *           one batch commit of the given rows (BatchWriteBuilder); a dynamic-bucket table
 *           (bucket = -1 with a primary key) takes its buckets from Paimon's HashBucketAssigner.
 *   compact <warehouse> <db.table>
 *           full compaction of every (partition, bucket) of the latest snapshot, one commit.
 *   create  <warehouse> <db.table> <schema.json>
 *           {"fields": [[name, "SQL TYPE"], ...], "partitionKeys": [...], "primaryKeys": [...],
 *            "options": {...}}
 *   batch   <commands.jsonl>
 *           one command per line (a JSON array of the words above), all in this JVM; the output
 *           of command i is framed by "#begin i" and "#end i" (or "#error i <JSON trace>").
 *           Consecutive reads run in parallel (-Dthreads=N), their output stays in order.
 *
 * JSON rendering of values (both directions): integers and floating point as numbers (FLOAT as
 * its exact double value; NaN/Infinity as strings), DECIMAL as a plain string with the column's
 * scale, strings as strings, BYTES as lowercase hex, DATE as yyyy-MM-dd, TIME as HH:mm:ss.SSS,
 * TIMESTAMP as yyyy-MM-ddTHH:mm:ss.nnnnnnnnn, TIMESTAMP WITH LOCAL TIME ZONE as the same in UTC
 * followed by Z, ARRAY as a list, MAP as a list of [key, value], ROW as an object, NULL as null.
 * A row whose kind is not +I carries "_rowkind" (e.g. "-D"); `write` accepts it as well (tables
 * with the rowkind.field option take the kind from that column, as Paimon does).
 */

import org.apache.paimon.catalog.Catalog;
import org.apache.paimon.catalog.CatalogContext;
import org.apache.paimon.catalog.CatalogFactory;
import org.apache.paimon.catalog.Identifier;
import org.apache.paimon.data.BinaryRow;
import org.apache.paimon.data.BinaryString;
import org.apache.paimon.data.Decimal;
import org.apache.paimon.data.GenericRow;
import org.apache.paimon.data.InternalArray;
import org.apache.paimon.data.InternalMap;
import org.apache.paimon.data.InternalRow;
import org.apache.paimon.data.Timestamp;
import org.apache.paimon.disk.IOManager;
import org.apache.paimon.fs.Path;
import org.apache.paimon.predicate.Predicate;
import org.apache.paimon.predicate.PredicateBuilder;
import org.apache.paimon.reader.RecordReader;
import org.apache.paimon.schema.Schema;
import org.apache.paimon.shade.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.paimon.shade.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.paimon.index.HashBucketAssigner;
import org.apache.paimon.table.BucketMode;
import org.apache.paimon.table.FileStoreTable;
import org.apache.paimon.table.Table;
import org.apache.paimon.table.sink.RowPartitionKeyExtractor;
import org.apache.paimon.table.sink.BatchTableCommit;
import org.apache.paimon.table.sink.BatchTableWrite;
import org.apache.paimon.table.sink.BatchWriteBuilder;
import org.apache.paimon.table.source.DataSplit;
import org.apache.paimon.table.source.ReadBuilder;
import org.apache.paimon.table.source.Split;
import org.apache.paimon.table.source.TableRead;
import org.apache.paimon.types.ArrayType;
import org.apache.paimon.types.DataField;
import org.apache.paimon.types.DataType;
import org.apache.paimon.types.DataTypeJsonParser;
import org.apache.paimon.types.DecimalType;
import org.apache.paimon.types.MapType;
import org.apache.paimon.types.RowKind;
import org.apache.paimon.types.RowType;

import java.io.BufferedWriter;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

public class PaimonJavaTool {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter TS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSS");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
    private static final String KIND = "_rowkind";

    public static void main(String[] args) throws Exception {
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(
                new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8), 1 << 16));
        int status = 0;
        try {
            if (args.length == 2 && args[0].equals("batch")) {
                status = batch(args[1], out);
            } else {
                StringBuilder o = new StringBuilder();
                run(args, o);
                out.print(o);
            }
        } finally {
            out.flush();
        }
        System.exit(status);
    }

    /** Runs the commands in order; consecutive reads run in parallel (output stays in order). */
    private static int batch(String commandsFile, PrintWriter out) throws Exception {
        List<String[]> commands = new ArrayList<>();
        for (String line : Files.readAllLines(Paths.get(commandsFile), StandardCharsets.UTF_8)) {
            List<String> words = new ArrayList<>();
            JSON.readTree(line).forEach(n -> words.add(n.asText()));
            commands.add(words.toArray(new String[0]));
        }
        ExecutorService pool = Executors.newFixedThreadPool(
                Integer.getInteger("threads", Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()))));
        int failures = 0;
        try {
            for (int i = 0; i < commands.size(); ) {
                int j = i + 1;
                while (commands.get(i)[0].equals("read") && j < commands.size()
                        && commands.get(j)[0].equals("read")) {
                    j++;
                }
                List<Future<String>> outputs = new ArrayList<>();
                for (int k = i; k < j; k++) {
                    final int index = k;
                    outputs.add(pool.submit(() -> framed(index, commands.get(index))));
                }
                for (Future<String> f : outputs) {
                    String framed = f.get();
                    failures += framed.contains("\n#error ") ? 1 : 0;
                    out.print(framed);
                    out.flush();
                }
                i = j;
            }
        } finally {
            pool.shutdownNow();
        }
        return failures == 0 ? 0 : 1;
    }

    private static String framed(int i, String[] words) throws IOException {
        StringBuilder o = new StringBuilder("#begin " + i + "\n");
        try {
            run(words, o);
            return o.append("#end ").append(i).append('\n').toString();
        } catch (Throwable t) {
            StringWriter trace = new StringWriter();
            t.printStackTrace(new PrintWriter(trace));
            System.err.println("command " + i + " " + Arrays.toString(words) + " failed:\n" + trace);
            return "#begin " + i + "\n#error " + i + " " + JSON.writeValueAsString(trace.toString()) + "\n";
        }
    }

    private static void run(String[] a, StringBuilder o) throws Exception {
        String usage = "usage: read|write|compact|create <warehouse> <db.table> [file|snapshot-id [filter]] | batch <file>";
        if (a.length < 3) {
            throw new IllegalArgumentException(usage);
        }
        Catalog catalog = CatalogFactory.createCatalog(CatalogContext.create(new Path(a[1])));
        try {
            Identifier id = Identifier.fromString(a[2]);
            switch (a[0]) {
                case "read":
                    read(atSnapshot(catalog.getTable(id), a.length > 3 ? a[3] : "latest"),
                            a.length > 4 ? a[4] : null, o);
                    break;
                case "write": write(catalog.getTable(id), a[3], o); break;
                case "compact": compact(catalog.getTable(id), o); break;
                case "create": create(catalog, id, a[3], o); break;
                default: throw new IllegalArgumentException(usage);
            }
        } finally {
            catalog.close();
        }
    }

    // ---- commands -----------------------------------------------------------------------------

    private static Table atSnapshot(Table table, String snapshotId) {
        if (snapshotId.equals("latest")) {
            return table;
        }
        Map<String, String> options = new LinkedHashMap<>();
        options.put("scan.snapshot-id", snapshotId);
        return table.copy(options);
    }

    private static Predicate filter(RowType rowType, String json) throws IOException {
        PredicateBuilder pb = new PredicateBuilder(rowType);
        List<Predicate> all = new ArrayList<>();
        for (JsonNode c : JSON.readTree(json)) {
            int i = rowType.getFieldIndex(c.get(0).asText());
            if (i < 0) {
                throw new IllegalArgumentException("unknown column in filter " + c);
            }
            Object v = c.size() > 2 ? parse(c.get(2), rowType.getTypeAt(i)) : null;
            switch (c.get(1).asText()) {
                case "=": all.add(pb.equal(i, v)); break;
                case "!=": all.add(pb.notEqual(i, v)); break;
                case "<": all.add(pb.lessThan(i, v)); break;
                case "<=": all.add(pb.lessOrEqual(i, v)); break;
                case ">": all.add(pb.greaterThan(i, v)); break;
                case ">=": all.add(pb.greaterOrEqual(i, v)); break;
                case "is_null": all.add(pb.isNull(i)); break;
                case "is_not_null": all.add(pb.isNotNull(i)); break;
                default: throw new IllegalArgumentException("unknown filter operator in " + c);
            }
        }
        return PredicateBuilder.and(all);
    }

    private static void read(Table table, String filterJson, StringBuilder o) throws Exception {
        ReadBuilder builder = table.newReadBuilder();
        RowType rowType = table.rowType();
        if (filterJson != null) {
            builder = builder.withFilter(filter(rowType, filterJson));
        }
        List<Split> splits = builder.newScan().plan().splits();
        TableRead read = builder.newRead();
        if (filterJson != null) {
            read = read.executeFilter();
        }
        try (IOManager io = IOManager.create(System.getProperty("java.io.tmpdir"));
                RecordReader<InternalRow> reader = read.withIOManager(io).createReader(splits)) {
            reader.forEachRemaining(row -> {
                StringBuilder sb = new StringBuilder();
                renderRow(sb, row, rowType);
                if (row.getRowKind() != RowKind.INSERT) {
                    sb.setLength(sb.length() - 1);
                    sb.append(rowType.getFieldCount() == 0 ? "" : ",")
                            .append('"').append(KIND).append("\":\"")
                            .append(row.getRowKind().shortString()).append("\"}");
                }
                o.append(sb).append('\n');
            });
        }
    }

    private static void write(Table table, String rowsFile, StringBuilder o) throws Exception {
        RowType rowType = table.rowType();
        BatchWriteBuilder builder = table.newBatchWriteBuilder();
        try (IOManager io = IOManager.create(System.getProperty("java.io.tmpdir"));
                BatchTableWrite write = (BatchTableWrite) builder.newWrite().withIOManager(io);
                BatchTableCommit commit = builder.newCommit()) {
            FileStoreTable store = (FileStoreTable) table;
            boolean dynamic = store.bucketMode() == BucketMode.HASH_DYNAMIC;
            HashBucketAssigner assigner = dynamic ? new HashBucketAssigner(store.snapshotManager(),
                    "paimon-java-tool", store.store().newIndexFileHandler(), 1, 1, 0,
                    store.coreOptions().dynamicBucketTargetRowNum()) : null;
            RowPartitionKeyExtractor keys = dynamic ? new RowPartitionKeyExtractor(store.schema()) : null;
            long n = 0;
            for (String line : Files.readAllLines(Paths.get(rowsFile), StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = JSON.readTree(line);
                GenericRow row = (GenericRow) parseRow(node, rowType);
                if (node.hasNonNull(KIND)) {
                    row.setRowKind(RowKind.fromShortString(node.get(KIND).asText()));
                }
                if (assigner == null) {
                    write.write(row);
                } else {
                    write.write(row, assigner.assign(keys.partition(row), keys.trimmedPrimaryKey(row).hashCode()));
                }
                n++;
            }
            commit.commit(write.prepareCommit());
            o.append("{\"written\":").append(n).append("}\n");
        }
    }

    private static void compact(Table table, StringBuilder o) throws Exception {
        Map<String, Object[]> targets = new LinkedHashMap<>();
        for (Split split : table.newReadBuilder().newScan().plan().splits()) {
            DataSplit ds = (DataSplit) split;
            targets.put(ds.partition().toString() + "/" + ds.bucket(),
                    new Object[] {ds.partition(), ds.bucket()});
        }
        BatchWriteBuilder builder = table.newBatchWriteBuilder();
        try (IOManager io = IOManager.create(System.getProperty("java.io.tmpdir"));
                BatchTableWrite write = (BatchTableWrite) builder.newWrite().withIOManager(io);
                BatchTableCommit commit = builder.newCommit()) {
            for (Object[] t : targets.values()) {
                write.compact((BinaryRow) t[0], (Integer) t[1], true);
            }
            commit.commit(write.prepareCommit());
        }
        o.append("{\"compacted_buckets\":").append(targets.size()).append("}\n");
    }

    private static void create(Catalog catalog, Identifier id, String schemaFile, StringBuilder o)
            throws Exception {
        JsonNode spec = JSON.readTree(Files.readAllBytes(Paths.get(schemaFile)));
        Schema.Builder schema = Schema.newBuilder();
        for (JsonNode f : spec.get("fields")) {
            schema.column(f.get(0).asText(),
                    DataTypeJsonParser.parseAtomicTypeSQLString(f.get(1).asText()));
        }
        List<String> partitionKeys = new ArrayList<>();
        List<String> primaryKeys = new ArrayList<>();
        Map<String, String> options = new LinkedHashMap<>();
        spec.path("partitionKeys").forEach(n -> partitionKeys.add(n.asText()));
        spec.path("primaryKeys").forEach(n -> primaryKeys.add(n.asText()));
        spec.path("options").fields().forEachRemaining(e -> options.put(e.getKey(), e.getValue().asText()));
        catalog.createDatabase(id.getDatabaseName(), true);
        catalog.createTable(id, schema.partitionKeys(partitionKeys).primaryKey(primaryKeys)
                .options(options).build(), false);
        o.append("{\"created\":\"").append(id.getFullName()).append("\"}\n");
    }

    // ---- internal value -> JSON ---------------------------------------------------------------

    private static void renderRow(StringBuilder sb, InternalRow row, RowType type) {
        sb.append('{');
        List<DataField> fields = type.getFields();
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            quote(sb, fields.get(i).name());
            sb.append(':');
            DataType t = fields.get(i).type();
            render(sb, row.isNullAt(i) ? null : InternalRow.createFieldGetter(t, i).getFieldOrNull(row), t);
        }
        sb.append('}');
    }

    private static void render(StringBuilder sb, Object v, DataType type) {
        if (v == null) {
            sb.append("null");
            return;
        }
        switch (type.getTypeRoot()) {
            case BOOLEAN: case TINYINT: case SMALLINT: case INTEGER: case BIGINT:
                sb.append(v);
                break;
            case FLOAT: case DOUBLE:
                double d = ((Number) v).doubleValue();
                if (Double.isNaN(d) || Double.isInfinite(d)) {
                    quote(sb, Double.toString(d));
                } else {
                    sb.append(d);
                }
                break;
            case DECIMAL:
                quote(sb, ((Decimal) v).toBigDecimal().toPlainString());
                break;
            case CHAR: case VARCHAR:
                quote(sb, v.toString());
                break;
            case BINARY: case VARBINARY:
                sb.append('"');
                for (byte b : (byte[]) v) {
                    sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
                }
                sb.append('"');
                break;
            case DATE:
                quote(sb, LocalDate.ofEpochDay((Integer) v).toString());
                break;
            case TIME_WITHOUT_TIME_ZONE:
                quote(sb, LocalTime.ofNanoOfDay((Integer) v * 1_000_000L).format(TIME));
                break;
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                quote(sb, ((Timestamp) v).toLocalDateTime().format(TS));
                break;
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                quote(sb, LocalDateTime.ofInstant(((Timestamp) v).toInstant(), ZoneOffset.UTC).format(TS) + "Z");
                break;
            case ARRAY: {
                DataType et = ((ArrayType) type).getElementType();
                InternalArray arr = (InternalArray) v;
                InternalArray.ElementGetter g = InternalArray.createElementGetter(et);
                sb.append('[');
                for (int i = 0; i < arr.size(); i++) {
                    sb.append(i > 0 ? "," : "");
                    render(sb, g.getElementOrNull(arr, i), et);
                }
                sb.append(']');
                break;
            }
            case MAP: {
                MapType mt = (MapType) type;
                InternalMap map = (InternalMap) v;
                InternalArray.ElementGetter kg = InternalArray.createElementGetter(mt.getKeyType());
                InternalArray.ElementGetter vg = InternalArray.createElementGetter(mt.getValueType());
                sb.append('[');
                for (int i = 0; i < map.size(); i++) {
                    sb.append(i > 0 ? ",[" : "[");
                    render(sb, kg.getElementOrNull(map.keyArray(), i), mt.getKeyType());
                    sb.append(',');
                    render(sb, vg.getElementOrNull(map.valueArray(), i), mt.getValueType());
                    sb.append(']');
                }
                sb.append(']');
                break;
            }
            case ROW:
                renderRow(sb, (InternalRow) v, (RowType) type);
                break;
            default:
                throw new UnsupportedOperationException("cannot render " + type);
        }
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }

    // ---- JSON -> internal value ---------------------------------------------------------------

    private static InternalRow parseRow(JsonNode node, RowType type) {
        List<DataField> fields = type.getFields();
        GenericRow row = new GenericRow(fields.size());
        for (int i = 0; i < fields.size(); i++) {
            JsonNode v = node.get(fields.get(i).name());
            row.setField(i, v == null || v.isNull() ? null : parse(v, fields.get(i).type()));
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!name.equals(KIND) && !type.containsField(name)) {
                throw new IllegalArgumentException("unknown column " + name + " in " + node);
            }
        }
        return row;
    }

    private static Object parse(JsonNode v, DataType type) {
        switch (type.getTypeRoot()) {
            case BOOLEAN: return v.booleanValue();
            case TINYINT: return (byte) v.intValue();
            case SMALLINT: return (short) v.intValue();
            case INTEGER: return v.intValue();
            case BIGINT: return v.longValue();
            case FLOAT: return (float) (v.isTextual() ? Double.parseDouble(v.asText()) : v.doubleValue());
            case DOUBLE: return v.isTextual() ? Double.parseDouble(v.asText()) : v.doubleValue();
            case DECIMAL: {
                DecimalType dt = (DecimalType) type;
                BigDecimal bd = new BigDecimal(v.asText());
                Decimal dec = Decimal.fromBigDecimal(bd, dt.getPrecision(), dt.getScale());
                if (dec == null) {
                    throw new IllegalArgumentException(bd + " does not fit " + type);
                }
                return dec;
            }
            case CHAR: case VARCHAR: return BinaryString.fromString(v.asText());
            case BINARY: case VARBINARY: {
                String hex = v.asText();
                byte[] b = new byte[hex.length() / 2];
                for (int i = 0; i < b.length; i++) {
                    b[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
                }
                return b;
            }
            case DATE: return (int) LocalDate.parse(v.asText()).toEpochDay();
            case TIME_WITHOUT_TIME_ZONE: return (int) (LocalTime.parse(v.asText()).toNanoOfDay() / 1_000_000L);
            case TIMESTAMP_WITHOUT_TIME_ZONE: return Timestamp.fromLocalDateTime(LocalDateTime.parse(v.asText()));
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE: return Timestamp.fromInstant(Instant.parse(v.asText()));
            default: throw new UnsupportedOperationException("cannot parse " + type + " from JSON");
        }
    }
}
