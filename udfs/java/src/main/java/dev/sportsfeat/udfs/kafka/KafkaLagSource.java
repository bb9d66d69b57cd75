package dev.sportsfeat.udfs.kafka;

import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.Consumer;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.flink.kafka.shaded.org.apache.kafka.common.TopicPartition;
import org.apache.flink.kafka.shaded.org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * Lag from Kafka: a consumer of its own (the source's properties: bootstrap, security,
 * isolation level, group id for committed offsets; it only ever assigns, never joins the
 * group or commits), used by the checker thread alone.
 *
 * <p>A partition is caught up when its position is at or past the end offset ({@code
 * endOffsets}: the last stable offset under read_committed). A reader's position is the offset
 * after its last emitted record, so transaction markers (and aborted records) after it keep it
 * below the end offset for good; then the consumer reads from the position: no committed
 * record before the end offset means caught up.
 */
final class KafkaLagSource implements LagSource {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final Duration POLL = Duration.ofMillis(100);

    private final Consumer<byte[], byte[]> consumer;
    private final boolean resetToEarliest;

    /** A consumer with the source's properties, as client {@code clientId}. */
    static KafkaLagSource of(Properties source, String clientId) {
        Properties properties = new Properties();
        properties.putAll(source);
        properties.setProperty(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        properties.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // reading from a position only has to see the first batch after it
        properties.setProperty(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10");
        properties.setProperty(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "16384");
        return new KafkaLagSource(
                new KafkaConsumer<>(
                        properties, new ByteArrayDeserializer(), new ByteArrayDeserializer()),
                source.getProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG));
    }

    /** {@code autoOffsetReset}: the source's, for partitions without a committed offset. */
    KafkaLagSource(Consumer<byte[], byte[]> consumer, String autoOffsetReset) {
        this.consumer = consumer;
        this.resetToEarliest = "earliest".equalsIgnoreCase(autoOffsetReset);
    }

    @Override
    public Set<TopicPartition> caughtUp(Map<TopicPartition, Long> positions) {
        Map<TopicPartition, Long> from = resolve(positions);
        Map<TopicPartition, Long> ends = consumer.endOffsets(from.keySet(), TIMEOUT);
        Set<TopicPartition> caughtUp = new HashSet<>();
        Map<TopicPartition, Long> behind = new HashMap<>();
        from.forEach((tp, offset) -> {
            if (offset >= ends.get(tp)) {
                caughtUp.add(tp);
            } else {
                behind.put(tp, offset);
            }
        });
        if (!behind.isEmpty()) {
            caughtUp.addAll(nothingCommittedBefore(behind, ends));
        }
        return caughtUp;
    }

    /** Sentinel positions resolved as the reader's consumer resolved them; unresolvable left out. */
    private Map<TopicPartition, Long> resolve(Map<TopicPartition, Long> positions) {
        Map<TopicPartition, Long> from = new HashMap<>();
        List<TopicPartition> earliest = new ArrayList<>();
        Set<TopicPartition> committed = new HashSet<>();
        positions.forEach((tp, position) -> {
            if (position >= 0) {
                from.put(tp, position);
            } else if (position == KafkaPartitionSplit.EARLIEST_OFFSET) {
                earliest.add(tp);
            } else if (position == KafkaPartitionSplit.COMMITTED_OFFSET) {
                committed.add(tp);
            }
        });
        if (!committed.isEmpty()) {
            Map<TopicPartition, OffsetAndMetadata> offsets = consumer.committed(committed, TIMEOUT);
            for (TopicPartition tp : committed) {
                OffsetAndMetadata offset = offsets.get(tp);
                if (offset != null) {
                    from.put(tp, offset.offset());
                } else if (resetToEarliest) {
                    earliest.add(tp);
                } // latest: where the reader started is gone; the split holds until it emits
            }
        }
        if (!earliest.isEmpty()) {
            from.putAll(consumer.beginningOffsets(earliest, TIMEOUT));
        }
        return from;
    }

    /** The partitions whose first committed record at or after `from` is at or past its end. */
    private Set<TopicPartition> nothingCommittedBefore(
            Map<TopicPartition, Long> from, Map<TopicPartition, Long> ends) {
        Set<TopicPartition> caughtUp = new HashSet<>();
        Set<TopicPartition> open = new HashSet<>(from.keySet());
        consumer.assign(open);
        from.forEach(consumer::seek);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        try {
            while (!open.isEmpty() && System.nanoTime() < deadline) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
                for (TopicPartition tp : records.partitions()) {
                    ConsumerRecord<byte[], byte[]> first = records.records(tp).get(0);
                    if (open.remove(tp) && first.offset() >= ends.get(tp)) {
                        caughtUp.add(tp);
                    }
                }
                for (Iterator<TopicPartition> it = open.iterator(); it.hasNext(); ) {
                    TopicPartition tp = it.next();
                    if (consumer.position(tp, TIMEOUT) >= ends.get(tp)) {
                        caughtUp.add(tp); // only markers or aborted records in between
                        it.remove();
                    }
                }
            }
        } finally {
            consumer.assign(List.of());
        }
        return caughtUp;
    }

    @Override
    public void close() {
        consumer.close(CloseOptions.timeout(TIMEOUT));
    }
}
