package dev.sportsfeat.udfs.kafka;

import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.kafka.shaded.org.apache.kafka.common.TopicPartition;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The splits of one source reader (one subtask), shared by the reader, the record
 * deserializer, the watermark generators (all on the task thread) and the lag checker.
 *
 * <p>Flink does not tell a watermark generator its split: {@code
 * ProgressiveTimestampsAndWatermarks} creates the main output's generator first ({@code
 * createMainOutput}), then one per split as {@code SourceOperator} calls {@code
 * createOutputForSplit} for each split it hands the reader, in the order it hands them ({@code
 * handleAddSplitsEvent}: outputs, then {@code addSplits}; on restore {@code addSplits} in
 * {@code open}, outputs in {@code initializeMainOutput}). So the first generator is the main
 * one and the others pair with {@link #add}ed splits first in, first out. Every record checks
 * the pairing ({@link SplitGenerator#onEvent}).
 */
final class SplitRegistry {
    private final Map<String, SplitState> splits = new ConcurrentHashMap<>();
    private final ArrayDeque<SplitState> awaitingGenerator = new ArrayDeque<>();
    private final ArrayDeque<SplitGenerator<?>> awaitingSplit = new ArrayDeque<>();
    private boolean mainCreated;
    private SplitState current;
    private int idle; // splits marked idle (task thread only)

    /** A split handed to the reader (a known one keeps its output and generator, as in Flink). */
    void add(KafkaPartitionSplit split) {
        if (splits.containsKey(split.splitId())) {
            return;
        }
        SplitState state = new SplitState(split);
        splits.put(state.splitId, state);
        SplitGenerator<?> generator = awaitingSplit.poll();
        if (generator != null) {
            generator.bind(state);
        } else {
            awaitingGenerator.add(state);
        }
    }

    /** A split the reader has finished (bounded reads). */
    void release(String splitId) {
        SplitState state = splits.remove(splitId);
        if (state != null) {
            setIdle(state, false);
        }
    }

    /** Notes that a split's generator marked it idle or active. */
    void setIdle(SplitState state, boolean isIdle) {
        if (state.idle != isIdle) {
            state.idle = isIdle;
            idle += isIdle ? 1 : -1;
        }
    }

    /**
     * Whether some split is idle: then the reader woke from all quiet, and a split with records
     * must not move the watermark on an event before the idle splits' next periodic emit has
     * made them active again (at their verdict's proxy, or their own watermark).
     */
    boolean anyIdle() {
        return idle > 0;
    }

    /** The generator for the next output Flink creates, wrapping the planner's. */
    <T> WatermarkGenerator<T> generator(WatermarkGenerator<T> planner) {
        if (!mainCreated) {
            mainCreated = true;
            return new MainGenerator<>(this);
        }
        SplitGenerator<T> generator = new SplitGenerator<>(planner, this);
        SplitState state = awaitingGenerator.poll();
        if (state != null) {
            generator.bind(state);
        } else {
            awaitingSplit.add(generator);
        }
        return generator;
    }

    /** The split of a record about to be deserialized (and emitted), made current. */
    SplitState beforeRecord(String topic, int partition) {
        SplitState state = current;
        if (state == null
                || state.partition.partition() != partition
                || !state.partition.topic().equals(topic)) {
            state = splits.get(KafkaPartitionSplit.toSplitId(new TopicPartition(topic, partition)));
            if (state == null) {
                throw new IllegalStateException("a record of " + topic + "-" + partition
                        + ", a split this reader was never given");
            }
            current = state;
        }
        return state;
    }

    /** The split whose record is being emitted. */
    SplitState current() {
        return current;
    }

    Collection<SplitState> splits() {
        return splits.values();
    }

    /** Whether every split's generator has marked it idle (true without splits). */
    boolean allIdle() {
        return idle == splits.size();
    }

    /** Whether every split still holds a verdict of check {@code check}. */
    boolean quietSince(long check) {
        for (SplitState state : splits.values()) {
            Verdict verdict = state.validVerdict();
            if (verdict == null || verdict.check() != check) {
                return false;
            }
        }
        return true;
    }
}
