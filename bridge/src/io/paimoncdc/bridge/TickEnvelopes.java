package io.paimoncdc.bridge;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.types.Row;

/**
 * Ticks as a reader's keyed data envelopes, {@code Row(key, Row("D", key, null, pickle(tick)))}
 * (the Python side's {@code KEYED_ENVELOPE_TYPE}), in Java: a reader's input then needs no Python
 * operator (and no Python worker) of its own.
 */
public final class TickEnvelopes implements MapFunction<Long, Row> {
    private static final long serialVersionUID = 1L;

    private final String key;

    public TickEnvelopes(String key) {
        this.key = key;
    }

    @Override
    public Row map(Long tick) {
        return Row.of(key, Row.of("D", key, null, pickledLong(tick)));
    }

    /** {@code pickle.dumps(tick, protocol=2)} in its LONG1 form: PROTO 2, LONG1 of 8 bytes, STOP. */
    static byte[] pickledLong(long value) {
        byte[] out = new byte[13];
        out[0] = (byte) 0x80;
        out[1] = 2;
        out[2] = (byte) 0x8a;
        out[3] = 8;
        for (int i = 0; i < 8; i++) {
            out[4 + i] = (byte) (value >>> (8 * i));
        }
        out[12] = '.';
        return out;
    }
}
