package dev.sportsfeat.udfs.state;

import java.io.IOException;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.apache.datasketches.hll.Union;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.table.annotation.DataTypeHint;

/**
 * APPROX_DISTINCT's accumulator: a DataSketches HLL_8 sketch, created at the first value so
 * that an empty group stays empty. A sketch rather than a Union: it heapifies about twice as
 * fast (state backends like RocksDB do that on every record), and until its first merge it
 * keeps the more accurate HIP estimator. Merges go through a short-lived Union.
 *
 * <p>RAW with its own serializer: the state holds the sketch's compact image (a few bytes per
 * distinct value while sparse, 2^lgK bytes once dense) instead of a reflective object graph.
 */
@DataTypeHint(
        value = "RAW",
        bridgedTo = HllAccumulator.class,
        rawSerializer = HllAccumulator.Serializer.class)
public final class HllAccumulator {
    private HllSketch sketch;

    public void add(String value, int lgK) {
        if (sketch == null) {
            sketch = new HllSketch(lgK, TgtHllType.HLL_8);
        }
        sketch.update(value);
    }

    public void merge(HllAccumulator other) {
        if (other.sketch == null) {
            return;
        }
        if (sketch == null) {
            sketch = other.sketch.copy();
            return;
        }
        Union union = new Union(Math.max(sketch.getLgConfigK(), other.sketch.getLgConfigK()));
        union.update(sketch);
        union.update(other.sketch);
        sketch = union.getResult(TgtHllType.HLL_8);
    }

    /** The sketch's compact image (DataSketches' format, readable in every language), or null while empty. */
    public byte[] image() {
        return sketch == null ? null : sketch.toCompactByteArray();
    }

    /** The estimate rounded to a count, or null for an empty group. */
    public Long estimate() {
        return sketch == null ? null : Math.round(sketch.getEstimate());
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
            out.writeBoolean(value.sketch != null);
            if (value.sketch != null) {
                writeBytes(value.sketch.toCompactByteArray(), out);
            }
        }

        @Override
        protected HllAccumulator read(int version, DataInputView in) throws IOException {
            HllAccumulator acc = new HllAccumulator();
            if (in.readBoolean()) {
                acc.sketch = HllSketch.heapify(readBytes(in));
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
