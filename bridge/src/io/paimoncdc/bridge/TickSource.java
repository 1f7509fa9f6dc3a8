package io.paimoncdc.bridge;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;

/**
 * A rate-limited source of ticks 0, 1, 2, ... (BIGINT), checkpointed by Flink (a restored job
 * resumes after the last checkpointed tick). {@code count = Long.MAX_VALUE} is unbounded for
 * practical purposes; the rate is for the whole source, shared by its subtasks.
 */
public final class TickSource {
    private TickSource() {}

    public static DataGeneratorSource<Long> create(long count, double ticksPerSecond) {
        return new DataGeneratorSource<>(
                new Identity(), count, RateLimiterStrategy.perSecond(ticksPerSecond), Types.LONG);
    }

    static final class Identity implements GeneratorFunction<Long, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public Long map(Long index) {
            return index;
        }
    }
}
