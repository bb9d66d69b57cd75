package dev.sportsfeat.udfs;

import dev.sportsfeat.udfs.LiteralArguments.Rule;
import dev.sportsfeat.udfs.state.HllAccumulator;
import org.apache.flink.table.catalog.DataTypeFactory;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.table.types.inference.TypeInference;

/**
 * {@code APPROX_DISTINCT(value STRING, lg_k INT literal) -> BIGINT}: the approximate number of
 * distinct non-null values, from a DataSketches HLL sketch with HLL_8 registers (one byte per
 * register, the fastest type to update and merge) and K = 2^lg_k registers, lg_k in 4..21.
 *
 * <p>Error: the relative standard error is about 1.04 / sqrt(K) for merged sketches (0.836 /
 * sqrt(K) while one sketch saw every value), e.g. 1.63% at lg_k = 12, so 99.7% of estimates
 * lie within 3 sigma = 4.9%; at lg_k = 14, 0.81% and 2.4%. Below about K/16 distinct values
 * the sketch is in exact-ish list mode. Empty group: NULL. State: at most 2^lg_k bytes.
 */
public final class ApproxDistinct extends AggregateFunction<Long, HllAccumulator> {
    @Override
    public HllAccumulator createAccumulator() {
        return new HllAccumulator();
    }

    public void accumulate(HllAccumulator acc, String value, int lgK) {
        if (value != null) {
            acc.add(value, lgK);
        }
    }

    public void merge(HllAccumulator acc, Iterable<HllAccumulator> others) {
        for (HllAccumulator other : others) {
            acc.merge(other);
        }
    }

    @Override
    public Long getValue(HllAccumulator acc) {
        return acc.estimate();
    }

    @Override
    public TypeInference getTypeInference(DataTypeFactory typeFactory) {
        return LiteralArguments.require(
                super.getTypeInference(typeFactory),
                Rule.of(1, "lg_k", Integer.class, k -> k >= 4 && k <= 21, "an INT from 4 to 21"));
    }
}
