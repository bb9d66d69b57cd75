package dev.sportsfeat.udfs;

import dev.sportsfeat.udfs.state.DistinctAccumulator;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.AggregateFunction;

/**
 * {@code EXACT_DISTINCT(value STRING) -> BIGINT NOT NULL}: the number of distinct non-null
 * values, 0 for a group without any; COUNT(DISTINCT value) as a UDAF. Its state is one value per
 * window (or slice): closing a window deletes one key, where the built-in's RocksDB MapView
 * seeks past the tombstones of every window closed before it. Batch window aggregations need it
 * too: there the planner's distinct rewrite cannot carry Java UDAFs alongside COUNT(DISTINCT).
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
