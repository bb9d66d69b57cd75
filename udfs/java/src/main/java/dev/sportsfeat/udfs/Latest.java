package dev.sportsfeat.udfs;

import dev.sportsfeat.udfs.state.TimedValue;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.functions.AggregateFunction;

/**
 * {@code LATEST(value STRING, ts TIMESTAMP(3)) -> STRING}: the value with the greatest ts; of
 * several at that ts, the greatest value. Rows with a NULL value or ts are skipped; an empty
 * group gives NULL. Unlike LAST_VALUE, independent of arrival and merge order.
 */
public final class Latest extends AggregateFunction<String, TimedValue> {
    @Override
    public TimedValue createAccumulator() {
        return new TimedValue();
    }

    public void accumulate(
            TimedValue acc,
            String value,
            @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData ts) {
        if (value != null && ts != null) {
            acc.keepLatest(value, ts.getMillisecond());
        }
    }

    public void merge(TimedValue acc, Iterable<TimedValue> others) {
        for (TimedValue other : others) {
            if (other.value != null) {
                acc.keepLatest(other.value, other.ts);
            }
        }
    }

    @Override
    public String getValue(TimedValue acc) {
        return acc.value;
    }
}
