package dev.sportsfeat.udfs.avro;

import java.io.EOFException;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.SystemLimitException;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.ResolvingDecoder;
import org.apache.flink.table.data.GenericRowData;

/**
 * Decodes Confluent wire-format values (magic byte 0, 4-byte big-endian schema id, Avro
 * binary) with one reader schema into DECODE_AVRO's result rows. A failure never leaves state
 * behind: the next value starts from a reset decoder. Not thread-safe.
 */
public final class AvroDecoder {
    /** Cap on what a corrupt string, bytes or collection length can make Avro allocate. */
    private static final String LIMIT = String.valueOf(16 << 20);

    static {
        // Avro allocates a declared length before reading it. In the shaded jar these property
        // names are relocated with Avro itself, so Flink's own Avro keeps its settings.
        for (String property :
                new String[] {
                    SystemLimitException.MAX_STRING_LENGTH_PROPERTY,
                    SystemLimitException.MAX_BYTES_LENGTH_PROPERTY,
                    SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY
                }) {
            if (System.getProperty(property) == null) {
                System.setProperty(property, LIMIT);
            }
        }
    }

    /** How values of one writer schema id decode: a resolving decoder, or the reason they can't. */
    private record Resolution(ResolvingDecoder decoder, DecodeError error) {}

    private final Schema reader;
    private final RowReader rows;
    private final SchemaRegistry registry;
    private final Map<Integer, Resolution> byWriterId = new HashMap<>();
    private BinaryDecoder binary;

    public AvroDecoder(Schema reader, SchemaRegistry registry) {
        this.reader = reader;
        this.rows = new RowReader(reader);
        this.registry = registry;
    }

    /** The result row for {@code value}; throws only if the registry is unavailable. */
    public GenericRowData decode(byte[] value) {
        if (value == null) {
            return error(DecodeError.NULL_VALUE, null);
        }
        if (value.length > 0 && value[0] != 0) {
            return error(DecodeError.WRONG_MAGIC_BYTE, null);
        }
        if (value.length < 5) {
            return error(DecodeError.TRUNCATED, null);
        }
        int id = (value[1] & 0xff) << 24 | (value[2] & 0xff) << 16 | (value[3] & 0xff) << 8
                | (value[4] & 0xff);
        Resolution resolution = resolution(id);
        if (resolution.error() != null) {
            return error(resolution.error(), id);
        }
        binary = DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, binary);
        ResolvingDecoder in = resolution.decoder();
        try {
            in.configure(binary); // also resets the grammar a failed value may have left midway
            GenericRowData row = rows.read(in, id);
            in.drain();
            return binary.isEnd() ? row : error(DecodeError.CORRUPT_PAYLOAD, id);
        } catch (EOFException e) {
            return error(DecodeError.TRUNCATED, id);
        } catch (Exception e) {
            return error(DecodeError.CORRUPT_PAYLOAD, id); // bad lengths, indexes, UTF-8, limits
        }
    }

    private GenericRowData error(DecodeError error, Integer schemaId) {
        return error.row(rows.arity(), schemaId);
    }

    private Resolution resolution(int id) {
        Resolution known = byWriterId.get(id);
        if (known != null) {
            return known;
        }
        String text = registry.schemaText(id);
        if (text == null) {
            return new Resolution(null, DecodeError.UNKNOWN_SCHEMA_ID); // retried after a while
        }
        Resolution resolved = resolve(text);
        byWriterId.put(id, resolved);
        return resolved;
    }

    private Resolution resolve(String writerText) {
        try {
            Schema writer = new Schema.Parser().parse(writerText);
            SchemaCompatibilityType compatibility =
                    SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getType();
            if (compatibility != SchemaCompatibilityType.COMPATIBLE) {
                return new Resolution(null, DecodeError.INCOMPATIBLE_SCHEMA);
            }
            ResolvingDecoder decoder =
                    DecoderFactory.get()
                            .resolvingDecoder(Schema.applyAliases(writer, reader), reader, null);
            return new Resolution(decoder, null);
        } catch (Exception e) {
            return new Resolution(null, DecodeError.INCOMPATIBLE_SCHEMA); // not an Avro schema
        }
    }
}
