package dev.sportsfeat.udfs;

import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * {@code METER_RECORD(kind STRING, source STRING, detail STRING) -> BOOLEAN NOT NULL}: counts
 * the row in the Flink counter {@code records} of group sportsfeat / kind / source / detail
 * and returns TRUE, so it can sit in a WHERE clause (reads per event type, dead letters per
 * reason, late events per feature group). Non-deterministic so the planner neither folds nor
 * drops it.
 */
public final class MeterRecord extends ScalarFunction {
    private transient RecordCounters counters;

    @Override
    public void open(FunctionContext context) {
        counters = new RecordCounters(context.getMetricGroup());
    }

    public boolean eval(String kind, String source, String detail) {
        counters.get(kind, source, detail).inc();
        return true;
    }

    @Override
    public boolean isDeterministic() {
        return false;
    }
}
