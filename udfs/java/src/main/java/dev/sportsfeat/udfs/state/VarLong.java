package dev.sportsfeat.udfs.state;

import java.io.IOException;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/** Unsigned LEB128 for non-negative longs: counts and timestamps take 1-6 bytes, not 8. */
final class VarLong {
    private VarLong() {}

    static void write(long value, DataOutputView out) throws IOException {
        while ((value & ~0x7FL) != 0) {
            out.writeByte((int) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        out.writeByte((int) value);
    }

    static long read(DataInputView in) throws IOException {
        long value = 0;
        for (int shift = 0; ; shift += 7) {
            byte b = in.readByte();
            value |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return value;
            }
        }
    }
}
