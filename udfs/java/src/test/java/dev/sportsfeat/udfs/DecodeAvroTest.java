package dev.sportsfeat.udfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sportsfeat.udfs.avro.AvroRowType;
import dev.sportsfeat.udfs.avro.DecodeError;
import dev.sportsfeat.udfs.avro.RegistryUnavailableException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DecodeAvroTest {
    /** The reader: what the job was deployed with. */
    static final String READER =
            """
            {"type": "record", "name": "Event", "namespace": "test", "fields": [
              {"name": "event_id", "type": "string"},
              {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
              {"name": "team_ids", "type": {"type": "array", "items": "string"}},
              {"name": "game_id", "type": ["null", "string"], "default": null},
              {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["CLICK", "VIEW"]}},
              {"name": "tags", "type": {"type": "map", "values": "long"}},
              {"name": "place", "type": {"type": "record", "name": "Place",
                "fields": [{"name": "city", "type": "string"}]}},
              {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal",
                "precision": 10, "scale": 2}},
              {"name": "score", "type": "double"},
              {"name": "added", "type": ["null", "int"], "default": null}
            ]}""";

    /** Schema id 1: fields in another order, an extra field, an int the reader reads as double. */
    static final Schema WRITER =
            new Schema.Parser()
                    .parse(
                            """
            {"type": "record", "name": "Event", "namespace": "test", "fields": [
              {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
              {"name": "event_id", "type": "string"},
              {"name": "dropped", "type": "string"},
              {"name": "team_ids", "type": {"type": "array", "items": "string"}},
              {"name": "game_id", "type": ["null", "string"]},
              {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["CLICK", "VIEW"]}},
              {"name": "tags", "type": {"type": "map", "values": "long"}},
              {"name": "place", "type": {"type": "record", "name": "Place",
                "fields": [{"name": "city", "type": "string"}]}},
              {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal",
                "precision": 10, "scale": 2}},
              {"name": "score", "type": "int"}
            ]}""");

    /** Schema id 2: event_id became an int, which a string reader cannot read. */
    static final String INCOMPATIBLE = READER.replace(
            "{\"name\": \"event_id\", \"type\": \"string\"}", "{\"name\": \"event_id\", \"type\": \"int\"}");

    private StubRegistry registry;
    private TestContext context;

    @BeforeEach
    void start() throws IOException {
        registry = new StubRegistry();
        registry.schemas.put(1, WRITER.toString());
        registry.schemas.put(2, INCOMPATIBLE);
        registry.schemas.put(3, "syntax = \"proto3\"; message Event {}");
        context = new TestContext(Map.of(DecodeAvro.REGISTRY_URL, registry.url()));
    }

    @AfterEach
    void stop() {
        registry.close();
    }

    private DecodeAvro function(TestContext with) {
        DecodeAvro fn = new DecodeAvro();
        fn.open(with);
        return fn;
    }

    static byte[] valid(String eventId) throws IOException {
        GenericRecord place = new GenericData.Record(WRITER.getField("place").schema());
        place.put("city", "Lyon");
        GenericRecord event = new GenericData.Record(WRITER);
        event.put("ts", 1_700_000_000_123L);
        event.put("event_id", eventId);
        event.put("dropped", "gone");
        event.put("team_ids", List.of("t1", "t2"));
        event.put("game_id", null);
        event.put("kind", new GenericData.EnumSymbol(WRITER.getField("kind").schema(), "VIEW"));
        event.put("tags", Map.of("a", 1L));
        event.put("place", place);
        event.put("amount", ByteBuffer.wrap(new byte[] {0x30, 0x39})); // 12345 -> 123.45
        event.put("score", 7);
        return wire(1, event);
    }

    static byte[] wire(int schemaId, GenericRecord record) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(5).put((byte) 0).putInt(schemaId).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    /** A value that fails with {@code error}. */
    static byte[] failing(DecodeError error) throws IOException {
        byte[] ok = valid("e");
        return switch (error) {
            case NULL_VALUE -> null;
            case WRONG_MAGIC_BYTE -> "{\"json\": true}".getBytes();
            case TRUNCATED -> Arrays.copyOf(ok, ok.length - 3);
            case UNKNOWN_SCHEMA_ID -> withId(ok, 99);
            case INCOMPATIBLE_SCHEMA -> withId(ok, 2);
            case CORRUPT_PAYLOAD -> Arrays.copyOf(ok, ok.length + 1); // a trailing byte
        };
    }

    static byte[] withId(byte[] value, int id) {
        byte[] copy = value.clone();
        ByteBuffer.wrap(copy).putInt(1, id);
        return copy;
    }

    static String error(RowData row) {
        return row.isNullAt(0) ? null : row.getString(0).toString();
    }

    @Test
    void decodesAllFieldsWithTheReaderTypes() throws IOException {
        RowData row = function(context).eval(valid("e1"), READER);
        assertNull(error(row));
        assertEquals(1, row.getInt(1));
        assertEquals("e1", row.getString(2).toString());
        assertEquals(TimestampData.fromEpochMillis(1_700_000_000_123L), row.getTimestamp(3, 3));
        assertEquals("t2", row.getArray(4).getString(1).toString());
        assertTrue(row.isNullAt(5));
        assertEquals("VIEW", row.getString(6).toString());
        assertEquals(StringData.fromString("a"), row.getMap(7).keyArray().getString(0));
        assertEquals(1L, row.getMap(7).valueArray().getLong(0));
        assertEquals("Lyon", row.getRow(8, 1).getString(0).toString());
        assertEquals("123.45", row.getDecimal(9, 10, 2).toString());
        assertEquals(7.0, row.getDouble(10));
        assertTrue(row.isNullAt(11)); // the reader's default
    }

    @Test
    void theRowTypeFollowsFlinksAvroFormat() {
        assertEquals(
                "ROW<`_error` STRING, `_schema_id` INT, `event_id` STRING, `ts` TIMESTAMP(3),"
                        + " `team_ids` ARRAY<STRING NOT NULL>, `game_id` STRING,"
                        + " `kind` STRING, `tags` MAP<STRING NOT NULL, BIGINT NOT NULL>,"
                        + " `place` ROW<`city` STRING NOT NULL>, `amount` DECIMAL(10, 2),"
                        + " `score` DOUBLE, `added` INT> NOT NULL",
                AvroRowType.of(new Schema.Parser().parse(READER)).toString());
    }

    @ParameterizedTest
    @EnumSource(DecodeError.class)
    void aFailureNeverPoisonsTheNextRecords(DecodeError error) throws IOException {
        DecodeAvro fn = function(context);
        RowData bad = null;
        List<byte[]> values = Arrays.asList(valid("e1"), failing(error), valid("e2"), valid("e3"));
        for (int i = 0; i < values.size(); i++) {
            RowData row = fn.eval(values.get(i), READER);
            if (i == 1) {
                bad = row;
            } else {
                assertNull(error(row), "record " + i + " after " + error);
                assertEquals("e" + (i == 0 ? 1 : i), row.getString(2).toString());
            }
        }
        assertEquals(error.code(), error(bad));
        for (int field = 2; field < bad.getArity(); field++) {
            assertTrue(bad.isNullAt(field));
        }
        String counters = "sportsfeat.kind.decode.source.test.Event.detail.";
        assertEquals(3, context.count(counters + "ok.records"));
        assertEquals(1, context.count(counters + error.code() + ".records"));
    }

    @Test
    void aWriterSchemaThatIsNotAvroIsIncompatible() throws IOException {
        RowData row = function(context).eval(withId(valid("e"), 3), READER);
        assertEquals("incompatible_schema", error(row));
        assertEquals(3, row.getInt(1));
    }

    @Test
    void shortValuesAreTruncated() {
        DecodeAvro fn = function(context);
        assertEquals("truncated", error(fn.eval(new byte[0], READER)));
        assertEquals("truncated", error(fn.eval(new byte[] {0, 0, 0, 1}, READER)));
        assertTrue(fn.eval(new byte[] {0, 0, 0, 1}, READER).isNullAt(1));
    }

    @Test
    void aCorruptLengthIsCorruptNotAnOutOfMemoryError() throws IOException {
        byte[] ok = valid("e");
        // After the timestamp comes event_id's length: claim 1 GiB (zig-zag varint of 2^30).
        // Without the decoder's 16 MiB cap Avro would allocate it and then hit the end.
        byte[] huge = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08};
        int lengthAt = 5 + 6; // 1_700_000_000_123 zig-zags into 6 varint bytes
        byte[] corrupt = new byte[ok.length + huge.length];
        System.arraycopy(ok, 0, corrupt, 0, lengthAt);
        System.arraycopy(huge, 0, corrupt, lengthAt, huge.length);
        System.arraycopy(ok, lengthAt + 1, corrupt, lengthAt + huge.length, ok.length - lengthAt - 1);
        assertEquals("corrupt_payload", error(function(context).eval(corrupt, READER)));
    }

    @Test
    void writerSchemasAreFetchedOncePerId() throws IOException {
        DecodeAvro fn = function(context);
        for (int i = 0; i < 20; i++) {
            fn.eval(valid("e" + i), READER);
            fn.eval(withId(valid("e" + i), 2), READER);
        }
        assertEquals(2, registry.requests.get());
    }

    @Test
    void unknownIdsAreNotAskedForAgainAtOnce() throws IOException {
        DecodeAvro fn = function(context);
        for (int i = 0; i < 5; i++) {
            assertEquals("unknown_schema_id", error(fn.eval(withId(valid("e" + i), 42), READER)));
        }
        assertEquals(1, registry.requests.get());
    }

    @Test
    void twoCallsOnTheSameBytesDecodeOnce() throws IOException {
        DecodeAvro eventTime = function(context);
        DecodeAvro projection = function(context);
        byte[] value = valid("e1");
        RowData first = eventTime.eval(value, READER);
        assertSame(first, projection.eval(value.clone(), READER));
        RowData next = projection.eval(valid("e2"), READER);
        assertEquals("e2", next.getString(2).toString());
        assertSame(next, eventTime.eval(valid("e2"), READER));
        assertEquals(2, context.count("sportsfeat.kind.decode.source.test.Event.detail.ok.records"));
        assertEquals(GenericRowData.class, first.getClass());
    }

    @Test
    void aFlakyRegistryIsRetried() throws IOException {
        registry.failNext.set(2);
        assertNull(error(function(context).eval(valid("e1"), READER)));
        assertEquals(3, registry.requests.get());
    }

    @Test
    void anUnreachableRegistryFailsTheJobNamingTheUrl() throws IOException {
        String url;
        try (ServerSocket closed = new ServerSocket(0)) {
            url = "http://127.0.0.1:" + closed.getLocalPort() + "/ccompat";
        }
        DecodeAvro fn =
                function(
                        new TestContext(
                                Map.of(DecodeAvro.REGISTRY_URL, url, DecodeAvro.MAX_WAIT_MS, "700")));
        long start = System.nanoTime();
        RegistryUnavailableException e =
                assertThrows(RegistryUnavailableException.class, () -> fn.eval(valid("e"), READER));
        long waitedMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(e.getMessage().contains(url), e.getMessage());
        assertTrue(e.getMessage().contains("Connection refused"), e.getMessage());
        assertTrue(waitedMs >= 600 && waitedMs < 5_000, "waited " + waitedMs + " ms"); // 200+400
    }

    @Test
    void openFailsWithoutARegistryUrl() {
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> function(new TestContext(Map.of())));
        assertTrue(e.getMessage().contains(DecodeAvro.REGISTRY_URL));
    }
}
