package dev.sportsfeat.udfs.state;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;

/**
 * Base of the RAW accumulator serializers: a stateless serializer of a mutable accumulator whose
 * encoding starts with a format version byte, so a later encoding can still read today's
 * savepoints. Subclasses and their snapshot classes are part of the savepoint format: never
 * rename or move them.
 */
public abstract class AccumulatorSerializer<T> extends TypeSerializer<T> {
    private static final long serialVersionUID = 1L;
    private static final byte VERSION = 1;

    /** Writes the accumulator's content (after the version byte). */
    protected abstract void write(T value, DataOutputView out) throws IOException;

    /** Reads what {@link #write} wrote for format {@code version}. */
    protected abstract T read(int version, DataInputView in) throws IOException;

    @Override
    public final boolean isImmutableType() {
        return false;
    }

    @Override
    public final TypeSerializer<T> duplicate() {
        return this; // stateless, so safe to share between threads
    }

    @Override
    public final T copy(T from) {
        // Only used by heap state snapshots, never per record: a round trip is a true deep copy.
        try {
            DataOutputSerializer out = new DataOutputSerializer(256);
            serialize(from, out);
            return deserialize(new DataInputDeserializer(out.getSharedBuffer(), 0, out.length()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot copy " + from, e);
        }
    }

    @Override
    public final T copy(T from, T reuse) {
        return copy(from);
    }

    @Override
    public final int getLength() {
        return -1;
    }

    @Override
    public final void serialize(T value, DataOutputView out) throws IOException {
        out.writeByte(VERSION);
        write(value, out);
    }

    @Override
    public final T deserialize(DataInputView in) throws IOException {
        int version = in.readByte();
        if (version != VERSION) {
            throw new IOException(getClass().getSimpleName() + ": unknown format " + version);
        }
        return read(version, in);
    }

    @Override
    public final T deserialize(T reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public final void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    @Override
    public final boolean equals(Object obj) {
        return obj != null && obj.getClass() == getClass();
    }

    @Override
    public final int hashCode() {
        return getClass().hashCode();
    }

    /** Writes a byte array with its length. */
    protected static void writeBytes(byte[] bytes, DataOutputView out) throws IOException {
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    /** Reads what {@link #writeBytes} wrote. */
    protected static byte[] readBytes(DataInputView in) throws IOException {
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        return bytes;
    }
}
