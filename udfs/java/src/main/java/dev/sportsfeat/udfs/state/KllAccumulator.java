package dev.sportsfeat.udfs.state;

import java.io.IOException;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.memory.Memory;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.table.annotation.DataTypeHint;

/**
 * APPROX_PERCENTILES' accumulator: a DataSketches KLL doubles sketch plus the requested ranks,
 * both set at the first value. The ranks travel with the state because getValue sees no
 * arguments, and a two-phase aggregation's global step only ever merges.
 *
 * <p>RAW with its own serializer: the sketch's compact image is far smaller than a reflective
 * object graph (about 4 KiB at k=200 once it holds many values; exact and smaller below k).
 */
@DataTypeHint(
        value = "RAW",
        bridgedTo = KllAccumulator.class,
        rawSerializer = KllAccumulator.Serializer.class)
public final class KllAccumulator {
    private KllDoublesSketch sketch;
    private double[] ranks;

    public boolean isEmpty() {
        return sketch == null;
    }

    /** Makes an empty accumulator ready for values. */
    public void start(double[] fractions, int k) {
        sketch = KllDoublesSketch.newHeapInstance(k);
        ranks = fractions;
    }

    public void add(double value) {
        sketch.update(value);
    }

    public void merge(KllAccumulator other) {
        if (other.sketch == null) {
            return;
        }
        if (sketch == null) {
            sketch = KllDoublesSketch.heapify(Memory.wrap(other.sketch.toByteArray()));
            ranks = other.ranks;
        } else {
            sketch.merge(other.sketch);
        }
    }

    /** The sketch's image (DataSketches' format, readable in every language), or null while empty. */
    public byte[] image() {
        return sketch == null || sketch.isEmpty() ? null : sketch.toByteArray();
    }

    /** The quantiles at the requested ranks (inclusive search), or null for an empty group. */
    public Double[] quantiles() {
        if (sketch == null) {
            return null;
        }
        Double[] result = new Double[ranks.length];
        for (int i = 0; i < ranks.length; i++) {
            result[i] = sketch.getQuantile(ranks[i]);
        }
        return result;
    }

    /** Serializer of {@link KllAccumulator}: ranks (none when empty), then the sketch image. */
    public static final class Serializer extends AccumulatorSerializer<KllAccumulator> {
        private static final long serialVersionUID = 1L;

        @Override
        public KllAccumulator createInstance() {
            return new KllAccumulator();
        }

        @Override
        protected void write(KllAccumulator value, DataOutputView out) throws IOException {
            if (value.sketch == null) {
                out.writeInt(-1);
                return;
            }
            out.writeInt(value.ranks.length);
            for (double rank : value.ranks) {
                out.writeDouble(rank);
            }
            writeBytes(value.sketch.toByteArray(), out);
        }

        @Override
        protected KllAccumulator read(int version, DataInputView in) throws IOException {
            KllAccumulator acc = new KllAccumulator();
            int count = in.readInt();
            if (count >= 0) {
                acc.ranks = new double[count];
                for (int i = 0; i < count; i++) {
                    acc.ranks[i] = in.readDouble();
                }
                acc.sketch = KllDoublesSketch.heapify(Memory.wrap(readBytes(in)));
            }
            return acc;
        }

        @Override
        public Snapshot snapshotConfiguration() {
            return new Snapshot();
        }
    }

    /** Snapshot of {@link Serializer}; part of the savepoint format. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<KllAccumulator> {
        public Snapshot() {
            super(Serializer::new);
        }
    }
}
