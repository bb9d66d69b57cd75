package dev.sportsfeat.udfs.avro;

import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.StringData;

/** Why DECODE_AVRO could not decode a value: the {@code _error} codes of its result. */
public enum DecodeError {
    /** The value is NULL. */
    NULL_VALUE,
    /** The first byte is not the Confluent wire format's magic byte 0. */
    WRONG_MAGIC_BYTE,
    /** Shorter than the 5-byte header, or the payload ends inside the record. */
    TRUNCATED,
    /** The registry does not know the schema id (HTTP 404). */
    UNKNOWN_SCHEMA_ID,
    /** The writer schema is not Avro, or cannot be resolved to the reader schema. */
    INCOMPATIBLE_SCHEMA,
    /** Anything else that fails to decode, including bytes left after the record. */
    CORRUPT_PAYLOAD;

    private final String code = name().toLowerCase();
    private final StringData sqlCode = StringData.fromString(code);

    public String code() {
        return code;
    }

    /** A result row of {@code arity} fields: this code, the schema id (if read), all else NULL. */
    GenericRowData row(int arity, Integer schemaId) {
        GenericRowData row = new GenericRowData(arity);
        row.setField(0, sqlCode); // immutable, so shared by every error row
        row.setField(1, schemaId);
        return row;
    }

    /** The error of a DECODE_AVRO result row, or null if it decoded. */
    public static DecodeError of(GenericRowData row) {
        Object code = row.getField(0);
        for (DecodeError error : values()) {
            if (error.sqlCode == code) {
                return error;
            }
        }
        return null;
    }
}
