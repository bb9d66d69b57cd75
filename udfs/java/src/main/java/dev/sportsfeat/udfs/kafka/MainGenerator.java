package dev.sportsfeat.udfs.kafka;

import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;

/**
 * The generator of the reader's main output, which SourceReaderBase never emits records to.
 * Its watermarks would reach the subtask's output without the per-split minimum, so it emits
 * none. Flink marks the subtask idle only when the main output and all split outputs are idle
 * ({@code ProgressiveTimestampsAndWatermarks.IdlenessManager}): this one follows the splits,
 * idle when every split is (or the reader has none), active again as soon as one is not, so a
 * subtask waking up is active downstream at once, not only when its watermark next rises.
 */
final class MainGenerator<T> implements WatermarkGenerator<T> {
    private final SplitRegistry registry;
    private Boolean idle;

    MainGenerator(SplitRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {}

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
        boolean allIdle = registry.allIdle();
        if (idle == null || idle != allIdle) {
            if (allIdle) {
                output.markIdle();
            } else {
                output.markActive();
            }
            idle = allIdle;
        }
    }
}
