package dev.sportsfeat.udfs.state;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ObjLongConsumer;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.types.StringValue;

/**
 * LAST_N_DISTINCT's accumulator: at most n values, each with its latest timestamp, and n (set
 * at the first value). Keeping only the best n is exact, also across merges: a value evicted
 * by n better-ranked ones can only fall further behind them, as timestamps only grow.
 *
 * <p>RAW with its own serializer: n (string, long) pairs, and a HashMap on the heap.
 */
@DataTypeHint(
        value = "RAW",
        bridgedTo = RecentAccumulator.class,
        rawSerializer = RecentAccumulator.Serializer.class)
public final class RecentAccumulator {
    /** Most recent first, ties by value ascending. */
    private static final Comparator<Map.Entry<String, long[]>> RANK =
            Comparator.<Map.Entry<String, long[]>>comparingLong(e -> -e.getValue()[0])
                    .thenComparing(Map.Entry::getKey);

    // long[1] as a mutable timestamp: no boxing per accumulate.
    private final Map<String, long[]> latest = new HashMap<>();
    private int n;

    public void add(String value, long tsMillis, int n) {
        this.n = n;
        long[] ts = latest.get(value);
        if (ts != null) {
            ts[0] = Math.max(ts[0], tsMillis);
        } else {
            latest.put(value, new long[] {tsMillis});
            if (latest.size() > n) {
                evictWorst();
            }
        }
    }

    public void merge(RecentAccumulator other) {
        n = Math.max(n, other.n);
        other.latest.forEach((value, ts) -> add(value, ts[0], n));
    }

    /** Calls {@code action} with every kept value and its latest timestamp. */
    public void forEachLatest(ObjLongConsumer<String> action) {
        latest.forEach((value, ts) -> action.accept(value, ts[0]));
    }

    /** The values in rank order, or null for an empty group. */
    public String[] values() {
        if (latest.isEmpty()) {
            return null;
        }
        List<Map.Entry<String, long[]>> entries = new ArrayList<>(latest.entrySet());
        entries.sort(RANK);
        String[] result = new String[entries.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = entries.get(i).getKey();
        }
        return result;
    }

    private void evictWorst() {
        Map.Entry<String, long[]> worst = null;
        for (Map.Entry<String, long[]> entry : latest.entrySet()) {
            if (worst == null || RANK.compare(entry, worst) > 0) {
                worst = entry;
            }
        }
        latest.remove(worst.getKey());
    }

    /** Serializer of {@link RecentAccumulator}: n, size, then (value, timestamp) pairs. */
    public static final class Serializer extends AccumulatorSerializer<RecentAccumulator> {
        private static final long serialVersionUID = 1L;

        @Override
        public RecentAccumulator createInstance() {
            return new RecentAccumulator();
        }

        @Override
        protected void write(RecentAccumulator value, DataOutputView out) throws IOException {
            out.writeInt(value.n);
            out.writeInt(value.latest.size());
            for (Map.Entry<String, long[]> entry : value.latest.entrySet()) {
                StringValue.writeString(entry.getKey(), out);
                out.writeLong(entry.getValue()[0]);
            }
        }

        @Override
        protected RecentAccumulator read(int version, DataInputView in) throws IOException {
            RecentAccumulator acc = new RecentAccumulator();
            acc.n = in.readInt();
            for (int i = in.readInt(); i > 0; i--) {
                acc.latest.put(StringValue.readString(in), new long[] {in.readLong()});
            }
            return acc;
        }

        @Override
        public Snapshot snapshotConfiguration() {
            return new Snapshot();
        }
    }

    /** Snapshot of {@link Serializer}; part of the savepoint format. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<RecentAccumulator> {
        public Snapshot() {
            super(Serializer::new);
        }
    }
}
