package dev.sportsfeat.udfs;

import static dev.sportsfeat.udfs.Aggregates.randomRun;
import static dev.sportsfeat.udfs.Aggregates.roundTrip;
import static dev.sportsfeat.udfs.Aggregates.ts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.sportsfeat.udfs.state.CountsAccumulator;
import dev.sportsfeat.udfs.state.DecayAccumulator;
import dev.sportsfeat.udfs.state.DistinctAccumulator;
import dev.sportsfeat.udfs.state.RecentAccumulator;
import dev.sportsfeat.udfs.state.TimedValue;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * TOP_K, EXACT_DISTINCT, LAST_N_DISTINCT, LATEST, EARLIEST and DECAY_SUM give the same result for
 * any arrival order and any merge tree, equal to a brute-force reference.
 */
class OrderIndependenceTest {
    private static final int RUNS = 200;

    /** Rows with few values and few timestamps, so that ties are common. */
    private record Row(String value, long ts, double amount) {}

    private static List<Row> rows(Random random) {
        List<Row> rows = new ArrayList<>();
        int n = 1 + random.nextInt(80);
        for (int i = 0; i < n; i++) {
            String value = random.nextInt(12) == 0 ? null : "v" + random.nextInt(15);
            rows.add(new Row(value, 1_000L * random.nextInt(20), random.nextInt(100) - 30));
        }
        return rows;
    }

    private static List<Row> nonNull(List<Row> rows) {
        return rows.stream().filter(r -> r.value() != null).toList();
    }

    @Test
    void topKIsExactAndOrderIndependent() {
        Random random = new Random(1);
        TopK fn = new TopK();
        UnaryOperator<CountsAccumulator> store =
                acc -> roundTrip(new CountsAccumulator.Serializer(), acc);
        for (int run = 0; run < RUNS; run++) {
            List<Row> rows = rows(random);
            int k = 1 + random.nextInt(5);
            Map<String, Long> counts =
                    nonNull(rows).stream()
                            .collect(Collectors.groupingBy(Row::value, Collectors.counting()));
            String[] expected =
                    counts.entrySet().stream()
                            .sorted(
                                    Map.Entry.<String, Long>comparingByValue()
                                            .reversed()
                                            .thenComparing(Map.Entry.comparingByKey()))
                            .limit(k)
                            .map(Map.Entry::getKey)
                            .toArray(String[]::new);
            CountsAccumulator acc =
                    randomRun(fn, rows, (a, r) -> fn.accumulate(a, r.value(), k), store, random);
            assertArrayEquals(expected.length == 0 ? null : expected, fn.getValue(acc));
        }
    }

    @Test
    void exactDistinctIsExactAndOrderIndependent() {
        Random random = new Random(5);
        ExactDistinct fn = new ExactDistinct();
        UnaryOperator<DistinctAccumulator> store =
                acc -> roundTrip(new DistinctAccumulator.Serializer(), acc);
        for (int run = 0; run < RUNS; run++) {
            List<Row> rows = rows(random);
            long expected = nonNull(rows).stream().map(Row::value).distinct().count();
            DistinctAccumulator acc =
                    randomRun(fn, rows, (a, r) -> fn.accumulate(a, r.value()), store, random);
            assertEquals(expected, fn.getValue(acc));
        }
    }

    @Test
    void exactDistinctMergesOverlappingGroupsAndCountsNoneAsZero() {
        ExactDistinct fn = new ExactDistinct();
        DistinctAccumulator empty = fn.createAccumulator();
        fn.accumulate(empty, null);
        assertEquals(0L, fn.getValue(empty));
        DistinctAccumulator left = fn.createAccumulator();
        DistinctAccumulator right = fn.createAccumulator();
        List.of("a", "b", "a").forEach(v -> fn.accumulate(left, v));
        List.of("b", "c").forEach(v -> fn.accumulate(right, v));
        fn.merge(left, List.of(right, empty, right));
        assertEquals(3L, fn.getValue(left));
        assertEquals(2L, fn.getValue(right));
    }

