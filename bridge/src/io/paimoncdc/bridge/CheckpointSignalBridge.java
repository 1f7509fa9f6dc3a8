package io.paimoncdc.bridge;

import org.apache.flink.api.common.typeinfo.BasicTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.types.Row;

/**
 * Forwards PyFlink keyed records ({@code Row(key, envelope)}) unchanged and emits in-band signal
 * records in the same shape, so a Python KeyedProcessFunction chained right after it sees the
 * checkpoint life cycle it otherwise has no hooks for:
 *
 * <ul>
 *   <li>{@code B(n)} in {@link #prepareSnapshotPreBarrier}: after every record before barrier n,
 *       before the barrier (and before the chained Python operator flushes its bundle);
 *   <li>{@code C(n)} in {@link #notifyCheckpointComplete} (notices can be skipped or subsumed);
 *   <li>{@code R(n)} in {@link #open} when restored from checkpoint (or savepoint) n &gt; 0.
 *       A fresh start emits nothing;
 *   <li>{@code E(Long.MAX_VALUE)} in {@link #endInput} (bounded input ended). After E the bridge
 *       emits no more B/C: the downstream operators are finishing.
 * </ul>
 *
 * <p>A signal is {@code Row(markerKey, envelope)} where the envelope has the input's field layout,
 * its field "kind" is "B"/"C"/"R"/"E", "checkpoint_id" is n, "key" (if present and a string) is
 * the marker key and all other fields are null. The record's timestamp is the wall-clock time of
 * emission (milliseconds), for latency measurements. The marker key is chosen per subtask so
 * that PyFlink's key selector ({@code Row.of(field 0)}) maps it to this very subtask.
 */
public class CheckpointSignalBridge extends AbstractStreamOperator<Row>
        implements OneInputStreamOperator<Row, Row>, BoundedOneInput {

    private static final long serialVersionUID = 1L;
    public static final long END_INPUT_CHECKPOINT_ID = Long.MAX_VALUE;
    public static final String MARKER_PREFIX = "__ckpt_signal_";

    private final int envelopeArity;
    private final int kindIndex;
    private final int checkpointIdIndex;
    private final int keyIndex; // -1: the envelope has no string "key" field
    private final boolean stringKey; // outer key typed STRING (else INT)

    private transient Object markerKey;
    private transient long restoredCheckpointId;
    private transient boolean inputEnded;

    /** @param keyedType the type of the stream after PyFlink's key_by: Row(key, envelope). */
    public CheckpointSignalBridge(TypeInformation<Row> keyedType) {
        if (!(keyedType instanceof RowTypeInfo) || keyedType.getArity() != 2) {
            throw new IllegalArgumentException(
                    "expected PyFlink's keyed shape Row(key, envelope), got " + keyedType);
        }
        RowTypeInfo outer = (RowTypeInfo) keyedType;
        TypeInformation<?> keyType = outer.getTypeAt(0);
        if (BasicTypeInfo.STRING_TYPE_INFO.equals(keyType)) {
            stringKey = true;
        } else if (BasicTypeInfo.INT_TYPE_INFO.equals(keyType)) {
            stringKey = false;
        } else {
            throw new IllegalArgumentException(
                    "the key must be typed STRING or INT (key_by(..., key_type=Types.STRING())),"
                            + " got " + keyType);
        }
        TypeInformation<?> valueType = outer.getTypeAt(1);
        if (!(valueType instanceof RowTypeInfo)) {
            throw new IllegalArgumentException(
                    "the value must be a named Row envelope, got " + valueType);
        }
        RowTypeInfo envelope = (RowTypeInfo) valueType;
        envelopeArity = envelope.getArity();
        kindIndex = envelope.getFieldIndex("kind");
        checkpointIdIndex = envelope.getFieldIndex("checkpoint_id");
        if (kindIndex < 0
                || !BasicTypeInfo.STRING_TYPE_INFO.equals(envelope.getTypeAt(kindIndex))) {
            throw new IllegalArgumentException(
                    "the envelope needs a STRING field 'kind': " + envelope);
        }
        if (checkpointIdIndex < 0
                || !BasicTypeInfo.LONG_TYPE_INFO.equals(envelope.getTypeAt(checkpointIdIndex))) {
            throw new IllegalArgumentException(
                    "the envelope needs a BIGINT field 'checkpoint_id': " + envelope);
        }
        int k = envelope.getFieldIndex("key");
        keyIndex = k >= 0 && BasicTypeInfo.STRING_TYPE_INFO.equals(envelope.getTypeAt(k)) ? k : -1;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        restoredCheckpointId =
                context.isRestored() ? context.getRestoredCheckpointId().orElse(0L) : 0L;
    }

    @Override
    public void open() throws Exception {
        super.open();
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        int maxParallelism = getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
        markerKey = findMarkerKey(subtask, parallelism, maxParallelism, stringKey);
        if (restoredCheckpointId > 0) {
            emit("R", restoredCheckpointId);
        }
    }

    /** A key (String or Integer) that PyFlink's KeyByKeySelector routes to {@code subtask}. */
    public static Object findMarkerKey(
            int subtask, int parallelism, int maxParallelism, boolean stringKey) {
        for (int i = 0; i < 1_000_000; i++) {
            Object candidate = stringKey ? MARKER_PREFIX + i : (Object) (Integer.MIN_VALUE + i);
            Row key = new Row(1); // exactly what KeyByKeySelector builds
            key.setField(0, candidate);
            if (KeyGroupRangeAssignment.assignKeyToParallelOperator(
                            key, maxParallelism, parallelism)
                    == subtask) {
                return candidate;
            }
        }
        throw new IllegalStateException("no marker key found for subtask " + subtask);
    }

    @Override
    public void processElement(StreamRecord<Row> element) throws Exception {
        output.collect(element);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        if (!inputEnded) {
            emit("B", checkpointId);
        }
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        if (!inputEnded) {
            emit("C", checkpointId);
        }
    }

    @Override
    public void endInput() throws Exception {
        emit("E", END_INPUT_CHECKPOINT_ID);
        inputEnded = true;
    }

    private void emit(String kind, long checkpointId) {
        Row envelope = new Row(envelopeArity);
        envelope.setField(kindIndex, kind);
        envelope.setField(checkpointIdIndex, checkpointId);
        if (keyIndex >= 0) {
            envelope.setField(keyIndex, markerKey.toString());
        }
        Row record = new Row(2);
        record.setField(0, markerKey);
        record.setField(1, envelope);
        output.collect(new StreamRecord<>(record, System.currentTimeMillis()));
    }
}
