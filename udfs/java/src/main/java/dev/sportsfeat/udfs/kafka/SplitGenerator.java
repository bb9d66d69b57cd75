package dev.sportsfeat.udfs.kafka;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;

/**
 * One split's watermarks: the planner's generator on the split's records, raised to the
 * proxy of a valid verdict while the split is quiet, idle while every split of the reader is.
 * Never goes backwards. The planner's own idleness ({@code scan.watermark.idle-timeout},
 * {@code table.exec.source.idle-timeout}, or a compiled plan's) is ignored: idleness is
 * decided here.
 */
final class SplitGenerator<T> implements WatermarkGenerator<T> {
    private final WatermarkGenerator<T> planner;
    private final SplitRegistry registry;
    private final Own own = new Own();
    private SplitState split;
    private long emitted = Long.MIN_VALUE;

    SplitGenerator(WatermarkGenerator<T> planner, SplitRegistry registry) {
        this.planner = planner;
        this.registry = registry;
    }

    void bind(SplitState state) {
        split = state;
    }

    @Override
    public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {
        if (split == null || registry.current() != split) {
            SplitState current = registry.current();
            throw new IllegalStateException("a watermark generator paired with split "
                    + (split == null ? "none" : split.splitId) + " got a record of "
                    + (current == null ? "no split" : current.splitId)
                    + ": Flink no longer creates split outputs in the order SplitRegistry assumes");
        }
        planner.onEvent(event, eventTimestamp, own);
        // the planner emits on events (scan.watermark.emit.strategy); after a wake from all
        // quiet, the periodic emit does it, once the idle splits hold again
        if (own.watermark > emitted && !registry.anyIdle()) {
            emit(output, own.watermark);
        }
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
        planner.onPeriodicEmit(own);
        if (split == null) { // created before SourceOperator handed the reader its split
            emit(output, own.watermark);
            return;
        }
        split.ownWatermark = own.watermark;
        Verdict verdict = split.validVerdict();
        if (verdict == null) {
            emit(output, own.watermark);
        } else if (verdict.allQuiet() && registry.quietSince(verdict.check())) {
            if (!split.idle) {
                output.markIdle();
                registry.setIdle(split, true);
            }
        } else {
            emit(output, Math.max(own.watermark, verdict.proxy()));
        }
    }

    private void emit(WatermarkOutput output, long watermark) {
        emitted = Math.max(emitted, watermark);
        output.emitWatermark(new Watermark(emitted)); // also makes the split's output active
        if (split != null) {
            registry.setIdle(split, false);
        }
    }

    /** The planner generator's output: keeps the highest watermark, drops its idleness. */
    private static final class Own implements WatermarkOutput {
        long watermark = Long.MIN_VALUE;

        @Override
        public void emitWatermark(Watermark w) {
            watermark = Math.max(watermark, w.getTimestamp());
        }

        @Override
        public void markIdle() {}

        @Override
        public void markActive() {}
    }
}
