package dev.sportsfeat.udfs.kafka;

import org.apache.flink.kafka.shaded.org.apache.kafka.common.TopicPartition;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** End offsets by partition, as a lag check would read them; or a broker that cannot answer. */
final class FakeLag implements LagSource {
    final Map<TopicPartition, Long> ends = new HashMap<>();
    boolean failing;
    int calls;

    @Override
    public Set<TopicPartition> caughtUp(Map<TopicPartition, Long> positions) {
        calls++;
        if (failing) {
            throw new IllegalStateException("broker unreachable");
        }
        Set<TopicPartition> caughtUp = new HashSet<>();
        positions.forEach((tp, position) -> {
            if (position >= ends.getOrDefault(tp, 0L)) {
                caughtUp.add(tp);
            }
        });
        return caughtUp;
    }

    @Override
    public void close() {}
}
