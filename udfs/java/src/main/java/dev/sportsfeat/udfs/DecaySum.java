package dev.sportsfeat.udfs;

import dev.sportsfeat.udfs.LiteralArguments.Rule;
import dev.sportsfeat.udfs.state.DecayAccumulator;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.catalog.DataTypeFactory;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.table.types.inference.TypeInference;

/**
 * {@code DECAY_SUM(value DOUBLE, ts TIMESTAMP(3), half_life_ms BIGINT literal) -> DOUBLE}: the
 * sum of value * 2^(-(t_max - ts) / half_life_ms), with t_max the group's latest ts: the
 * exponentially decayed score as of the group's latest event. Rows with a NULL value or ts are
 * skipped; an empty group gives NULL. Stable over any time span (see {@link DecayAccumulator});
 * independent of arrival and merge order up to floating-point rounding.
 */
public final class DecaySum extends AggregateFunction<Double, DecayAccumulator> {
    @Override
    public DecayAccumulator createAccumulator() {
        return new DecayAccumulator();
    }

    public void accumulate(
            DecayAccumulator acc,
            Double value,
            @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData ts,
            long halfLifeMs) {
        if (value != null && ts != null) {
            acc.add(value, ts.getMillisecond(), halfLifeMs);
        }
    }

    public void merge(DecayAccumulator acc, Iterable<DecayAccumulator> others) {
        for (DecayAccumulator other : others) {
            acc.merge(other);
        }
    }

    @Override
    public Double getValue(DecayAccumulator acc) {
        return acc.seen ? acc.sum : null;
    }

    @Override
    public TypeInference getTypeInference(DataTypeFactory typeFactory) {
        return LiteralArguments.require(
                super.getTypeInference(typeFactory),
                Rule.of(2, "half_life_ms", Long.class, h -> h > 0, "a positive BIGINT"));
    }
}
