package dev.sportsfeat.udfs;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

/**
 * Counters named {@code records} under {@code sportsfeat.kind.<kind>.source.<source>.detail.<detail>}
 * (key-value groups: labels kind, source and detail in Prometheus), created on first use and
 * cached in nested maps so that a lookup allocates nothing.
 */
final class RecordCounters {
    private final MetricGroup root;
    private final Map<String, Map<String, Map<String, Counter>>> counters = new HashMap<>();

    RecordCounters(MetricGroup operatorGroup) {
        this.root = operatorGroup.addGroup("sportsfeat");
    }

    Counter get(String kind, String source, String detail) {
        Map<String, Counter> byDetail =
                counters.computeIfAbsent(kind, k -> new HashMap<>())
                        .computeIfAbsent(source, s -> new HashMap<>());
        Counter counter = byDetail.get(detail);
        if (counter == null) {
            counter =
                    root.addGroup("kind", String.valueOf(kind))
                            .addGroup("source", String.valueOf(source))
                            .addGroup("detail", String.valueOf(detail))
                            .counter("records");
            byDetail.put(detail, counter);
        }
        return counter;
    }
}
