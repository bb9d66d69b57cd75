package dev.sportsfeat.udfs.kafka;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkOutputMultiplexer;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.kafka.shaded.org.apache.kafka.common.TopicPartition;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One source subtask of topic {@code t} driven by hand the way Flink drives it: split outputs
 * in a WatermarkOutputMultiplexer (as ProgressiveTimestampsAndWatermarks keeps them), the
 * planner's generator bounded out-of-orderness 5 s, records through the deserializer's calls,
 * periodic emits split outputs first then the main output, and lag checks on a fake clock.
 */
final class Subtask {
    static final Duration BOUND = Duration.ofSeconds(5);
    static final Duration QUIET_AFTER = Duration.ofSeconds(10);
    static final long SECOND = 1_000_000_000L;

    final SplitRegistry registry = new SplitRegistry();
    final FakeLag lag = new FakeLag();
    final Output output = new Output();
    final Output main = new Output();
    final Map<String, SimpleCounter> counters = new HashMap<>();
    final LagChecker checker;
    private final WatermarkOutputMultiplexer multiplexer = new WatermarkOutputMultiplexer(output);
    private final boolean onEvent;
    private final WatermarkGenerator<Long> mainGenerator;
    private final Map<Integer, WatermarkGenerator<Long>> generators = new HashMap<>();
    private long nanos;

    /** Partitions 0..n-1, each read from offset 100, handed over as SourceOperator does. */
    Subtask(int partitions) {
        this(partitions, false);
    }

    /** As above; with {@code onEvent} the planner emits on every record (emit.strategy on-event). */
    Subtask(int partitions, boolean onEvent) {
        this.onEvent = onEvent;
        mainGenerator = registry.generator(planner());
        checker = new LagChecker(registry, lag, QUIET_AFTER, () -> nanos, new Metrics());
        List<KafkaPartitionSplit> splits = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            KafkaPartitionSplit split = new KafkaPartitionSplit(partition(p), 100);
            multiplexer.registerNewOutput(split.splitId());
            generators.put(p, registry.generator(planner())); // createOutputForSplits ...
            splits.add(split);
            lag.ends.put(partition(p), 100L);
        }
        splits.forEach(registry::add); // ... then reader.addSplits
    }

    static TopicPartition partition(int p) {
        return new TopicPartition("t", p);
    }

    private WatermarkGenerator<Long> planner() {
        WatermarkGenerator<Long> bounded =
                WatermarkStrategy.<Long>forBoundedOutOfOrderness(BOUND).createWatermarkGenerator(null);
        return onEvent ? new OnEvent(bounded) : bounded;
    }

    private static String id(int p) {
        return KafkaPartitionSplit.toSplitId(partition(p));
    }

    /** Partition p's record at `offset` with event time `eventTime` emitted (LagAwareDeserializer). */
    void record(int p, long offset, long eventTime) {
        SplitState split = registry.beforeRecord("t", p);
        generators.get(p).onEvent(eventTime, eventTime, multiplexer.getImmediateOutput(id(p)));
        split.position = offset + 1;
    }

    /** ProgressiveTimestampsAndWatermarks.emitImmediateWatermark. */
    void periodic() {
        generators.forEach((p, g) -> g.onPeriodicEmit(multiplexer.getDeferredOutput(id(p))));
        multiplexer.onPeriodicEmit();
        mainGenerator.onPeriodicEmit(main);
    }

    /** `seconds` later, a lag check, then a periodic emit. */
    void check(int seconds) {
        nanos += seconds * SECOND;
        checker.check();
        periodic();
    }

    /** Lag checks that asked the lag source (with splits quiet long enough). */
    int checks() {
        return lag.calls;
    }

    /** The subtask's output: the combined watermark and whether it is idle. */
    static final class Output implements WatermarkOutput {
        long watermark = Long.MIN_VALUE;
        boolean idle;

        @Override
        public void emitWatermark(Watermark w) {
            watermark = Math.max(watermark, w.getTimestamp());
            idle = false;
        }

        @Override
        public void markIdle() {
            idle = true;
        }

        @Override
        public void markActive() {
            idle = false;
        }
    }

    /** Bounded out-of-orderness that also emits on each record, as the planner's on-event one. */
    private static final class OnEvent implements WatermarkGenerator<Long> {
        private final WatermarkGenerator<Long> bounded;

        OnEvent(WatermarkGenerator<Long> bounded) {
            this.bounded = bounded;
        }

        @Override
        public void onEvent(Long event, long eventTimestamp, WatermarkOutput output) {
            bounded.onEvent(event, eventTimestamp, output);
            bounded.onPeriodicEmit(output);
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {
            bounded.onPeriodicEmit(output);
        }
    }

    private final class Metrics extends UnregisteredMetricsGroup {
        @Override
        public MetricGroup addGroup(String name) {
            return this;
        }

        @Override
        public Counter counter(String name) {
            return counters.computeIfAbsent(name, n -> new SimpleCounter());
        }
    }
}
