package dev.sportsfeat.udfs.state;

import java.io.IOException;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.types.StringValue;

/**
 * EXACT_DISTINCT's accumulator: the set of distinct values. RAW with its own serializer (a
 * varint size, then the strings), a HashSet on the heap.
 */
@DataTypeHint(
        value = "RAW",
        bridgedTo = DistinctAccumulator.class,
        rawSerializer = DistinctAccumulator.Serializer.class)
public final class DistinctAccumulator {
    private final Set<String> values;

    public DistinctAccumulator() {
        this(new HashSet<>());
    }

    private DistinctAccumulator(Set<String> values) {
        this.values = values;
    }

    public void add(String value) {
        values.add(value);
    }

    public void merge(DistinctAccumulator other) {
        values.addAll(other.values);
    }

    /** The distinct values (a read-only view). */
    public Collection<String> values() {
        return Collections.unmodifiableSet(values);
    }

    public long size() {
        return values.size();
    }

    /** Serializer of {@link DistinctAccumulator}: size, then the values. */
    public static final class Serializer extends AccumulatorSerializer<DistinctAccumulator> {
        private static final long serialVersionUID = 1L;

        @Override
        public DistinctAccumulator createInstance() {
            return new DistinctAccumulator();
        }

        @Override
        protected void write(DistinctAccumulator value, DataOutputView out) throws IOException {
            VarLong.write(value.values.size(), out);
            for (String item : value.values) {
                StringValue.writeString(item, out);
            }
        }

        @Override
        protected DistinctAccumulator read(int version, DataInputView in) throws IOException {
            int size = (int) VarLong.read(in);
            Set<String> values = new HashSet<>((int) (size / 0.75f) + 1); // no rehashing
            for (int i = 0; i < size; i++) {
                values.add(StringValue.readString(in));
            }
            return new DistinctAccumulator(values);
        }

        @Override
        public Snapshot snapshotConfiguration() {
            return new Snapshot();
        }
    }

    /** Snapshot of {@link Serializer}; part of the savepoint format. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<DistinctAccumulator> {
        public Snapshot() {
            super(Serializer::new);
        }
    }
}
