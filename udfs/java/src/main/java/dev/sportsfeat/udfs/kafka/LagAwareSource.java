package dev.sportsfeat.udfs.kafka;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.KafkaSourceEnumState;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.streaming.api.lineage.LineageVertex;
import org.apache.flink.streaming.api.lineage.LineageVertexProvider;

import java.util.Properties;

/**
 * The connector's KafkaSource (enumerator, splits and their state unchanged, so a savepoint of
 * the plain connector restores) whose readers are {@link LagAwareReader}s.
 */
final class LagAwareSource<T>
        implements Source<T, KafkaPartitionSplit, KafkaSourceEnumState>,
                ResultTypeQueryable<T>,
                LineageVertexProvider {
    private static final long serialVersionUID = 1L;

    private final KafkaSource<T> kafka;
    private final ReaderLink link;
    private final LagAwareSettings settings;
    private final Properties properties;

    /** `kafka` has its deserializer wrapped for `link` ({@link LagAwareDeserializer#install}). */
    LagAwareSource(
            KafkaSource<T> kafka, ReaderLink link, LagAwareSettings settings, Properties properties) {
        this.kafka = kafka;
        this.link = link;
        this.settings = settings;
        this.properties = properties;
    }

    @Override
    public SourceReader<T, KafkaPartitionSplit> createReader(SourceReaderContext context)
            throws Exception {
        SplitRegistry registry = new SplitRegistry();
        link.bind(registry); // before the connector's reader opens the deserializer
        String name = properties.getProperty("group.id", "kafka") + "-lag-check-"
                + context.getIndexOfSubtask();
        SourceReader<T, KafkaPartitionSplit> reader = null;
        try {
            reader = kafka.createReader(context);
            LagChecker checker = new LagChecker(
                    registry,
                    KafkaLagSource.of(properties, name),
                    settings.quietAfter(),
                    System::nanoTime,
                    context.metricGroup());
            return new LagAwareReader<>(reader, registry, checker, link, settings, name);
        } catch (Exception e) {
            link.unbind(registry);
            if (reader != null) {
                reader.close();
            }
            throw e;
        }
    }

    @Override
    public Boundedness getBoundedness() {
        return kafka.getBoundedness();
    }

    @Override
    public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> createEnumerator(
            SplitEnumeratorContext<KafkaPartitionSplit> context) {
        return kafka.createEnumerator(context);
    }

    @Override
    public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> restoreEnumerator(
            SplitEnumeratorContext<KafkaPartitionSplit> context, KafkaSourceEnumState state)
            throws Exception {
        return kafka.restoreEnumerator(context, state);
    }

    @Override
    public SimpleVersionedSerializer<KafkaPartitionSplit> getSplitSerializer() {
        return kafka.getSplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<KafkaSourceEnumState> getEnumeratorCheckpointSerializer() {
        return kafka.getEnumeratorCheckpointSerializer();
    }

    @Override
    public TypeInformation<T> getProducedType() {
        return kafka.getProducedType();
    }

    @Override
    public LineageVertex getLineageVertex() {
        return kafka.getLineageVertex();
    }
}
