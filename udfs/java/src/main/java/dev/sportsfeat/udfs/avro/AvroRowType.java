package dev.sportsfeat.udfs.avro;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.DataType;

/**
 * DECODE_AVRO's result type for a reader schema: {@code ROW<_error STRING, _schema_id INT,
 * <the reader's fields>> NOT NULL}, each field typed as Flink's avro format types it
 * (AvroSchemaConverter with its default legacy timestamp mapping). Top-level fields are
 * nullable whatever the schema says, since a failed decode leaves them all NULL.
 */
public final class AvroRowType {
    public static final String ERROR = "_error";
    public static final String SCHEMA_ID = "_schema_id";
    /** Position of the reader's first field in the result row. */
    static final int FIRST_FIELD = 2;

    private AvroRowType() {}

    /** The result type, bridged to Flink's internal RowData (no per-row conversion). */
    public static DataType of(Schema reader) {
        if (reader.getType() != Schema.Type.RECORD) {
            throw new IllegalArgumentException(
                    "the reader schema must be an Avro record, not " + reader.getType());
        }
        List<DataTypes.Field> fields = new ArrayList<>();
        fields.add(DataTypes.FIELD(ERROR, DataTypes.STRING()));
        fields.add(DataTypes.FIELD(SCHEMA_ID, DataTypes.INT()));
        for (Schema.Field field : reader.getFields()) {
            if (field.name().equals(ERROR) || field.name().equals(SCHEMA_ID)) {
                throw new IllegalArgumentException(
                        "the reader schema has a field named " + field.name() + ", a reserved name");
            }
            fields.add(DataTypes.FIELD(field.name(), of(field.schema(), field.name()).nullable()));
        }
        return DataTypes.ROW(fields).notNull().bridgedTo(RowData.class);
    }

    private static DataType of(Schema schema, String where) {
        LogicalType logical = schema.getLogicalType();
        switch (schema.getType()) {
            case RECORD:
                List<DataTypes.Field> fields = new ArrayList<>();
                for (Schema.Field field : schema.getFields()) {
                    fields.add(DataTypes.FIELD(field.name(), of(field.schema(), field.name())));
                }
                return DataTypes.ROW(fields).notNull();
            case ENUM:
            case STRING:
                return DataTypes.STRING().notNull();
            case ARRAY:
                return DataTypes.ARRAY(of(schema.getElementType(), where)).notNull();
            case MAP:
                return DataTypes.MAP(DataTypes.STRING().notNull(), of(schema.getValueType(), where))
                        .notNull();
            case UNION:
                return union(schema, where);
            case FIXED:
                return logical instanceof LogicalTypes.Decimal d
                        ? DataTypes.DECIMAL(d.getPrecision(), d.getScale()).notNull()
                        : DataTypes.VARBINARY(schema.getFixedSize()).notNull();
            case BYTES:
                return logical instanceof LogicalTypes.Decimal d
                        ? DataTypes.DECIMAL(d.getPrecision(), d.getScale()).notNull()
                        : DataTypes.BYTES().notNull();
            case INT:
                if (logical == LogicalTypes.date()) {
                    return DataTypes.DATE().notNull();
                }
                return logical == LogicalTypes.timeMillis()
                        ? DataTypes.TIME(3).notNull()
                        : DataTypes.INT().notNull();
            case LONG:
                return longType(logical);
            case FLOAT:
                return DataTypes.FLOAT().notNull();
            case DOUBLE:
                return DataTypes.DOUBLE().notNull();
            case BOOLEAN:
                return DataTypes.BOOLEAN().notNull();
            case NULL:
                return DataTypes.NULL();
            default:
                throw new IllegalArgumentException("unsupported Avro type " + schema.getType());
        }
    }

    private static DataType union(Schema schema, String where) {
        List<Schema> branches = schema.getTypes();
        List<Schema> nonNull = branches.stream().filter(s -> s.getType() != Schema.Type.NULL).toList();
        if (branches.size() > 2 || nonNull.size() != 1) {
            // Flink's own format falls back to an opaque Kryo RAW here; nothing SQL can use.
            throw new IllegalArgumentException(
                    "field " + where + ": only [\"null\", T] unions are supported, not " + schema);
        }
        DataType type = of(nonNull.get(0), where);
        return branches.size() == 2 ? type.nullable() : type;
    }

    private static DataType longType(LogicalType logical) {
        if (logical == LogicalTypes.timestampMillis()) {
            return DataTypes.TIMESTAMP(3).notNull();
        } else if (logical == LogicalTypes.timestampMicros()) {
            return DataTypes.TIMESTAMP(6).notNull();
        } else if (logical == LogicalTypes.timeMillis()) {
            return DataTypes.TIME(3).notNull();
        } else if (logical == LogicalTypes.timeMicros()) {
            return DataTypes.TIME(6).notNull();
        }
        return DataTypes.BIGINT().notNull(); // also local-timestamp-*, as in Flink's legacy mapping
    }
}
