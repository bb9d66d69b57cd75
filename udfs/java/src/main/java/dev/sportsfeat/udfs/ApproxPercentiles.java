package dev.sportsfeat.udfs;

import dev.sportsfeat.udfs.LiteralArguments.Rule;
import dev.sportsfeat.udfs.state.KllAccumulator;
import java.util.Arrays;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.catalog.DataTypeFactory;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.table.types.inference.TypeInference;

/**
 * {@code APPROX_PERCENTILES(value DOUBLE, fractions STRING literal, k INT literal) ->
 * ARRAY<DOUBLE>}: for each fraction of {@code '0.5,0.9,0.99'}, in that order, the smallest
 * value whose rank (share of values &lt;= it) is at least the fraction, from a DataSketches KLL
 * doubles sketch with accuracy parameter k (8..65535; 200 is the usual choice).
 *
 * <p>Error: exact while the group holds at most k values; beyond that the returned value's
 * true rank is within the normalized rank error of the fraction with 99% confidence, about
 * 1.33% for k = 200 (0.67% for k = 400; it scales as ~1/k). Compaction is randomized, so a
 * large group's result can differ between runs within that bound. Empty group: NULL.
 */
public final class ApproxPercentiles extends AggregateFunction<Double[], KllAccumulator> {
    private transient StringData parsedText;
    private transient double[] parsed;

    @Override
    public KllAccumulator createAccumulator() {
        return new KllAccumulator();
    }

    public void accumulate(
            KllAccumulator acc,
            Double value,
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData fractions,
            int k) {
        if (value == null) {
            return;
        }
        if (acc.isEmpty()) {
            acc.start(fractions(fractions), k);
        }
        acc.add(value);
    }

    public void merge(KllAccumulator acc, Iterable<KllAccumulator> others) {
        for (KllAccumulator other : others) {
            acc.merge(other);
        }
    }

    @Override
    public Double[] getValue(KllAccumulator acc) {
        return acc.quantiles();
    }

    /** The parsed fractions: parsed again only if the literal's text differs from the last one. */
    private double[] fractions(StringData text) {
        if (!text.equals(parsedText)) {
            String fractions = text.toString();
            parsed = parse(fractions);
            parsedText = StringData.fromString(fractions); // a copy: the argument may be reused
        }
        return parsed;
    }

    static double[] parse(String fractions) {
        return Arrays.stream(fractions.split(","))
                .mapToDouble(f -> Double.parseDouble(f.trim()))
                .toArray();
    }

    static boolean valid(String fractions) {
        try {
            double[] values = parse(fractions);
            return values.length > 0 && Arrays.stream(values).allMatch(f -> f >= 0 && f <= 1);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    @Override
    public TypeInference getTypeInference(DataTypeFactory typeFactory) {
        return LiteralArguments.require(
                super.getTypeInference(typeFactory),
                Rule.of(1, "fractions", String.class, ApproxPercentiles::valid,
                        "comma-separated numbers from 0 to 1, like '0.5,0.9'"),
                Rule.of(2, "k", Integer.class, k -> k >= 8 && k <= 65535, "an INT from 8 to 65535"));
    }
}
