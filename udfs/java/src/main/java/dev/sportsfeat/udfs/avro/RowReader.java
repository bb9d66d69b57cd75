package dev.sportsfeat.udfs.avro;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.io.ResolvingDecoder;
import org.apache.avro.util.Utf8;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericMapData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;

/**
 * Reads one datum of a reader schema from a {@link ResolvingDecoder} straight into Flink's
 * internal data structures, with the values {@link AvroRowType} types: no Avro GenericRecord
 * in between, one reader tree built per reader schema. Not thread-safe (it reuses a buffer).
 */
final class RowReader {
    /** Reads one value; the decoder yields it already resolved to the reader's type. */
    @FunctionalInterface
    interface ValueReader {
        Object read(ResolvingDecoder in) throws IOException;
    }

    /** Initial capacity bound for arrays and maps: a corrupt count must not reserve memory. */
    private static final int MAX_PRESIZE = 1024;

    private final ValueReader[] fields;
    private final Utf8 text = new Utf8();
    private ByteBuffer bytes;

    RowReader(Schema reader) {
        fields = fieldReaders(reader);
    }

    /** The result row: fields from {@link AvroRowType#FIRST_FIELD} on, {@code _error} NULL. */
    GenericRowData read(ResolvingDecoder in, int schemaId) throws IOException {
        GenericRowData row = new GenericRowData(AvroRowType.FIRST_FIELD + fields.length);
        row.setField(1, schemaId);
        readFields(in, fields, row, AvroRowType.FIRST_FIELD);
        return row;
    }

    int arity() {
        return AvroRowType.FIRST_FIELD + fields.length;
    }

    private static void readFields(
            ResolvingDecoder in, ValueReader[] readers, GenericRowData row, int offset)
            throws IOException {
        for (Schema.Field field : in.readFieldOrder()) {
            row.setField(offset + field.pos(), readers[field.pos()].read(in));
        }
    }

    private ValueReader[] fieldReaders(Schema record) {
        return record.getFields().stream()
                .map(f -> reader(f.schema()))
                .toArray(ValueReader[]::new);
    }

    private ValueReader reader(Schema schema) {
        LogicalType logical = schema.getLogicalType();
        switch (schema.getType()) {
            case RECORD:
                ValueReader[] nested = fieldReaders(schema);
                return in -> {
                    GenericRowData row = new GenericRowData(nested.length);
                    readFields(in, nested, row, 0);
                    return row;
                };
            case ENUM:
                StringData[] symbols =
                        schema.getEnumSymbols().stream()
                                .map(StringData::fromString)
                                .toArray(StringData[]::new);
                return in -> symbols[in.readEnum()];
            case ARRAY:
                return array(reader(schema.getElementType()));
            case MAP:
                return map(reader(schema.getValueType()));
            case UNION:
                ValueReader[] branches =
                        schema.getTypes().stream().map(this::reader).toArray(ValueReader[]::new);
                return in -> branches[in.readIndex()].read(in);
            case FIXED:
                int size = schema.getFixedSize();
                ValueReader fixed = in -> {
                    byte[] value = new byte[size];
                    in.readFixed(value);
                    return value;
                };
                return logical instanceof LogicalTypes.Decimal d ? decimal(fixed, d) : fixed;
            case STRING:
                return this::readString;
            case BYTES:
                return logical instanceof LogicalTypes.Decimal d
                        ? decimal(this::readBytes, d)
                        : this::readBytes;
            case INT:
                return ResolvingDecoder::readInt; // int, DATE (days) and TIME(3) (millis) alike
            case LONG:
                return longReader(logical);
            case FLOAT:
                return ResolvingDecoder::readFloat;
            case DOUBLE:
                return ResolvingDecoder::readDouble;
            case BOOLEAN:
                return ResolvingDecoder::readBoolean;
            case NULL:
                return in -> {
                    in.readNull();
                    return null;
                };
            default:
                throw new IllegalArgumentException("unsupported Avro type " + schema.getType());
        }
    }

    private static ValueReader longReader(LogicalType logical) {
        if (logical == LogicalTypes.timestampMillis()) {
            return in -> TimestampData.fromEpochMillis(in.readLong());
        } else if (logical == LogicalTypes.timestampMicros()) {
            return in -> {
                long micros = in.readLong();
                return TimestampData.fromEpochMillis(
                        Math.floorDiv(micros, 1000), (int) Math.floorMod(micros, 1000) * 1000);
            };
        } else if (logical == LogicalTypes.timeMillis()) {
            return in -> (int) in.readLong();
        } else if (logical == LogicalTypes.timeMicros()) {
            return in -> (int) (in.readLong() / 1000); // Flink holds TIME as millis of the day
        }
        return ResolvingDecoder::readLong;
    }

    private static ValueReader array(ValueReader element) {
        return in -> {
            long count = in.readArrayStart();
            List<Object> items = new ArrayList<>((int) Math.min(count, MAX_PRESIZE));
            for (; count > 0; count = in.arrayNext()) {
                for (long i = 0; i < count; i++) {
                    items.add(element.read(in));
                }
            }
            return new GenericArrayData(items.toArray());
        };
    }

    private ValueReader map(ValueReader value) {
        return in -> {
            long count = in.readMapStart();
            Map<Object, Object> entries = new HashMap<>((int) Math.min(count, MAX_PRESIZE));
            for (; count > 0; count = in.mapNext()) {
                for (long i = 0; i < count; i++) {
                    Object key = readString(in);
                    entries.put(key, value.read(in));
                }
            }
            return new GenericMapData(entries);
        };
    }

    private static ValueReader decimal(ValueReader unscaled, LogicalTypes.Decimal type) {
        int precision = type.getPrecision();
        int scale = type.getScale();
        return in -> DecimalData.fromUnscaledBytes((byte[]) unscaled.read(in), precision, scale);
    }

    /** A string as Flink's UTF-8 StringData: one copy out of the reused buffer. */
    private Object readString(ResolvingDecoder in) throws IOException {
        in.readString(text);
        return StringData.fromBytes(Arrays.copyOf(text.getBytes(), text.getByteLength()));
    }

    private Object readBytes(ResolvingDecoder in) throws IOException {
        bytes = in.readBytes(bytes);
        byte[] value = new byte[bytes.remaining()];
        bytes.get(value);
        return value;
    }
}
