package dev.sportsfeat.udfs;

import dev.sportsfeat.udfs.LiteralArguments.Rule;
import dev.sportsfeat.udfs.state.RecentAccumulator;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.catalog.DataTypeFactory;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.table.types.inference.TypeInference;

/**
 * {@code LAST_N_DISTINCT(value STRING, ts TIMESTAMP(3), n INT literal) -> ARRAY<STRING>}: the n
 * distinct values with the latest timestamps, each value ranked by its latest ts, most recent
 * first, ties by value ascending; rows with a NULL value or ts are skipped, an empty group
 * gives NULL. Exact and independent of arrival and merge order, with at most n entries of
 * state.
 */
public final class LastNDistinct extends AggregateFunction<String[], RecentAccumulator> {
    @Override
    public RecentAccumulator createAccumulator() {
        return new RecentAccumulator();
    }

    public void accumulate(
            RecentAccumulator acc,
            String value,
            @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData ts,
            int n) {
        if (value != null && ts != null) {
            acc.add(value, ts.getMillisecond(), n);
        }
    }

    public void merge(RecentAccumulator acc, Iterable<RecentAccumulator> others) {
        for (RecentAccumulator other : others) {
            acc.merge(other);
        }
    }

    @Override
    public String[] getValue(RecentAccumulator acc) {
        return acc.values();
    }

    @Override
    public TypeInference getTypeInference(DataTypeFactory typeFactory) {
        return LiteralArguments.require(
                super.getTypeInference(typeFactory),
                Rule.of(2, "n", Integer.class, n -> n >= 1 && n <= 10_000, "an INT from 1 to 10000"));
    }
}
