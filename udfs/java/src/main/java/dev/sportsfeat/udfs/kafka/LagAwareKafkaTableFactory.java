package dev.sportsfeat.udfs.kafka;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.kafka.shaded.org.apache.kafka.common.TopicPartition;
import org.apache.flink.streaming.connectors.kafka.config.BoundedMode;
import org.apache.flink.streaming.connectors.kafka.config.StartupMode;
import org.apache.flink.streaming.connectors.kafka.table.KafkaDynamicSource;
import org.apache.flink.streaming.connectors.kafka.table.KafkaDynamicTableFactory;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.connector.format.DecodingFormat;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.DataType;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Connector {@code kafka-lag-aware}: the {@code kafka} connector's options and behaviour, with
 * backlog-aware idleness for tables with a watermark (see the package documentation) instead
 * of {@code scan.watermark.idle-timeout}, which it ignores. As a sink it is {@code kafka}.
 */
public final class LagAwareKafkaTableFactory extends KafkaDynamicTableFactory {
    public static final String IDENTIFIER = "kafka-lag-aware";

    public static final ConfigOption<Duration> QUIET_AFTER = ConfigOptions.key(
                    "lag-aware.quiet-after")
            .durationType()
            .defaultValue(Duration.ofSeconds(10))
            .withDescription("How long a split emits nothing before a lag check may find it"
                    + " quiet: read to its partition's end, so it stops holding the watermark.");

    public static final ConfigOption<Duration> CHECK_INTERVAL = ConfigOptions.key(
                    "lag-aware.check-interval")
            .durationType()
            .defaultValue(Duration.ofSeconds(1))
            .withDescription("The pause between two lag checks of a source subtask (each reads"
                    + " end offsets of its quiet partitions): a quiet split's watermark trails the"
                    + " others' by about this much.");

    private static final LagAwareSettings DEFAULTS =
            new LagAwareSettings(QUIET_AFTER.defaultValue(), CHECK_INTERVAL.defaultValue());

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        Set<ConfigOption<?>> options = super.optionalOptions();
        options.add(QUIET_AFTER);
        options.add(CHECK_INTERVAL);
        return options;
    }

    @Override
    public DynamicTableSource createDynamicTableSource(Context context) {
        LagAwareKafkaTableSource source =
                (LagAwareKafkaTableSource) super.createDynamicTableSource(context); // validates
        Configuration options = Configuration.fromMap(context.getCatalogTable().getOptions());
        try {
            return source.withSettings(new LagAwareSettings(
                    options.get(QUIET_AFTER), options.get(CHECK_INTERVAL)));
        } catch (IllegalArgumentException e) {
            throw new ValidationException(e.getMessage(), e);
        }
    }

    @Override
    protected KafkaDynamicSource createKafkaTableSource(
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
            Map<TopicPartition, Long> specificEndOffsets,
            long endTimestampMillis,
            String tableIdentifier,
            Integer parallelism) {
        return new LagAwareKafkaTableSource(physicalDataType, keyDecodingFormat,
                valueDecodingFormat, keyProjection, valueProjection, keyPrefix, topics,
                topicPattern, properties, startupMode, specificStartupOffsets,
                startupTimestampMillis, boundedMode, specificEndOffsets, endTimestampMillis,
                tableIdentifier, parallelism, DEFAULTS);
    }
}
