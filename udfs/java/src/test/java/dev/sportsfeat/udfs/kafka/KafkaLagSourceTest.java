package dev.sportsfeat.udfs.kafka;

import static dev.sportsfeat.udfs.kafka.Subtask.partition;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.OffsetAndMetadata;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KafkaLagSourceTest {
    @Test
    void caughtUpMeansNoCommittedRecordBetweenThePositionAndTheEndOffset() throws Exception {
        MockConsumer<byte[], byte[]> kafka = new MockConsumer<>("earliest");
        kafka.updateBeginningOffsets(Map.of(
                partition(0), 0L, partition(1), 0L, partition(2), 0L,
                partition(3), 0L, partition(4), 0L, partition(5), 0L));
        kafka.updateEndOffsets(Map.of(
                partition(0), 10L, partition(1), 12L, partition(2), 12L,
                partition(3), 5L, partition(4), 3L, partition(5), 0L));
        // MockConsumer reports commits of assigned partitions only, and assign() forgets them
        kafka.assign(List.of(partition(3)));
        kafka.commitSync(Map.of(partition(3), new OffsetAndMetadata(5)));
        kafka.schedulePollTask(() -> {
            kafka.addRecord(record(1, 12)); // 10 and 11 are transaction markers
            kafka.addRecord(record(2, 11)); // a record the reader has not read
            kafka.addRecord(record(4, 0));
        });
        try (KafkaLagSource lag = new KafkaLagSource(kafka, "earliest")) {
            Set<?> caughtUp = lag.caughtUp(Map.of(
                    partition(0), 10L, // at the end
                    partition(1), 10L,
                    partition(2), 10L,
                    partition(3), KafkaPartitionSplit.COMMITTED_OFFSET, // committed 5 = end
                    partition(4), KafkaPartitionSplit.COMMITTED_OFFSET, // none: earliest, 0 < 3
                    partition(5), KafkaPartitionSplit.EARLIEST_OFFSET)); // empty partition
            assertEquals(Set.of(partition(0), partition(1), partition(3), partition(5)), caughtUp);
        }
    }

    private static ConsumerRecord<byte[], byte[]> record(int p, long offset) {
        return new ConsumerRecord<>("t", p, offset, new byte[0], new byte[0]);
    }
}
