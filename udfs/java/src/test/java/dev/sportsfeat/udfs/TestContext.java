package dev.sportsfeat.udfs;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.table.functions.FunctionContext;

/** A FunctionContext with job parameters and counters that tests can read back. */
final class TestContext extends FunctionContext {
    /** Counters by their path, e.g. {@code sportsfeat.kind.read.source.t.detail.click.records}. */
    final Map<String, SimpleCounter> counters = new HashMap<>();

    private final Map<String, String> parameters;

    TestContext(Map<String, String> parameters) {
        super(null, null, null);
        this.parameters = parameters;
    }

    @Override
    public String getJobParameter(String key, String defaultValue) {
        return parameters.getOrDefault(key, defaultValue);
    }

    @Override
    public MetricGroup getMetricGroup() {
        return new Group("");
    }

    long count(String path) {
        SimpleCounter counter = counters.get(path);
        return counter == null ? 0 : counter.getCount();
    }

    private final class Group extends UnregisteredMetricsGroup {
        private final String path;

        Group(String path) {
            this.path = path;
        }

        @Override
        public MetricGroup addGroup(String name) {
            return new Group(path + name + ".");
        }

        @Override
        public MetricGroup addGroup(String key, String value) {
            return new Group(path + key + "." + value + ".");
        }

        @Override
        public Counter counter(String name) {
            return counters.computeIfAbsent(path + name, p -> new SimpleCounter());
        }
    }
}
