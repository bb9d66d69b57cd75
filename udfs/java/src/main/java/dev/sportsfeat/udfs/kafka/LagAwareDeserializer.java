package dev.sportsfeat.udfs.kafka;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.flink.util.Collector;

import java.io.IOException;
import java.lang.reflect.Field;

/**
 * The connector's record deserializer, reporting each record's split before it is emitted
 * (so its generator can check its pairing) and the split's position after. Runs on the task
 * thread: KafkaRecordEmitter calls it for every record, then updates the split state.
 */
final class LagAwareDeserializer<T> implements KafkaRecordDeserializationSchema<T> {
    private static final long serialVersionUID = 1L;

    private final KafkaRecordDeserializationSchema<T> delegate;
    private final ReaderLink link;
    private transient SplitRegistry registry;

    private LagAwareDeserializer(KafkaRecordDeserializationSchema<T> delegate, ReaderLink link) {
        this.delegate = delegate;
        this.link = link;
    }

    /**
     * Wraps the deserializer of a built KafkaSource. The connector has no hook for it (the
     * table source builds it in a private method and KafkaSource keeps it in a private field),
     * so this sets the field; it fails at planning if a connector version renames it.
     */
    @SuppressWarnings("unchecked")
    static <T> void install(KafkaSource<T> source, ReaderLink link) {
        try {
            Field field = KafkaSource.class.getDeclaredField("deserializationSchema");
            field.setAccessible(true);
            field.set(source, new LagAwareDeserializer<>(
                    (KafkaRecordDeserializationSchema<T>) field.get(source), link));
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException(
                    "kafka-lag-aware cannot wrap this Kafka connector's deserializer", e);
        }
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) throws Exception {
        registry = link.registry(); // KafkaSource.createReader opens it; LagAwareSource bound the link
        delegate.open(context);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<T> out)
            throws IOException {
        SplitState split = registry.beforeRecord(record.topic(), record.partition());
        delegate.deserialize(record, out);
        split.position = record.offset() + 1;
    }

    @Override
    public TypeInformation<T> getProducedType() {
        return delegate.getProducedType();
    }
}
