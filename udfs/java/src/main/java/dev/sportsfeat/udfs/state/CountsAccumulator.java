package dev.sportsfeat.udfs.state;

import java.io.IOException;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.ObjLongConsumer;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.types.StringValue;

/**
 * TOP_K's accumulator: the exact count of every item, and k (set at the first item; it travels
 * with the state because getValue sees no arguments). State grows with the distinct items.
 *
 * <p>RAW with its own serializer: a count map as (string, varint) pairs, far more compact than
 * Flink's MAP serializer, and a HashMap on the heap for O(1) accumulate.
 */
@DataTypeHint(
        value = "RAW",
        bridgedTo = CountsAccumulator.class,
        rawSerializer = CountsAccumulator.Serializer.class)
public final class CountsAccumulator {
    /** Most frequent first, ties by item ascending. */
    private static final Comparator<Map.Entry<String, long[]>> RANK =
            Comparator.<Map.Entry<String, long[]>>comparingLong(e -> -e.getValue()[0])
                    .thenComparing(Map.Entry::getKey);

    // long[1] as a mutable count: no boxing per accumulate.
    private final Map<String, long[]> counts = new HashMap<>();
    private int k;

    public void add(String item, int k) {
        this.k = k;
        counts.computeIfAbsent(item, i -> new long[1])[0]++;
    }

    public void merge(CountsAccumulator other) {
        k = Math.max(k, other.k);
        other.counts.forEach((item, n) -> counts.computeIfAbsent(item, i -> new long[1])[0] += n[0]);
    }

    /** Calls {@code action} with every item and its count. */
    public void forEachCount(ObjLongConsumer<String> action) {
        counts.forEach((item, n) -> action.accept(item, n[0]));
    }

    /** The k most frequent items in rank order, or null for an empty group. */
    public String[] top() {
        if (counts.isEmpty()) {
            return null;
        }
        // A heap of the best k, worst on top: O(n log k) instead of sorting all items.
        PriorityQueue<Map.Entry<String, long[]>> best = new PriorityQueue<>(RANK.reversed());
        for (Map.Entry<String, long[]> entry : counts.entrySet()) {
            if (best.size() < k) {
                best.add(entry);
            } else if (RANK.compare(entry, best.peek()) < 0) {
                best.poll();
                best.add(entry);
            }
        }
        String[] result = new String[best.size()];
        for (int i = result.length - 1; i >= 0; i--) {
            result[i] = best.poll().getKey();
        }
        return result;
    }

    /** Serializer of {@link CountsAccumulator}: k, size, then (item, count) pairs. */
    public static final class Serializer extends AccumulatorSerializer<CountsAccumulator> {
        private static final long serialVersionUID = 1L;

        @Override
        public CountsAccumulator createInstance() {
            return new CountsAccumulator();
        }

        @Override
        protected void write(CountsAccumulator value, DataOutputView out) throws IOException {
            out.writeInt(value.k);
            out.writeInt(value.counts.size());
            for (Map.Entry<String, long[]> entry : value.counts.entrySet()) {
                StringValue.writeString(entry.getKey(), out);
                VarLong.write(entry.getValue()[0], out);
            }
        }

        @Override
        protected CountsAccumulator read(int version, DataInputView in) throws IOException {
            CountsAccumulator acc = new CountsAccumulator();
            acc.k = in.readInt();
            for (int i = in.readInt(); i > 0; i--) {
                acc.counts.put(StringValue.readString(in), new long[] {VarLong.read(in)});
            }
            return acc;
        }

        @Override
        public Snapshot snapshotConfiguration() {
            return new Snapshot();
        }
    }

    /** Snapshot of {@link Serializer}; part of the savepoint format. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<CountsAccumulator> {
        public Snapshot() {
            super(Serializer::new);
        }
    }
}
