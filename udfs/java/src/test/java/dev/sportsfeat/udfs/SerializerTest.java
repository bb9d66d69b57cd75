package dev.sportsfeat.udfs;

import static dev.sportsfeat.udfs.Aggregates.ts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sportsfeat.udfs.state.AccumulatorSerializer;
import dev.sportsfeat.udfs.state.CountsAccumulator;
import dev.sportsfeat.udfs.state.DistinctAccumulator;
import dev.sportsfeat.udfs.state.HllAccumulator;
import dev.sportsfeat.udfs.state.KllAccumulator;
import dev.sportsfeat.udfs.state.RecentAccumulator;
import java.io.IOException;
import java.util.function.Function;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.table.data.StringData;
import org.junit.jupiter.api.Test;

/** The RAW accumulator serializers round-trip, copy deeply, and restore from their snapshots. */
class SerializerTest {
    @Test
    void hll() throws IOException {
        ApproxDistinct fn = new ApproxDistinct();
        HllAccumulator acc = fn.createAccumulator();
        for (int i = 0; i < 5_000; i++) {
            fn.accumulate(acc, "x" + i, 12);
        }
        check(new HllAccumulator.Serializer(), acc, fn.createAccumulator(), fn::getValue);
    }

    @Test
    void kll() throws IOException {
        ApproxPercentiles fn = new ApproxPercentiles();
        KllAccumulator acc = fn.createAccumulator();
        for (int i = 0; i < 5_000; i++) {
            fn.accumulate(acc, (double) i, StringData.fromString("0.5,0.99"), 200);
        }
        check(new KllAccumulator.Serializer(), acc, fn.createAccumulator(), a -> fn.getValue(a));
    }

    @Test
    void counts() throws IOException {
        TopK fn = new TopK();
        CountsAccumulator acc = fn.createAccumulator();
        for (int i = 0; i < 1_000; i++) {
            fn.accumulate(acc, "item" + (i % 37) + "é".repeat(i % 3), 5);
        }
        check(new CountsAccumulator.Serializer(), acc, fn.createAccumulator(), fn::getValue);
    }

    @Test
    void distinct() throws IOException {
        ExactDistinct fn = new ExactDistinct();
        DistinctAccumulator acc = fn.createAccumulator();
        for (int i = 0; i < 1_000; i++) {
            fn.accumulate(acc, "v" + (i % 211) + "é".repeat(i % 2));
        }
        check(new DistinctAccumulator.Serializer(), acc, fn.createAccumulator(), fn::getValue);
    }

    @Test
    void recent() throws IOException {
        LastNDistinct fn = new LastNDistinct();
        RecentAccumulator acc = fn.createAccumulator();
        for (int i = 0; i < 1_000; i++) {
            fn.accumulate(acc, "v" + (i % 53), ts(-5_000L + i * 7L), 10);
        }
        check(new RecentAccumulator.Serializer(), acc, fn.createAccumulator(), fn::getValue);
    }

    private static <A> void check(
            AccumulatorSerializer<A> serializer, A full, A empty, Function<A, Object> result)
            throws IOException {
        for (A acc : java.util.List.of(full, empty)) {
            Object expected = result.apply(acc);
            A copy = serializer.copy(acc);
            assertNotSame(acc, copy);
            assertResult(expected, result.apply(copy));
            assertResult(expected, result.apply(Aggregates.roundTrip(serializer, acc)));
            DataOutputSerializer out = new DataOutputSerializer(64);
            serializer.serialize(acc, out);
            DataOutputSerializer copied = new DataOutputSerializer(64);
            serializer.copy(new DataInputDeserializer(out.getCopyOfBuffer()), copied);
            assertArrayEquals(out.getCopyOfBuffer(), copied.getCopyOfBuffer());
        }
        TypeSerializer<A> restored = restore(serializer.snapshotConfiguration());
        assertEquals(serializer, restored);
        assertTrue(
                restored.snapshotConfiguration()
                        .resolveSchemaCompatibility(serializer.snapshotConfiguration())
                        .isCompatibleAsIs());
    }

    private static <A> TypeSerializer<A> restore(TypeSerializerSnapshot<A> snapshot)
            throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);
        TypeSerializerSnapshot<A> read =
                TypeSerializerSnapshot.readVersionedSnapshot(
                        new DataInputDeserializer(out.getCopyOfBuffer()),
                        SerializerTest.class.getClassLoader());
        return read.restoreSerializer();
    }

    private static void assertResult(Object expected, Object actual) {
        if (expected instanceof Object[] array) {
            assertArrayEquals(array, (Object[]) actual);
        } else {
            assertEquals(expected, actual);
        }
    }
}
