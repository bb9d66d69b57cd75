package dev.sportsfeat.udfs.kafka;

import static dev.sportsfeat.udfs.kafka.Subtask.partition;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The quiet-split logic against issue #16 item 8 (docs/engine-v2.md section 4). */
class LagAwareWatermarksTest {
    private static final long T = 1_760_000_000_000L; // event time, ms
    private static final long LAG = 5_001; // bounded out-of-orderness 5 s: watermark = max - 5 s - 1

    @Test
    void aBurstAfterAQuietSpellIsOnTimeOnThePartitionFetchedLast() {
        Subtask s = new Subtask(2);
        s.record(0, 100, T);
        s.record(1, 100, T);
        s.lag.ends.put(partition(0), 101L);
        s.lag.ends.put(partition(1), 101L);
        for (int i = 0; i < 60; i++) { // a minute without records: both caught up, idle
            s.check(1);
        }
        assertTrue(s.output.idle);
        assertEquals(T - LAG, s.output.watermark);
        // the burst: 6 minutes of event time on both partitions; the reader gets partition 1's
        // first, while partition 0's are written but not fetched yet
        s.lag.ends.put(partition(0), 461L);
        s.lag.ends.put(partition(1), 461L);
        for (int i = 0; i < 360; i++) {
            s.record(1, 101 + i, T + 60_000 + i * 1_000L);
            s.periodic();
        }
        assertFalse(s.main.idle); // the subtask is active again downstream
        assertEquals(T - LAG, s.output.watermark); // split 0 holds at its verdict's proxy
        s.check(1); // partition 0 has backlog: no verdict, it holds at its own watermark
        assertEquals(T - LAG, s.output.watermark);
        long newest = Long.MIN_VALUE;
        for (int i = 0; i < 360; i++) { // partition 0's records, up to 3 s out of order
            long eventTime = T + 60_000 + i * 1_000L - (i % 4) * 1_000L;
            assertTrue(eventTime > s.output.watermark, "record " + i + " of partition 0 is late");
            s.record(0, 101 + i, eventTime);
            s.periodic();
            newest = Math.max(newest, eventTime);
        }
        assertEquals(newest - LAG, s.output.watermark); // partition 0's own, now the lowest
    }

    @Test
    void onEventARecordWakingAnIdleSubtaskWaitsForTheIdleSplitsToHold() {
        Subtask s = new Subtask(2, true);
        s.record(0, 100, T);
        s.record(1, 100, T);
        s.lag.ends.put(partition(0), 101L);
        s.lag.ends.put(partition(1), 101L);
        for (int i = 0; i < 60; i++) {
            s.check(1);
        }
        assertTrue(s.output.idle);
        s.lag.ends.put(partition(0), 201L);
        s.lag.ends.put(partition(1), 201L);
        s.record(1, 101, T + 300_000); // partition 1 fetched first, 5 minutes on
        assertEquals(T - LAG, s.output.watermark); // no jump while partition 0 is idle
        s.periodic(); // partition 0 active again at its proxy
        for (int i = 1; i < 100; i++) {
            s.record(1, 101 + i, T + 300_000 + i * 1_000L);
            assertEquals(T - LAG, s.output.watermark, "record " + i + " of partition 1");
        }
        s.record(0, 101, T + 300_000);
        assertEquals(T + 300_000 - LAG, s.output.watermark);
    }

    @Test
    void aPartitionWithBacklogHoldsTheWatermark() {
        Subtask s = new Subtask(2);
        s.lag.ends.put(partition(0), 150L); // 50 records partition 0's reader has not read
        for (int i = 0; i < 360; i++) {
            s.record(1, 100 + i, T + i * 1_000L);
            s.check(1);
        }
        assertEquals(Long.MIN_VALUE, s.output.watermark);
        assertEquals(350, s.checks()); // each check after 10 s asked about partition 0: behind
        for (int i = 0; i < 50; i++) {
            s.record(0, 100 + i, T + i * 1_000L);
        }
        s.periodic();
        assertEquals(T + 49_000 - LAG, s.output.watermark);
    }

    @Test
    void aQuietCaughtUpPartitionLetsTheWatermarkFollowTheOthersOneCheckBehind() {
        Subtask s = new Subtask(2); // partition 0 never has a record
        for (int i = 0; i < 60; i++) {
            s.record(1, 100 + i, T + i * 1_000L);
            s.check(1);
            if (i < 10) {
                assertEquals(Long.MIN_VALUE, s.output.watermark, "quiet for less than 10 s");
            }
        }
        // the last check started when split 1's watermark came from record 58
        assertEquals(T + 58_000 - LAG, s.output.watermark);
    }

    @Test
    void aFailingCheckHoldsAndWarnsUntilOneSucceeds() {
        Subtask s = new Subtask(2);
        int offset = 100;
        for (; offset < 130; offset++) {
            s.record(1, offset, T + offset * 1_000L);
            s.check(1);
        }
        long held = s.output.watermark;
        assertEquals(T + 128_000 - LAG, held);
        s.lag.failing = true;
        for (; offset < 140; offset++) {
            s.record(1, offset, T + offset * 1_000L);
            s.check(1);
        }
        assertEquals(held, s.output.watermark);
        assertEquals(10, s.counters.get("checkFailures").getCount());
        s.lag.failing = false;
        s.record(1, offset, T + offset * 1_000L);
        s.check(1);
        assertEquals(T + 139_000 - LAG, s.output.watermark);
    }

    @Test
    void whenEverySplitIsQuietTheSubtaskIsIdleAndWakesOnARecord() {
        Subtask s = new Subtask(2);
        s.record(0, 100, T);
        s.record(1, 100, T + 2_000);
        s.lag.ends.put(partition(0), 101L);
        s.lag.ends.put(partition(1), 101L);
        s.periodic();
        assertFalse(s.main.idle);
        for (int i = 0; i < 11; i++) {
            s.check(1);
        }
        assertTrue(s.output.idle);
        assertTrue(s.main.idle); // so Flink's IdlenessManager marks the subtask idle
        assertEquals(T + 2_000 - LAG, s.output.watermark); // all idle: the highest split's
        s.record(0, 101, T + 4_000);
        s.periodic();
        assertFalse(s.main.idle);
        assertEquals(T + 2_000 - LAG, s.output.watermark);
    }

    @Test
    void noSplitsIsIdle() {
        Subtask s = new Subtask(0);
        s.check(1);
        assertTrue(s.main.idle);
    }

    @Test
    void generatorsPairWithSplitsInEitherOrderAndCheckEveryRecord() {
        SplitRegistry registry = new SplitRegistry(); // restore: reader.addSplits, then outputs
        registry.add(new KafkaPartitionSplit(partition(0), 100));
        registry.add(new KafkaPartitionSplit(partition(1), 100));
        registry.generator(planner()); // the main output's
        WatermarkGenerator<Long> first = registry.generator(planner());
        WatermarkGenerator<Long> second = registry.generator(planner());
        Subtask.Output output = new Subtask.Output();
        registry.beforeRecord("t", 1);
        second.onEvent(1L, T, output);
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> first.onEvent(1L, T, output));
        assertTrue(e.getMessage().contains("paired with split t-0 got a record of t-1"));
        assertThrows(IllegalStateException.class, () -> registry.beforeRecord("t", 2));
    }

    private static WatermarkGenerator<Long> planner() {
        return WatermarkStrategy.<Long>forBoundedOutOfOrderness(Duration.ofSeconds(5))
                .createWatermarkGenerator(null);
    }
}