    @Test
    void lastNDistinctIsExactAndOrderIndependent() {
        Random random = new Random(2);
        LastNDistinct fn = new LastNDistinct();
        UnaryOperator<RecentAccumulator> store =
                acc -> roundTrip(new RecentAccumulator.Serializer(), acc);
        for (int run = 0; run < RUNS; run++) {
            List<Row> rows = rows(random);
            int n = 1 + random.nextInt(5);
            Map<String, Long> latest = new HashMap<>();
            nonNull(rows).forEach(r -> latest.merge(r.value(), r.ts(), Math::max));
            String[] expected =
                    latest.entrySet().stream()
                            .sorted(
                                    Map.Entry.<String, Long>comparingByValue()
                                            .reversed()
                                            .thenComparing(Map.Entry.comparingByKey()))
                            .limit(n)
                            .map(Map.Entry::getKey)
                            .toArray(String[]::new);
            RecentAccumulator acc =
                    randomRun(fn, rows, (a, r) -> fn.accumulate(a, r.value(), ts(r.ts()), n), store, random);
            assertArrayEquals(expected.length == 0 ? null : expected, fn.getValue(acc));
        }
    }

    @Test
    void latestAndEarliestAreOrderIndependent() {
        Random random = new Random(3);
        Latest latest = new Latest();
        Earliest earliest = new Earliest();
        Comparator<Row> byTsThenValue =
                Comparator.comparingLong(Row::ts).thenComparing(Row::value);
        for (int run = 0; run < RUNS; run++) {
            List<Row> rows = rows(random);
            List<Row> present = nonNull(rows);
            String max = present.stream().max(byTsThenValue).map(Row::value).orElse(null);
            String min = present.stream().min(byTsThenValue).map(Row::value).orElse(null);
            TimedValue last =
                    randomRun(latest, rows, (a, r) -> latest.accumulate(a, r.value(), ts(r.ts())),
                            UnaryOperator.identity(), random);
            TimedValue first =
                    randomRun(earliest, rows, (a, r) -> earliest.accumulate(a, r.value(), ts(r.ts())),
                            UnaryOperator.identity(), random);
            assertEquals(max, latest.getValue(last));
            assertEquals(min, earliest.getValue(first));
        }
    }

    @Test
    void decaySumMatchesTheDefinitionInAnyOrder() {
        Random random = new Random(4);
        DecaySum fn = new DecaySum();
        long halfLife = 3_000;
        for (int run = 0; run < RUNS; run++) {
            List<Row> rows = rows(random);
            List<Row> present = nonNull(rows);
            Double expected = null;
            if (!present.isEmpty()) {
                long tMax = present.stream().mapToLong(Row::ts).max().getAsLong();
                expected =
                        present.stream()
                                .mapToDouble(
                                        r -> r.amount() * Math.pow(2, -(double) (tMax - r.ts()) / halfLife))
                                .sum();
            }
            DecayAccumulator acc =
                    randomRun(
                            fn,
                            rows,
                            (a, r) -> fn.accumulate(a, r.value() == null ? null : r.amount(), ts(r.ts()), halfLife),
                            UnaryOperator.identity(),
                            random);
            Double actual = fn.getValue(acc);
            if (expected == null) {
                assertNull(actual);
            } else {
                assertEquals(expected, actual, 1e-9 * Math.max(1, Math.abs(expected)));
            }
        }
    }

    @Test
    void decaySumStaysFiniteAcrossYears() {
        DecaySum fn = new DecaySum();
        DecayAccumulator acc = fn.createAccumulator();
        long year = 365L * 24 * 3600 * 1000;
        fn.accumulate(acc, 1e6, ts(0), 1_000);
        fn.accumulate(acc, 2.0, ts(50 * year), 1_000);
        fn.accumulate(acc, 1e300, ts(-50 * year), 1_000);
        assertEquals(2.0, fn.getValue(acc));
        fn.accumulate(acc, 4.0, ts(50 * year - 1_000), 1_000);
        assertEquals(4.0, fn.getValue(acc));
    }
}
