package dev.sportsfeat.udfs;

import dev.sportsfeat.udfs.state.DistinctAccumulator;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.AggregateFunction;

/**
 * {@code EXACT_DISTINCT(value STRING) -> BIGINT NOT NULL}: the number of distinct non-null
 * values, 0 for a group without any; COUNT(DISTINCT value) as a UDAF. Batch window aggregations
 * need it: there the planner's distinct rewrite cannot carry Java UDAFs alongside a built-in
 * COUNT(DISTINCT). State holds every distinct value.
 */
@FunctionHint(output = @DataTypeHint("BIGINT NOT NULL"))
public final class ExactDistinct extends AggregateFunction<Long, DistinctAccumulator> {
    @Override
    public DistinctAccumulator createAccumulator() {
        return new DistinctAccumulator();
    }

    public void accumulate(DistinctAccumulator acc, String value) {
        if (value != null) {
            acc.add(value);
        }
    }

    public void merge(DistinctAccumulator acc, Iterable<DistinctAccumulator> others) {
        for (DistinctAccumulator other : others) {
            acc.merge(other);
        }
    }

    @Override
    public Long getValue(DistinctAccumulator acc) {
        return acc.size();
    }
}
