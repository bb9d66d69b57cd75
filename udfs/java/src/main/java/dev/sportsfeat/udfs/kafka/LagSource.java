package dev.sportsfeat.udfs.kafka;

import org.apache.flink.kafka.shaded.org.apache.kafka.common.TopicPartition;

import java.util.Map;
import java.util.Set;

/** Where the lag checker learns which partitions a reader has read to the end. */
interface LagSource extends AutoCloseable {
    /**
     * The partitions with no committed record at or after their position, up to end offsets
     * (read_committed: last stable offsets) read during this call. A position is the next
     * offset to read or a KafkaPartitionSplit sentinel (EARLIEST_OFFSET, COMMITTED_OFFSET);
     * a partition whose position cannot be resolved is not caught up.
     */
    Set<TopicPartition> caughtUp(Map<TopicPartition, Long> positions) throws Exception;

    @Override
    void close();
}
