package dev.sportsfeat.udfs.tiles;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.memory.Memory;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.types.Row;
import org.junit.jupiter.api.Test;

/** A tile's parts hold what the tile stream documents, and survive the state serializer. */
class TileTest {
    // Input row: entity, event time, mask, then one column per part (string, double, ...).
    private static final String SPEC = """
            {"emit_interval_ms": 500, "groups": [{"name": "g_v2", "tile_ms": 60000, "parts": [
              {"kind": "numeric", "input": 4},
              {"kind": "distinct", "input": 3},
              {"kind": "hll", "input": 3, "param": 12},
              {"kind": "kll", "input": 4, "param": 200},
              {"kind": "earliest", "input": 3},
              {"kind": "latest", "input": 3},
              {"kind": "last_n", "input": 3, "param": 2},
              {"kind": "top_k", "input": 3},
              {"kind": "decay", "input": 4, "param": 1000}]}]}""";
    private static final TileSpec.Group GROUP = TileSpec.parse(SPEC).groups().get(0);
    // (item, value, ms): out of order, a tie at 63 s, a null value.
    private static final Object[][] ROWS = {
        {"b", 2.0, 62_000L}, {"a", 1.0, 61_000L}, {"c", 4.0, 63_000L}, {"a", 3.0, 63_000L},
        {"a", null, 64_000L},
    };

    private static Tile filled() {
        Tile tile = Tile.of(GROUP, 61_000L);
        for (Object[] r : ROWS) {
            tile.add(GROUP, Row.of("u1", r[2], 1, r[0], r[1]), (Long) r[2]);
        }
        return tile;
    }

    private static Row part(Row tile, int i) {
        return ((Row[]) tile.getField(6))[i];
    }

    @Test
    void tileBoundsCountsAndTimes() {
        Row ir = filled().ir();
        assertEquals("g_v2", ir.getField(0));
        assertEquals(60_000L, ir.getField(1));
        assertEquals(120_000L, ir.getField(2));
        assertEquals(5L, ir.getField(3));
        assertEquals(61_000L, ir.getField(4));
        assertEquals(64_000L, ir.getField(5));
    }

    @Test
    void numericHoldsCountSumMinMaxAndSquaredDeviations() {
        Row numeric = part(filled().ir(), 0);
        assertEquals(4L, numeric.getField(0)); // the null is skipped
        assertEquals(10.0, numeric.getField(1));
        assertEquals(1.0, numeric.getField(2));
        assertEquals(4.0, numeric.getField(3));
        assertEquals(5.0, (Double) numeric.getField(4), 1e-12); // mean 2.5: 2.25+.25+.25+2.25
    }

    @Test
    void setsAndSketches() {
        Row ir = filled().ir();
        String[] distinct = (String[]) part(ir, 1).getField(6);
        Arrays.sort(distinct);
        assertArrayEquals(new String[] {"a", "b", "c"}, distinct);
        HllSketch hll = HllSketch.heapify(Memory.wrap((byte[]) part(ir, 2).getField(9)));
        assertEquals(3.0, hll.getEstimate(), 0.01);
        KllDoublesSketch kll = KllDoublesSketch.heapify(Memory.wrap((byte[]) part(ir, 3).getField(9)));
        assertEquals(4, kll.getN());
        assertEquals(4.0, kll.getMaxItem());
    }

    @Test
    void earliestLatestAndLastN() {
        Row ir = filled().ir();
        assertArrayEquals(new String[] {"a"}, (String[]) part(ir, 4).getField(6));
        assertEquals(61_000L, part(ir, 4).getField(5));
        assertArrayEquals(new String[] {"a"}, (String[]) part(ir, 5).getField(6));
        assertEquals(64_000L, part(ir, 5).getField(5));
        Map<String, Long> recent = zip(part(ir, 6), 8);
        assertEquals(Map.of("a", 64_000L, "c", 63_000L), recent); // n = 2: "b" (62 s) evicted
    }

