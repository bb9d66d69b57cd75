package dev.sportsfeat.udfs.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.SourceOperatorFactory;
import org.apache.flink.streaming.api.transformations.SourceTransformation;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.CatalogTable;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ObjectIdentifier;
import org.apache.flink.table.catalog.ResolvedCatalogTable;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.connector.source.DataStreamScanProvider;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.connector.source.ScanTableSource;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DynamicTableFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.util.ExceptionUtils;
import org.apache.flink.util.InstantiationUtil;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LagAwareKafkaTableFactoryTest {
    private static final ClassLoader LOADER = LagAwareKafkaTableFactoryTest.class.getClassLoader();
    private static final ResolvedSchema SCHEMA =
            ResolvedSchema.of(Column.physical("value", DataTypes.BYTES()));

    @Test
    void isFoundByItsIdentifier() {
        assertInstanceOf(
                LagAwareKafkaTableFactory.class,
                FactoryUtil.discoverFactory(LOADER, DynamicTableFactory.class, "kafka-lag-aware"));
    }

    @Test
    void takesTheLagAwareOptions() {
        LagAwareKafkaTableSource source = create(Map.of(
                "lag-aware.quiet-after", "30 s", "lag-aware.check-interval", "500 ms"));
        assertEquals(
                new LagAwareSettings(Duration.ofSeconds(30), Duration.ofMillis(500)),
                source.settings());
        assertEquals(
                new LagAwareSettings(Duration.ofSeconds(10), Duration.ofSeconds(1)),
                create(Map.of()).settings());
    }

    @Test
    void refusesUnknownOptionsAndDurationsThatAreNotPositive() {
        assertThrows(ValidationException.class, () -> create(Map.of("lag-aware.quiet", "30 s")));
        ValidationException e = assertThrows(
                ValidationException.class, () -> create(Map.of("lag-aware.check-interval", "0 s")));
        assertTrue(ExceptionUtils.findThrowableWithMessage(e, "must be positive").isPresent());
    }

    @Test
    void copiesKeepTheSettingsAndTheAbilities() {
        LagAwareKafkaTableSource source = create(Map.of("lag-aware.quiet-after", "30 s"));
        source.applyWatermark(WatermarkStrategy.noWatermarks());
        DynamicTableSource copy = source.copy();
        assertInstanceOf(LagAwareKafkaTableSource.class, copy);
        assertEquals(source, copy);
        assertNotEquals(source, create(Map.of()));
    }

    @Test
    void runsTheConnectorsSourceAndTheLagAwareOnesSharingOneLinkPerSubtask() throws Exception {
        LagAwareKafkaTableSource table = create(Map.of());
        table.applyWatermark(WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofSeconds(5)));
        SourceTransformation<RowData, ?, ?> source = transformation(table);
        assertEquals("KafkaSource-c.d.t", source.getName());
        assertEquals("1_source_kafka", source.getUid());
        assertInstanceOf(LagAwareSource.class, source.getSource());
        assertInstanceOf(LagAwareWatermarks.class, source.getWatermarkStrategy());
        // a subtask deserializes the operator factory: its source and strategy share one link
        SourceOperatorFactory<RowData> factory = InstantiationUtil.clone(
                new SourceOperatorFactory<>(source.getSource(), source.getWatermarkStrategy()));
        Object lagSource = field(factory, "source");
        Object link = field(lagSource, "link");
        assertSame(link, field(field(factory, "watermarkStrategy"), "link"));
        Object deserializer = field(field(lagSource, "kafka"), "deserializationSchema");
        assertInstanceOf(LagAwareDeserializer.class, deserializer);
        assertSame(link, field(deserializer, "link"));
    }

    @Test
    void withoutAWatermarkItIsTheConnectorsSource() throws Exception {
        SourceTransformation<RowData, ?, ?> source = transformation(create(Map.of()));
        assertInstanceOf(KafkaSource.class, source.getSource());
        assertFalse(field(source.getSource(), "deserializationSchema")
                instanceof LagAwareDeserializer);
    }

    private static LagAwareKafkaTableSource create(Map<String, String> extra) {
        Map<String, String> options = new HashMap<>(Map.of(
                "connector", "kafka-lag-aware",
                "topic", "t",
                "properties.bootstrap.servers", "localhost:9092",
                "properties.group.id", "g",
                "scan.startup.mode", "group-offsets",
                "value.format", "raw"));
        options.putAll(extra);
        CatalogTable table = CatalogTable.newBuilder()
                .schema(Schema.newBuilder().fromResolvedSchema(SCHEMA).build())
                .options(options)
                .build();
        return (LagAwareKafkaTableSource) FactoryUtil.createDynamicTableSource(
                null,
                ObjectIdentifier.of("c", "d", "t"),
                new ResolvedCatalogTable(table, SCHEMA),
                Map.of(),
                new Configuration(),
                LOADER,
                true);
    }

    @SuppressWarnings("unchecked")
    private static SourceTransformation<RowData, ?, ?> transformation(
            LagAwareKafkaTableSource table) {
        DataStreamScanProvider provider =
                (DataStreamScanProvider) table.getScanRuntimeProvider(new TypesOnly());
        assertFalse(provider.isBounded());
        return (SourceTransformation<RowData, ?, ?>) provider
                .produceDataStream(
                        name -> Optional.of("1_source_" + name),
                        StreamExecutionEnvironment.getExecutionEnvironment())
                .getTransformation();
    }

    private static Object field(Object owner, String name) throws ReflectiveOperationException {
        for (Class<?> c = owner.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field field = c.getDeclaredField(name);
                field.setAccessible(true);
                return field.get(owner);
            } catch (NoSuchFieldException e) {
                // declared further up
            }
        }
        throw new NoSuchFieldException(name);
    }

    /** The planner's scan context, as far as the raw format and the connector use it. */
    private static final class TypesOnly implements ScanTableSource.ScanContext {
        @Override
        public <T> TypeInformation<T> createTypeInformation(DataType producedDataType) {
            return createTypeInformation(producedDataType.getLogicalType());
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> TypeInformation<T> createTypeInformation(LogicalType producedLogicalType) {
            return (TypeInformation<T>) InternalTypeInfo.<RowData>of(producedLogicalType);
        }

        @Override
        public DynamicTableSource.DataStructureConverter createDataStructureConverter(
                DataType producedDataType) {
            throw new UnsupportedOperationException();
        }
    }
}
