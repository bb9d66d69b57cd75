package dev.sportsfeat.udfs.state;

import java.io.IOException;
import org.apache.datasketches.hll.TgtHllType;
import org.apache.datasketches.hll.Union;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.table.annotation.DataTypeHint;

/**
 * APPROX_DISTINCT's accumulator: a DataSketches HLL {@link Union} (HLL_8 registers), created at
 * the first value so that an empty group stays empty. A Union rather than a sketch because it
 * takes both raw values and other sketches, so accumulate and merge need no conversion.
 *
 * <p>RAW with its own serializer: the state holds the sketch's compact image (a few bytes per
 * distinct value while sparse, 2^lgK bytes once dense) instead of a reflective object graph.
 */
@DataTypeHint(
        value = "RAW",
        bridgedTo = HllAccumulator.class,
        rawSerializer = HllAccumulator.Serializer.class)
public final class HllAccumulator {
    private Union union;

    public void add(String value, int lgK) {
        if (union == null) {
            union = new Union(lgK);
        }
        union.update(value);
    }

    public void merge(HllAccumulator other) {
        if (other.union == null) {
            return;
        }
        if (union == null) {
            union = Union.heapify(other.union.toCompactByteArray());
        } else {
            union.update(other.union.getResult(TgtHllType.HLL_8));
        }
    }

    /** The estimate rounded to a count, or null for an empty group. */
    public Long estimate() {
        return union == null ? null : Math.round(union.getEstimate());
    }

    /** Serializer of {@link HllAccumulator}: presence flag, then the compact sketch image. */
    public static final class Serializer extends AccumulatorSerializer<HllAccumulator> {
        private static final long serialVersionUID = 1L;

        @Override
        public HllAccumulator createInstance() {
            return new HllAccumulator();
        }

        @Override
        protected void write(HllAccumulator value, DataOutputView out) throws IOException {
            out.writeBoolean(value.union != null);
            if (value.union != null) {
                writeBytes(value.union.toCompactByteArray(), out);
            }
        }

        @Override
        protected HllAccumulator read(int version, DataInputView in) throws IOException {
            HllAccumulator acc = new HllAccumulator();
            if (in.readBoolean()) {
                acc.union = Union.heapify(readBytes(in));
            }
            return acc;
        }

        @Override
        public Snapshot snapshotConfiguration() {
            return new Snapshot();
        }
    }

    /** Snapshot of {@link Serializer}; part of the savepoint format. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<HllAccumulator> {
        public Snapshot() {
            super(Serializer::new);
        }
    }
}