    @Test
    void topKCarriesEveryCount() {
        assertEquals(Map.of("a", 3L, "b", 1L, "c", 1L), zip(part(filled().ir(), 7), 7));
    }

    @Test
    void decayIsAsOfTheLatestEvent() {
        Row decay = part(filled().ir(), 8);
        assertEquals(4L, decay.getField(0));
        assertEquals(63_000L, decay.getField(5));
        double want = 2.0 / 2 + 1.0 / 4 + 4.0 + 3.0; // half-life 1 s, as of 63 s
        assertEquals(want, (Double) decay.getField(1), 1e-12);
    }

    @Test
    void anEmptyPartHasNoValues() {
        Tile tile = Tile.of(GROUP, 0L);
        tile.add(GROUP, Row.of("u1", 5L, 1, null, null), 5L);
        Row ir = tile.ir();
        assertEquals(0L, part(ir, 0).getField(0));
        assertNull(part(ir, 0).getField(2));
        assertNull(part(ir, 2).getField(9));
        assertNull(part(ir, 3).getField(9));
        assertNull(part(ir, 5).getField(6));
        assertEquals(1L, ir.getField(3));
    }

    @Test
    void serializerRoundTripsEveryPart() throws IOException {
        Tile tile = filled();
        Tile.Serializer serializer = new Tile.Serializer();
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(tile, out);
        Tile back = serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        assertTrue(back.dirty);
        assertEquals(tile.ir(), back.ir());
        // a restored tile keeps accumulating with its parameters (last_n's n, hll's lg_k)
        back.add(GROUP, Row.of("u1", 65_000L, 1, "d", 1.0), 65_000L);
        assertEquals(Map.of("a", 64_000L, "d", 65_000L), zip(part(back.ir(), 6), 8));
    }

    @Test
    void closesWhenTheWatermarkPassesItsLastMillisecond() {
        Tile tile = filled();
        assertFalse(tile.closedAt(null));
        assertFalse(tile.closedAt(119_998L));
        assertTrue(tile.closedAt(119_999L));
    }

    @Test
    void keysDifferByGroupAndStart() {
        assertFalse(Tile.key(0, 60_000L) == Tile.key(1, 60_000L));
        assertFalse(Tile.key(1, 0L) == Tile.key(0, 1L));
    }

    @Test
    void aBadSpecSaysWhatIsWrong() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TileSpec.parse(SPEC.replace("\"top_k\"", "\"top_n\"")));
        assertTrue(e.getMessage().contains("TOP_N"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> TileSpec.parse(SPEC.replace("60000", "0")));
    }

    private static Map<String, Long> zip(Row part, int field) {
        String[] items = (String[]) part.getField(6);
        Long[] values = (Long[]) part.getField(field);
        Map<String, Long> result = new HashMap<>();
        for (int i = 0; i < items.length; i++) {
            result.put(items[i], values[i]);
        }
        return result;
    }

    @Test
    void streamedTileIsTheStoredJson() {
        Row streamed = filled().streamed();
        assertEquals("g_v2", streamed.getField(0));
        assertEquals(60_000L, streamed.getField(1));
        assertEquals(64_000L, streamed.getField(2)); // its newest event
        String json = (String) streamed.getField(3);
        assertTrue(json.startsWith("[60000,120000,5,61000,64000,[[4,10.0,1.0,4.0,"), json);
        for (String item : new String[] {"\"a\"", "\"b\"", "\"c\""}) {
            assertTrue(json.contains(item), json);
        }
        assertTrue(json.endsWith("]]"), json);
    }

    @Test
    void jsonStringsAreEscaped() {
        StringBuilder out = new StringBuilder();
        TileJson.string(out, "a\"b\\c\n\u0001é");
        assertEquals("\"a\\\"b\\\\c\\u000a\\u0001é\"", out.toString());
    }
}
