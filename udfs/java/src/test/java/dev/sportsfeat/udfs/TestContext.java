package dev.sportsfeat.udfs;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.table.functions.FunctionContext;

/**
 * A FunctionContext whose counters tests can read back, or, like a source's watermark generator,
 * one with a source reader's metric group.
 */
final class TestContext extends FunctionContext {
    /** Counters by their path, e.g. {@code sportsfeat.kind.read.source.t.detail.click.records}. */
    final Map<String, SimpleCounter> counters = new HashMap<>();

    private final boolean sourceReader;

    TestContext() {
        this(false);
    }

    private TestContext(boolean sourceReader) {
        super(null, null, null);
        this.sourceReader = sourceReader;
    }

    /** The context of a source's watermark generator (no job parameters, its own metrics). */
    static TestContext watermarkGenerator() {
        return new TestContext(true);
    }

    @Override
    public MetricGroup getMetricGroup() {
        return sourceReader
                ? UnregisteredMetricsGroup.createSourceReaderMetricGroup()
                : new Group("");
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
