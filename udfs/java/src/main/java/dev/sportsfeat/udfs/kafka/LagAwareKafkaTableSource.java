package dev.sportsfeat.udfs.kafka;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.kafka.shaded.org.apache.kafka.common.TopicPartition;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSource;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.connectors.kafka.config.BoundedMode;
import org.apache.flink.streaming.connectors.kafka.config.StartupMode;
import org.apache.flink.streaming.connectors.kafka.table.KafkaDynamicSource;
import org.apache.flink.table.connector.ProviderContext;
import org.apache.flink.table.connector.format.DecodingFormat;
import org.apache.flink.table.connector.source.DataStreamScanProvider;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.DataType;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * The connector's Kafka table source (metadata, watermark push-down, projections unchanged)
 * whose runtime, when the table has a watermark, is a {@link LagAwareSource} with {@link
 * LagAwareWatermarks}. Name and uid as the connector's: {@code KafkaSource-<table>}, uid from
 * {@code generateUid("kafka")}, so the operator keeps its state.
 */
public final class LagAwareKafkaTableSource extends KafkaDynamicSource {
    private final LagAwareSettings settings;
    private transient KafkaSource<RowData> built; // by createKafkaSource during super's provider

    LagAwareKafkaTableSource(
            DataType physicalDataType,
            DecodingFormat<DeserializationSchema<RowData>> keyDecodingFormat,
            DecodingFormat<DeserializationSchema<RowData>> valueDecodingFormat,
            int[] keyProjection,
            int[] valueProjection,
            String keyPrefix,
            List<String> topics,
            Pattern topicPattern,
            Properties properties,
            StartupMode startupMode,
            Map<TopicPartition, Long> specificStartupOffsets,
            long startupTimestampMillis,
            BoundedMode boundedMode,
            Map<TopicPartition, Long> specificBoundedOffsets,
            long boundedTimestampMillis,
            String tableIdentifier,
            Integer parallelism,
            LagAwareSettings settings) {
        super(physicalDataType, keyDecodingFormat, valueDecodingFormat, keyProjection,
                valueProjection, keyPrefix, topics, topicPattern, properties, startupMode,
                specificStartupOffsets, startupTimestampMillis, boundedMode,
                specificBoundedOffsets, boundedTimestampMillis, false, tableIdentifier,
                parallelism);
        this.settings = settings;
    }

    LagAwareSettings settings() {
        return settings;
    }

    /** This source with other settings (and the abilities applied so far). */
    LagAwareKafkaTableSource withSettings(LagAwareSettings other) {
        LagAwareKafkaTableSource copy = new LagAwareKafkaTableSource(physicalDataType,
                keyDecodingFormat, valueDecodingFormat, keyProjection, valueProjection, keyPrefix,
                topics, topicPattern, properties, startupMode, specificStartupOffsets,
                startupTimestampMillis, boundedMode, specificBoundedOffsets,
                boundedTimestampMillis, tableIdentifier, parallelism, other);
        copy.producedDataType = producedDataType;
        copy.metadataKeys = metadataKeys;
        copy.watermarkStrategy = watermarkStrategy;
        return copy;
    }

    @Override
    public DynamicTableSource copy() {
        return withSettings(settings);
    }

    @Override
    public ScanRuntimeProvider getScanRuntimeProvider(ScanContext context) {
        DataStreamScanProvider connector =
                (DataStreamScanProvider) super.getScanRuntimeProvider(context);
        KafkaSource<RowData> kafka = built;
        built = null;
        if (watermarkStrategy == null) {
            return connector; // no event time, no watermarks to hold
        }
        ReaderLink link = new ReaderLink();
        LagAwareDeserializer.install(kafka, link);
        LagAwareSource<RowData> source = new LagAwareSource<>(kafka, link, settings, properties);
        WatermarkStrategy<RowData> watermarks = new LagAwareWatermarks<>(watermarkStrategy, link);
        return new DataStreamScanProvider() {
            @Override
            public DataStream<RowData> produceDataStream(
                    ProviderContext providerContext, StreamExecutionEnvironment env) {
                DataStreamSource<RowData> stream =
                        env.fromSource(source, watermarks, "KafkaSource-" + tableIdentifier);
                providerContext.generateUid("kafka").ifPresent(stream::uid);
                return stream;
            }

            @Override
            public boolean isBounded() {
                return connector.isBounded();
            }

            @Override
            public Optional<Integer> getParallelism() {
                return connector.getParallelism();
            }
        };
    }

    @Override
    protected KafkaSource<RowData> createKafkaSource(
            DeserializationSchema<RowData> keyDeserialization,
            DeserializationSchema<RowData> valueDeserialization,
            TypeInformation<RowData> producedTypeInfo) {
        built = super.createKafkaSource(keyDeserialization, valueDeserialization, producedTypeInfo);
        return built;
    }

    @Override
    public String asSummaryString() {
        return "Kafka lag-aware table source";
    }

    @Override
    public boolean equals(Object o) {
        return super.equals(o) && settings.equals(((LagAwareKafkaTableSource) o).settings);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), settings);
    }
}
