package io.paimoncdc.bridge;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.source.legacy.RichParallelSourceFunction;

/**
 * A rate-limited source of ticks 0, 1, 2, ... (BIGINT) below {@code count}, checkpointed by Flink
 * (a restored job resumes after the last checkpointed tick). Subtask {@code i} of {@code p} emits
 * {@code i, i + p, i + 2p, ...}; the rate is for the whole source, shared by its subtasks.
 *
 * <p>A legacy source function on purpose: a FLIP-27 source (such as {@code DataGeneratorSource},
 * which this replaced) has an operator coordinator, and Flink's coordinator can lose a source
 * subtask for good when a checkpoint is aborted during a region failover ("Trying to open gateway
 * for unseen checkpoint" on the JobManager, the source never redeployed, the job RUNNING without
 * progress). A legacy source has no coordinator.
 */
public final class TickSource extends RichParallelSourceFunction<Long>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    private final long count;
    private final double ticksPerSecond;

    private transient ListState<Long> nextTicks;
    private transient long next;
    private volatile boolean running = true;

    private TickSource(long count, double ticksPerSecond) {
        this.count = count;
        this.ticksPerSecond = ticksPerSecond;
    }

    /** A source of {@code count} ticks ({@code Long.MAX_VALUE}: unbounded in practice). */
    public static TickSource create(long count, double ticksPerSecond) {
        if (count < 0 || !(ticksPerSecond > 0)) {
            throw new IllegalArgumentException(
                    "count must be >= 0 and ticksPerSecond > 0, got " + count + ", " + ticksPerSecond);
        }
        return new TickSource(count, ticksPerSecond);
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        nextTicks = context.getOperatorStateStore()
                .getUnionListState(new ListStateDescriptor<>("next-ticks", Types.LONG));
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        next = subtask;
        if (context.isRestored()) {
            next = restoredNext(nextTicks.get(), subtask, parallelism);
        }
    }

    /**
     * This subtask's next tick after a restore: its own stored one (same parallelism), else the
     * first of its ticks at or after the lowest stored one (parallelism changed).
     */
    static long restoredNext(Iterable<Long> stored, int subtask, int parallelism) {
        long lowest = Long.MAX_VALUE;
        for (long tick : stored) {
            if (Math.floorMod(tick, parallelism) == subtask) {
                return tick;
            }
            lowest = Math.min(lowest, tick);
        }
        if (lowest == Long.MAX_VALUE) {
            return subtask;
        }
        long base = lowest - Math.floorMod(lowest, parallelism);
        return base + subtask >= lowest ? base + subtask : base + parallelism + subtask;
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        nextTicks.update(java.util.List.of(next));
    }

    @Override
    public void run(SourceContext<Long> ctx) throws Exception {
        int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        long intervalNanos = (long) (1e9 * parallelism / ticksPerSecond);
        long due = System.nanoTime();
        while (running && next < count) {
            long wait = due - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(Math.max(1, wait / 1_000_000));
                continue;
            }
            synchronized (ctx.getCheckpointLock()) {
                ctx.collect(next);
                next = next > Long.MAX_VALUE - parallelism ? Long.MAX_VALUE : next + parallelism;
            }
            // a late tick does not make the following ones come in a burst
            due = Math.max(due + intervalNanos, System.nanoTime() - intervalNanos);
        }
    }

    @Override
    public void cancel() {
        running = false;
    }
}
