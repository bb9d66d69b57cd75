package dev.sportsfeat.udfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MeterRecordTest {
    @Test
    void countsEachKindSourceAndDetailAndReturnsTrue() {
        TestContext context = new TestContext();
        MeterRecord meter = new MeterRecord();
        meter.open(context);

        assertTrue(meter.eval("read", "fan.interactions", "click"));
        meter.eval("read", "fan.interactions", "click");
        meter.eval("dead_letter", "fan.interactions", "truncated");

        String prefix = "sportsfeat.kind.read.source.fan.interactions.detail.";
        assertEquals(2, context.count(prefix + "click.records"));
        assertEquals(
                1,
                context.count(
                        "sportsfeat.kind.dead_letter.source.fan.interactions.detail.truncated.records"));
        assertFalse(meter.isDeterministic());
    }
}
