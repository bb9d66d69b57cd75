package dev.sportsfeat.udfs.kafka;

import org.apache.flink.api.common.eventtime.TimestampAssigner;
import org.apache.flink.api.common.eventtime.TimestampAssignerSupplier;
import org.apache.flink.api.common.eventtime.WatermarkAlignmentParams;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

/**
 * The planner's watermark strategy with each generator wrapped for the split Flink creates it
 * for ({@link SplitRegistry#generator}); timestamps and alignment stay the planner's.
 */
final class LagAwareWatermarks<T> implements WatermarkStrategy<T> {
    private static final long serialVersionUID = 1L;

    private final WatermarkStrategy<T> planner;
    private final ReaderLink link;

    LagAwareWatermarks(WatermarkStrategy<T> planner, ReaderLink link) {
        this.planner = planner;
        this.link = link;
    }

    @Override
    public WatermarkGenerator<T> createWatermarkGenerator(
            WatermarkGeneratorSupplier.Context context) {
        return link.registry().generator(planner.createWatermarkGenerator(context));
    }

    @Override
    public TimestampAssigner<T> createTimestampAssigner(
            TimestampAssignerSupplier.Context context) {
        return planner.createTimestampAssigner(context);
    }

    @Override
    public WatermarkAlignmentParams getAlignmentParameters() {
        return planner.getAlignmentParameters();
    }
}
