package dev.sportsfeat.udfs.tiles;

import dev.sportsfeat.udfs.state.CountsAccumulator;
import dev.sportsfeat.udfs.state.DecayAccumulator;
import dev.sportsfeat.udfs.state.DistinctAccumulator;
import dev.sportsfeat.udfs.state.HllAccumulator;
import dev.sportsfeat.udfs.state.KllAccumulator;
import dev.sportsfeat.udfs.state.RecentAccumulator;
import dev.sportsfeat.udfs.state.TimedValue;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.ObjLongConsumer;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.Row;

/**
 * The kinds of partial aggregate a tile holds, their state and their IR rows. The ordinal is
 * part of the savepoint format: append new kinds, never reorder.
 *
 * <ul>
 *   <li>NUMERIC: n non-null values, sum, min, max, m2 (squared deviations from the mean), for
 *       COUNT (value 1), SUM, MIN, MAX, AVG, VARIANCE, STDDEV.
 *   <li>DISTINCT: items, every distinct value.
 *   <li>HLL, KLL: sketch, a DataSketches image (HLL_8 compact, KllDoublesSketch).
 *   <li>EARLIEST, LATEST: items = [value], ts (ties: the smaller / greater value).
 *   <li>LAST_N: items, item_times: the {@code param} distinct values seen most recently.
 *   <li>TOP_K: items, item_counts: every value's exact count (a top-K is not mergeable).
 *   <li>DECAY: n, sum = the decayed sum as of ts (the latest event time), half-life {@code param}.
 * </ul>
 */
enum PartKind {
    NUMERIC {
        @Override
        Part create(int param) {
            return new Numeric();
        }

        @Override
        Part read(int param, DataInputView in) throws IOException {
            return Numeric.read(in);
        }
    },
    DISTINCT {
        @Override
        Part create(int param) {
            return new Accumulated<>(new DistinctAccumulator(), DISTINCTS) {
                @Override
                public void add(Object value, long ts) {
                    acc.add((String) value);
                }

                @Override
                public Row ir() {
                    return Part.ir(null, null, null, null, null, null,
                            acc.values().toArray(String[]::new), null, null, null);
                }
            };
        }
    },
    HLL {
        @Override
        Part create(int param) {
            return new Accumulated<>(new HllAccumulator(), HLLS) {
                @Override
                public void add(Object value, long ts) {
                    acc.add((String) value, param);
                }

                @Override
                public Row ir() {
                    return Part.ir(null, null, null, null, null, null, null, null, null, acc.image());
                }
            };
        }
    },
    KLL {
        @Override
        Part create(int param) {
            KllAccumulator kll = new KllAccumulator();
            kll.start(new double[0], param);
            return kll(kll);
        }

        @Override
        Part read(int param, DataInputView in) throws IOException {
            return kll(KLLS.deserialize(in));
        }

        private Part kll(KllAccumulator kll) {
            return new Accumulated<>(kll, KLLS) {
                @Override
                public void add(Object value, long ts) {
                    acc.add((Double) value);
                }

                @Override
                public Row ir() {
                    return Part.ir(null, null, null, null, null, null, null, null, null, acc.image());
                }
            };
        }
    },
    EARLIEST {
        @Override
        Part create(int param) {
            return new Timed(false);
        }

        @Override
        Part read(int param, DataInputView in) throws IOException {
            return Timed.read(false, in);
        }
    },
    LATEST {
        @Override
        Part create(int param) {
            return new Timed(true);
        }

        @Override
        Part read(int param, DataInputView in) throws IOException {
            return Timed.read(true, in);
        }
    },
    LAST_N {
        @Override
        Part create(int param) {
            return recent(new RecentAccumulator(), param);
        }

        @Override
        Part read(int param, DataInputView in) throws IOException {
            return recent(RECENTS.deserialize(in), param);
        }

        private Part recent(RecentAccumulator recent, int n) {
            return new Accumulated<>(recent, RECENTS) {
                @Override
                public void add(Object value, long ts) {
                    acc.add((String) value, ts, n);
                }

                @Override
                public Row ir() {
                    return itemsRow(acc::forEachLatest, false);
                }
            };
        }
    },
    TOP_K {
        @Override
        Part create(int param) {
            return counts(new CountsAccumulator());
        }

        @Override
        Part read(int param, DataInputView in) throws IOException {
            return counts(COUNTS.deserialize(in));
        }

        private Part counts(CountsAccumulator counts) {
            return new Accumulated<>(counts, COUNTS) {
                @Override
                public void add(Object value, long ts) {
                    acc.add((String) value, 0); // k matters only for a v1 top(); tiles carry all counts
                }

                @Override
                public Row ir() {
                    return itemsRow(acc::forEachCount, true);
                }
            };
        }
    },
    DECAY {
        @Override
        Part create(int param) {
            return new Decay(new DecayAccumulator(), 0, param);
        }

        @Override
        Part read(int param, DataInputView in) throws IOException {
            return Decay.read(in, param);
        }
    };

    private static final DistinctAccumulator.Serializer DISTINCTS = new DistinctAccumulator.Serializer();
    private static final HllAccumulator.Serializer HLLS = new HllAccumulator.Serializer();
    private static final KllAccumulator.Serializer KLLS = new KllAccumulator.Serializer();
    private static final RecentAccumulator.Serializer RECENTS = new RecentAccumulator.Serializer();
    private static final CountsAccumulator.Serializer COUNTS = new CountsAccumulator.Serializer();

