package dev.sportsfeat.udfs;

import static dev.sportsfeat.udfs.Aggregates.randomRun;
import static dev.sportsfeat.udfs.Aggregates.roundTrip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sportsfeat.udfs.state.HllAccumulator;
import dev.sportsfeat.udfs.state.KllAccumulator;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.apache.datasketches.kll.KllSketch;
import org.apache.flink.table.data.StringData;
import org.junit.jupiter.api.Test;

/** APPROX_DISTINCT and APPROX_PERCENTILES stay within their documented error bounds. */
class SketchTest {
    @Test
    void approxDistinctIsWithinThreeSigmaOn100kItems() {
        ApproxDistinct fn = new ApproxDistinct();
        List<String> items = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            items.add("user-" + i);
            items.add("user-" + (i / 2)); // duplicates must not count
        }
        // 3 sigma at lg_k = 12: 3 * 1.04 / sqrt(4096) = 4.875%
        double bound = 3 * 1.04 / Math.sqrt(1 << 12);
        Random random = new Random(5);
        for (int run = 0; run < 3; run++) {
            HllAccumulator acc =
                    randomRun(
                            fn,
                            items,
                            (a, item) -> fn.accumulate(a, item, 12),
                            a -> roundTrip(new HllAccumulator.Serializer(), a),
                            random);
            long estimate = fn.getValue(acc);
            double error = Math.abs(estimate - 100_000) / 100_000.0;
            assertTrue(error <= bound, "estimate " + estimate + " is off by " + error);
        }
    }

    @Test
    void approxDistinctOfNothingIsNullAndNullsAreSkipped() {
        ApproxDistinct fn = new ApproxDistinct();
        HllAccumulator acc = fn.createAccumulator();
        fn.accumulate(acc, null, 12);
        assertNull(fn.getValue(acc));
        Aggregates.merge(fn, acc, List.of(fn.createAccumulator()));
        assertNull(fn.getValue(acc));
        fn.accumulate(acc, "a", 12);
        fn.accumulate(acc, "a", 12);
        fn.accumulate(acc, "b", 12);
        assertEquals(2L, fn.getValue(acc)); // small cardinalities are exact
    }

    @Test
    void approxPercentilesRanksAreWithinTheNormalizedRankError() {
        ApproxPercentiles fn = new ApproxPercentiles();
        int n = 100_000;
        List<Double> values = IntStream.range(0, n).mapToObj(i -> (double) i).toList();
        double[] fractions = {0.01, 0.25, 0.5, 0.9, 0.99};
        double bound = KllSketch.getNormalizedRankError(200, false);
        Random random = new Random(6);
        for (int run = 0; run < 3; run++) {
            KllAccumulator acc =
                    randomRun(
                            fn,
                            values,
                            (a, v) -> fn.accumulate(a, v, text("0.01, 0.25,0.5,0.9,0.99"), 200),
                            a -> roundTrip(new KllAccumulator.Serializer(), a),
                            random);
            Double[] quantiles = fn.getValue(acc);
            assertEquals(fractions.length, quantiles.length);
            for (int i = 0; i < fractions.length; i++) {
                double rank = (quantiles[i] + 1) / n; // share of values <= the quantile
                assertTrue(
                        Math.abs(rank - fractions[i]) <= bound,
                        "fraction " + fractions[i] + " got rank " + rank + ", bound " + bound);
            }
        }
    }

    @Test
    void approxPercentilesAreExactBelowK() {
        ApproxPercentiles fn = new ApproxPercentiles();
        KllAccumulator acc = fn.createAccumulator();
        assertNull(fn.getValue(acc));
        for (double v : new double[] {5, 1, 4, 2, 3, 6, 7, 8, 9, 10}) {
            fn.accumulate(acc, v, text("0.5,0.9,0,1"), 200);
        }
        fn.accumulate(acc, null, text("0.5,0.9,0,1"), 200);
        assertArrayEquals(new Double[] {5.0, 9.0, 1.0, 10.0}, fn.getValue(acc));
    }

    @Test
    void fractionsAreValidatedAtPlanning() {
        assertTrue(ApproxPercentiles.valid("0.5, 0.9"));
        assertTrue(!ApproxPercentiles.valid("0.5,1.5"));
        assertTrue(!ApproxPercentiles.valid("half"));
        assertTrue(!ApproxPercentiles.valid(""));
    }

    private static StringData text(String s) {
        return StringData.fromString(s);
    }
}
