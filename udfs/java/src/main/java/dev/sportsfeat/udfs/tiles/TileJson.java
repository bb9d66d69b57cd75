package dev.sportsfeat.udfs.tiles;

import java.util.Base64;
import org.apache.flink.types.Row;

/**
 * A tile in the form the online store keeps and readers decode (flink_jobs/tiles/codec.py):
 * compact JSON {@code [tile_start, tile_end, n, first_ms, last_ms, [part, ...]]}, each part its
 * IR row's fields in order ({@link Part#ir}), a sketch image in base64. Built here once per
 * emitted tile, so the writer stores it as it comes and nobody decodes the parts on the way
 * (Python decoded the parts as nested Avro at ~160 µs per update).
 */
final class TileJson {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private TileJson() {}

    static String of(long start, long end, long n, long firstMs, long lastMs, Row[] parts) {
        StringBuilder out = new StringBuilder(64 + 48 * parts.length);
        out.append('[').append(start).append(',').append(end).append(',').append(n).append(',')
                .append(firstMs).append(',').append(lastMs).append(",[");
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                out.append(',');
            }
            out.append('[');
            for (int f = 0; f < parts[i].getArity(); f++) {
                if (f > 0) {
                    out.append(',');
                }
                value(out, parts[i].getField(f));
            }
            out.append(']');
        }
        return out.append("]]").toString();
    }

    private static void value(StringBuilder out, Object value) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Double d) {
            // JSON has no NaN or infinity: such a value (only from such inputs) reads as null.
            out.append(Double.isFinite(d) ? d.toString() : "null");
        } else if (value instanceof Long || value instanceof Integer) {
            out.append(value);
        } else if (value instanceof String s) {
            string(out, s);
        } else if (value instanceof byte[] bytes) {
            out.append('"').append(Base64.getEncoder().encodeToString(bytes)).append('"');
        } else if (value instanceof Object[] array) {
            out.append('[');
            for (int i = 0; i < array.length; i++) {
                if (i > 0) {
                    out.append(',');
                }
                value(out, array[i]);
            }
            out.append(']');
        } else {
            throw new IllegalArgumentException("no JSON form for " + value.getClass());
        }
    }

    static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
            } else {
                out.append(c);
            }
        }
        out.append('"');
    }
}