    /** An IR row of items and a long per item: their counts, or else their latest times. */
    private static Row itemsRow(Consumer<ObjLongConsumer<String>> forEach, boolean counts) {
        List<String> items = new ArrayList<>();
        List<Long> values = new ArrayList<>();
        forEach.accept((item, value) -> {
            items.add(item);
            values.add(value);
        });
        Long[] longs = values.toArray(Long[]::new);
        return Part.ir(null, null, null, null, null, null, items.toArray(String[]::new),
                counts ? longs : null, counts ? null : longs, null);
    }

    /** An empty part; {@code param} is the kind's lg_k, k, n or half-life (ms). */
    abstract Part create(int param);

    /** Reads what {@link Part#write} wrote. */
    Part read(int param, DataInputView in) throws IOException {
        Part part = create(param);
        ((Accumulated<?>) part).readContent(in);
        return part;
    }

    /** A part kept in one of the v1 aggregate functions' accumulators, with its serializer. */
    private abstract static class Accumulated<A> implements Part {
        protected A acc;
        private final TypeSerializer<A> serializer;

        Accumulated(A acc, TypeSerializer<A> serializer) {
            this.acc = acc;
            this.serializer = serializer;
        }

        @Override
        public final void write(DataOutputView out) throws IOException {
            serializer.serialize(acc, out);
        }

        final void readContent(DataInputView in) throws IOException {
            acc = serializer.deserialize(in);
        }
    }

    /** NUMERIC: Welford's running mean and m2, merged on read by Chan's formula. */
    private static final class Numeric implements Part {
        private long n;
        private double sum;
        private double min = Double.POSITIVE_INFINITY;
        private double max = Double.NEGATIVE_INFINITY;
        private double m2;

        @Override
        public void add(Object value, long ts) {
            double x = ((Number) value).doubleValue();
            double before = n == 0 ? 0.0 : sum / n;
            n++;
            sum += x;
            m2 += (x - before) * (x - sum / n);
            min = Math.min(min, x);
            max = Math.max(max, x);
        }

        @Override
        public Row ir() {
            boolean empty = n == 0;
            return Part.ir(n, sum, empty ? null : min, empty ? null : max, m2,
                    null, null, null, null, null);
        }

        @Override
        public void write(DataOutputView out) throws IOException {
            out.writeLong(n);
            out.writeDouble(sum);
            out.writeDouble(min);
            out.writeDouble(max);
            out.writeDouble(m2);
        }

        static Numeric read(DataInputView in) throws IOException {
            Numeric part = new Numeric();
            part.n = in.readLong();
            part.sum = in.readDouble();
            part.min = in.readDouble();
            part.max = in.readDouble();
            part.m2 = in.readDouble();
            return part;
        }
    }

    /** EARLIEST / LATEST: the winning value and its event time. */
    private static final class Timed implements Part {
        private final boolean latest;
        private final TimedValue winner = new TimedValue();

        Timed(boolean latest) {
            this.latest = latest;
        }

        @Override
        public void add(Object value, long ts) {
            if (latest) {
                winner.keepLatest((String) value, ts);
            } else {
                winner.keepEarliest((String) value, ts);
            }
        }

        @Override
        public Row ir() {
            if (winner.value == null) {
                return Part.ir(null, null, null, null, null, null, null, null, null, null);
            }
            return Part.ir(null, null, null, null, null, winner.ts,
                    new String[] {winner.value}, null, null, null);
        }

        @Override
        public void write(DataOutputView out) throws IOException {
            out.writeBoolean(winner.value != null);
            if (winner.value != null) {
                out.writeUTF(winner.value);
                out.writeLong(winner.ts);
            }
        }

        static Timed read(boolean latest, DataInputView in) throws IOException {
            Timed part = new Timed(latest);
            if (in.readBoolean()) {
                part.winner.value = in.readUTF();
                part.winner.ts = in.readLong();
            }
            return part;
        }
    }

    /** DECAY: the decayed sum as of the latest event time, and the number of values. */
    private static final class Decay implements Part {
        private final DecayAccumulator acc;
        private long n;
        private final long halfLifeMs;

        Decay(DecayAccumulator acc, long n, long halfLifeMs) {
            this.acc = acc;
            this.n = n;
            this.halfLifeMs = halfLifeMs;
        }

        @Override
        public void add(Object value, long ts) {
            acc.add(((Number) value).doubleValue(), ts, halfLifeMs);
            n++;
        }

        @Override
        public Row ir() {
            if (!acc.seen) {
                return Part.ir(0L, null, null, null, null, null, null, null, null, null);
            }
            return Part.ir(n, acc.sum, null, null, null, acc.refMs, null, null, null, null);
        }

        @Override
        public void write(DataOutputView out) throws IOException {
            out.writeLong(n);
            out.writeBoolean(acc.seen);
            out.writeDouble(acc.sum);
            out.writeLong(acc.refMs);
        }

        static Decay read(DataInputView in, long halfLifeMs) throws IOException {
            long n = in.readLong();
            DecayAccumulator acc = new DecayAccumulator();
            acc.seen = in.readBoolean();
            acc.sum = in.readDouble();
            acc.refMs = in.readLong();
            acc.halfLifeMs = halfLifeMs;
            return new Decay(acc, n, halfLifeMs);
        }
    }
}
