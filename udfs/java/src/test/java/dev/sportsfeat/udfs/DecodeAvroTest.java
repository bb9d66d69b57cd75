package dev.sportsfeat.udfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sportsfeat.udfs.avro.AvroRowType;
import dev.sportsfeat.udfs.avro.DecodeError;
import dev.sportsfeat.udfs.avro.RegistryUnavailableException;
import dev.sportsfeat.udfs.avro.SchemaRegistry;
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
    private String url;
    private TestContext context;

    @BeforeEach
    void start() throws IOException {
        registry = new StubRegistry();
        registry.schemas.put(1, WRITER.toString());
        registry.schemas.put(2, INCOMPATIBLE);
        registry.schemas.put(3, "syntax = \"proto3\"; message Event {}");
        url = registry.url(); // a new port per test, so a new JVM-wide registry client
        context = new TestContext();
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

    /** Decodes counted with this detail. */
    private long counted(String detail) {
        return context.count("sportsfeat.kind.decode.source.test.Event.detail." + detail + ".records");
    }

    @Test
    void decodesAllFieldsWithTheReaderTypes() throws IOException {
        RowData row = function(context).eval(valid("e1"), READER, url);
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
            RowData row = fn.eval(values.get(i), READER, url);
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
        assertEquals(3, counted("ok"));
        assertEquals(1, counted(error.code()));
    }

    @Test
    void aWriterSchemaThatIsNotAvroIsIncompatible() throws IOException {
        RowData row = function(context).eval(withId(valid("e"), 3), READER, url);
        assertEquals("incompatible_schema", error(row));
        assertEquals(3, row.getInt(1));
    }

    @Test
    void shortValuesAreTruncated() {
        DecodeAvro fn = function(context);
        assertEquals("truncated", error(fn.eval(new byte[0], READER, url)));
        assertEquals("truncated", error(fn.eval(new byte[] {0, 0, 0, 1}, READER, url)));
        assertTrue(fn.eval(new byte[] {0, 0, 0, 1}, READER, url).isNullAt(1));
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
        assertEquals("corrupt_payload", error(function(context).eval(corrupt, READER, url)));
    }

    @Test
    void writerSchemasAreFetchedOncePerIdForEveryInstanceOfTheUrl() throws IOException {
        DecodeAvro one = function(context);
        DecodeAvro other = function(new TestContext());
        for (int i = 0; i < 20; i++) {
            one.eval(valid("e" + i), READER, url);
            other.eval(withId(valid("e" + i), 2), READER, url + "/");
        }
        assertEquals(2, registry.requests.get());
    }

    @Test
    void unknownIdsAreNotAskedForAgainAtOnce() throws IOException {
        DecodeAvro fn = function(context);
        for (int id : new int[] {42, 42, 42, 42, 43}) {
            assertEquals("unknown_schema_id", error(fn.eval(withId(valid("e"), id), READER, url)));
        }
        assertEquals(3, registry.requests.get()); // ids 42 and 43, and the base URL check once
    }

    @Test
    void aWrongBaseUrlFailsInsteadOfDeadLetteringEveryRecord() throws IOException {
        String wrong = url.replace("/ccompat", "/apis/ccompat"); // answers 404 to everything
        DecodeAvro fn = function(context);
        byte[] value = valid("e");
        RegistryUnavailableException e =
                assertThrows(RegistryUnavailableException.class, () -> fn.eval(value, READER, wrong));
        String message = e.getMessage();
        assertTrue(message.contains("base URL " + wrong + " looks wrong"), message);
        assertTrue(message.contains(wrong + "/schemas/types answered HTTP 404"), message);
        assertEquals(0, counted("unknown_schema_id"));
    }

    @Test
    void theBaseUrlCheckIsRetriedLikeAnOutage() throws IOException {
        registry.failing.addAll(List.of(2, 3)); // request 1 is the 404, then two failed checks
        byte[] unknown = failing(DecodeError.UNKNOWN_SCHEMA_ID);
        assertEquals("unknown_schema_id", error(function(context).eval(unknown, READER, url)));
        assertEquals(4, registry.requests.get());
    }

    @Test
    void twoCallsOnTheSameBytesDecodeOnce() throws IOException {
        DecodeAvro eventTime = function(context);
        DecodeAvro projection = function(context);
        byte[] value = valid("e1");
        RowData first = eventTime.eval(value, READER, url);
        assertSame(first, projection.eval(value.clone(), READER, url));
        RowData next = projection.eval(valid("e2"), READER, url);
        assertEquals("e2", next.getString(2).toString());
        assertSame(next, eventTime.eval(valid("e2"), READER, url));
        assertEquals(2, counted("ok"));
        assertEquals(1, registry.requests.get());
        assertEquals(GenericRowData.class, first.getClass());
    }

    @Test
    void theProjectionCountsEveryRecordOnceWhateverTheWatermarkGeneratorDid() throws IOException {
        DecodeAvro watermark = function(TestContext.watermarkGenerator());
        DecodeAvro projection = function(context);
        // Chained: the projection first, then the watermark generator (Flink emits, then onEvent).
        projection.eval(valid("e1"), READER, url);
        watermark.eval(valid("e1"), READER, url);
        // The other order, and the watermark generator alone (projection in another thread).
        watermark.eval(valid("e2"), READER, url);
        projection.eval(valid("e2"), READER, url);
        watermark.eval(valid("e3"), READER, url);
        assertEquals(2, counted("ok"));
    }

    @Test
    void aFlakyRegistryIsRetried() throws IOException {
        registry.failing.addAll(List.of(1, 2));
        assertNull(error(function(context).eval(valid("e1"), READER, url)));
        assertEquals(3, registry.requests.get());
    }

    @Test
    void anUnreachableRegistryFailsTheJobNamingTheUrl() throws IOException {
        String closedUrl;
        try (ServerSocket closed = new ServerSocket(0)) {
            closedUrl = "http://127.0.0.1:" + closed.getLocalPort() + "/ccompat";
        }
        SchemaRegistry unreachable = new SchemaRegistry(closedUrl, 700);
        long start = System.nanoTime();
        RegistryUnavailableException e =
                assertThrows(RegistryUnavailableException.class, () -> unreachable.schemaText(1));
        long waitedMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(e.getMessage().contains(closedUrl), e.getMessage());
        assertTrue(e.getMessage().contains("Connection refused"), e.getMessage());
        assertTrue(waitedMs >= 600 && waitedMs < 5_000, "waited " + waitedMs + " ms"); // 200+400
    }
}
