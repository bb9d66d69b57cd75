/**
 * {@code kafka-lag-aware}: Flink's Kafka table source with backlog-aware idleness (issue #16
 * item 8, docs/engine-v2.md section 4).
 *
 * <p>Flink's {@code scan.watermark.idle-timeout} marks a split idle after it emitted nothing
 * for a while, whether or not its partition has unread records, so the watermark can run past
 * a partition that is about to deliver a burst. Here a split that emitted nothing for {@code
 * lag-aware.quiet-after} is <em>quiet</em> only while a lag check (a background Kafka
 * consumer per reader, every {@code lag-aware.check-interval}) confirms it has no committed
 * record left to read. A quiet split is not idle: it emits a proxy watermark, the lowest
 * watermark of the splits the check did not confirm, taken when the check started. Only when
 * every split of the reader is quiet are they marked idle, as Flink would.
 *
 * <p>Pieces: {@link dev.sportsfeat.udfs.kafka.LagAwareKafkaTableFactory} (the connector) makes
 * a {@link dev.sportsfeat.udfs.kafka.LagAwareKafkaTableSource}, whose runtime is a {@link
 * dev.sportsfeat.udfs.kafka.LagAwareSource} around the connector's KafkaSource and {@link
 * dev.sportsfeat.udfs.kafka.LagAwareWatermarks} around the planner's watermark strategy. Per
 * source subtask a {@link dev.sportsfeat.udfs.kafka.SplitRegistry} joins them: the reader adds
 * splits, the record deserializer reports positions, the {@link
 * dev.sportsfeat.udfs.kafka.LagChecker} publishes verdicts, the generators read them.
 */
package dev.sportsfeat.udfs.kafka;
