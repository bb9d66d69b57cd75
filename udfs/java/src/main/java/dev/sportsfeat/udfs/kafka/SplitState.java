package dev.sportsfeat.udfs.kafka;

import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.kafka.shaded.org.apache.kafka.common.TopicPartition;

/** One split as its generator (task thread) and the lag checker (its own thread) see it. */
final class SplitState {
    final String splitId;
    final TopicPartition partition;

    /**
     * The offset the split reads next: after its last emitted record, else the split's starting
     * offset, which may be a {@link KafkaPartitionSplit} sentinel (EARLIEST_OFFSET,
     * COMMITTED_OFFSET) until a record is emitted. Written by the task thread.
     */
    volatile long position;

    /** The watermark of the split's own records, as its generator last computed it. */
    volatile long ownWatermark = Long.MIN_VALUE;

    /** The latest check's verdict, null unless that check confirmed the split caught up. */
    volatile Verdict verdict;

    /** Whether the split's generator has marked it idle (task thread only). */
    boolean idle;

    /** The position the checker saw last and when it changed (checker thread only). */
    long seenPosition = Long.MIN_VALUE;

    long seenChangeNanos;

    SplitState(KafkaPartitionSplit split) {
        splitId = split.splitId();
        partition = split.getTopicPartition();
        position = split.getStartingOffset();
    }

    /** The verdict while it holds (the split emitted nothing since its check started), else null. */
    Verdict validVerdict() {
        Verdict v = verdict;
        return v != null && v.position() == position ? v : null;
    }
}
