package dev.sportsfeat.udfs;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.functions.AggregateFunction;

/** Drives UDAFs the way Flink does: accumulate into partials, then merge them. */
final class Aggregates {
    private Aggregates() {}

    static TimestampData ts(long millis) {
        return TimestampData.fromEpochMillis(millis);
    }

    /**
     * The accumulator after a random run: rows shuffled, split into random partials, merged in
     * a random tree, each accumulator passing through {@code store} (e.g. a serializer round
     * trip, as state would do) before it is merged.
     */
    static <R, A> A randomRun(
            AggregateFunction<?, A> fn,
            List<R> rows,
            BiConsumer<A, R> add,
            UnaryOperator<A> store,
            Random random) {
        List<R> shuffled = new ArrayList<>(rows);
        Collections.shuffle(shuffled, random);
        List<A> partials = new ArrayList<>();
        int parts = 1 + random.nextInt(6);
        for (int p = 0; p < parts; p++) {
            partials.add(fn.createAccumulator());
        }
        for (R row : shuffled) {
            add.accept(partials.get(random.nextInt(parts)), row);
        }
        while (partials.size() > 1) {
            A into = partials.remove(random.nextInt(partials.size()));
            int others = 1 + random.nextInt(partials.size());
            List<A> merged = new ArrayList<>();
            for (int i = 0; i < others; i++) {
                merged.add(store.apply(partials.remove(random.nextInt(partials.size()))));
            }
            merge(fn, into, merged);
            partials.add(store.apply(into));
        }
        return partials.get(0);
    }

    /** Calls the UDAF's {@code merge(acc, Iterable<acc>)}, found reflectively as Flink does. */
    static <A> void merge(AggregateFunction<?, A> fn, A acc, List<A> others) {
        try {
            fn.getClass().getMethod("merge", acc.getClass(), Iterable.class).invoke(fn, acc, others);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    static <A> A roundTrip(TypeSerializer<A> serializer, A value) {
        try {
            DataOutputSerializer out = new DataOutputSerializer(64);
            serializer.serialize(value, out);
            return serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
