package dev.sportsfeat.udfs;

import dev.sportsfeat.udfs.LiteralArguments.Rule;
import dev.sportsfeat.udfs.state.CountsAccumulator;
import org.apache.flink.table.catalog.DataTypeFactory;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.table.types.inference.TypeInference;

/**
 * {@code TOP_K(item STRING, k INT literal) -> ARRAY<STRING>}: the k most frequent non-null
 * items by exact count, most frequent first, ties by item ascending (Java string order);
 * fewer if the group has fewer distinct items, NULL if it has none. Independent of the order
 * of accumulate and merge calls. State grows with the group's distinct items.
 */
public final class TopK extends AggregateFunction<String[], CountsAccumulator> {
    @Override
    public CountsAccumulator createAccumulator() {
        return new CountsAccumulator();
    }

    public void accumulate(CountsAccumulator acc, String item, int k) {
        if (item != null) {
            acc.add(item, k);
        }
    }

    public void merge(CountsAccumulator acc, Iterable<CountsAccumulator> others) {
        for (CountsAccumulator other : others) {
            acc.merge(other);
        }
    }

    @Override
    public String[] getValue(CountsAccumulator acc) {
        return acc.top();
    }

    @Override
    public TypeInference getTypeInference(DataTypeFactory typeFactory) {
        return LiteralArguments.require(
                super.getTypeInference(typeFactory),
                Rule.of(1, "k", Integer.class, k -> k >= 1 && k <= 10_000, "an INT from 1 to 10000"));
    }
}
