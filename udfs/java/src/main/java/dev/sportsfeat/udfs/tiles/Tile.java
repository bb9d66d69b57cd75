package dev.sportsfeat.udfs.tiles;

import dev.sportsfeat.udfs.state.AccumulatorSerializer;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.types.Row;

/**
 * The partial aggregates of one entity's rows of one group in one tile [start, end), with the
 * row count and first/last event times, and whether it changed since it was last emitted.
 *
 * <p>RAW with its own serializer, so the heap state backend keeps it as an object (nothing is
 * serialized per event). The serializer is part of the savepoint format.
 */
@DataTypeHint(value = "RAW", bridgedTo = Tile.class, rawSerializer = Tile.Serializer.class)
public final class Tile {
    final int group;
    final String name;
    final long start;
    final long end;
    private final PartKind[] kinds;
    private final int[] params;
    private final Part[] parts;
    private long n;
    private long firstMs = Long.MAX_VALUE;
    private long lastMs = Long.MIN_VALUE;
    boolean dirty;

    private Tile(int group, String name, long start, long end, PartKind[] kinds, int[] params, Part[] parts) {
        this.group = group;
        this.name = name;
        this.start = start;
        this.end = end;
        this.kinds = kinds;
        this.params = params;
        this.parts = parts;
    }

    /** An empty tile of {@code spec}'s group holding event time {@code ts}. */
    static Tile of(TileSpec.Group spec, long ts) {
        long start = Math.floorDiv(ts, spec.tileMs()) * spec.tileMs();
        int size = spec.parts().size();
        PartKind[] kinds = new PartKind[size];
        int[] params = new int[size];
        Part[] parts = new Part[size];
        for (int i = 0; i < size; i++) {
            TileSpec.PartSpec part = spec.parts().get(i);
            kinds[i] = part.kind();
            params[i] = part.param();
            parts[i] = part.kind().create(part.param());
        }
        return new Tile(spec.index(), spec.name(), start, start + spec.tileMs(), kinds, params, parts);
    }

    /** Adds a row of the group: every part reads its input column (nulls are skipped). */
    void add(TileSpec.Group spec, Row row, long ts) {
        for (int i = 0; i < parts.length; i++) {
            Object value = row.getField(spec.parts().get(i).input());
            if (value != null) {
                parts[i].add(value, ts);
            }
        }
        n++;
        firstMs = Math.min(firstMs, ts);
        lastMs = Math.max(lastMs, ts);
        dirty = true;
    }

    /** Final once the watermark has passed its last millisecond: no on-time row can reach it. */
    boolean closedAt(Long watermark) {
        return watermark != null && end - 1 <= watermark;
    }

    /** The tile's fields and its parts' IR rows: group, start, end, n, first, last, parts. */
    Row ir() {
        return Row.of(name, start, end, n, firstMs, lastMs, partRows());
    }

    /** The tile as the tile stream carries it: a row of {@link Tiles#TILE_TYPE}. */
    Row streamed() {
        return Row.of(name, start, lastMs, TileJson.of(start, end, n, firstMs, lastMs, partRows()));
    }

    private Row[] partRows() {
        Row[] irs = new Row[parts.length];
        for (int i = 0; i < parts.length; i++) {
            irs[i] = parts[i].ir();
        }
        return irs;
    }

    /** The state key of a group's tile: its start and the group's index. */
    static long key(int group, long start) {
        return start * TileSpec.MAX_GROUPS + group;
    }

    /** Serializer of {@link Tile}: identity, counts, then each part's kind, parameter and content. */
    public static final class Serializer extends AccumulatorSerializer<Tile> {
        private static final long serialVersionUID = 1L;

        @Override
        public Tile createInstance() {
            return new Tile(0, "", 0, 0, new PartKind[0], new int[0], new Part[0]);
        }

        @Override
        protected void write(Tile tile, DataOutputView out) throws IOException {
            out.writeInt(tile.group);
            out.writeUTF(tile.name);
            out.writeLong(tile.start);
            out.writeLong(tile.end);
            out.writeLong(tile.n);
            out.writeLong(tile.firstMs);
            out.writeLong(tile.lastMs);
            out.writeBoolean(tile.dirty);
            out.writeInt(tile.parts.length);
            for (int i = 0; i < tile.parts.length; i++) {
                out.writeByte(tile.kinds[i].ordinal());
                out.writeInt(tile.params[i]);
                tile.parts[i].write(out);
            }
        }

        @Override
        protected Tile read(int version, DataInputView in) throws IOException {
            int group = in.readInt();
            String name = in.readUTF();
            long start = in.readLong();
            long end = in.readLong();
            long n = in.readLong();
            long firstMs = in.readLong();
            long lastMs = in.readLong();
            boolean dirty = in.readBoolean();
            int size = in.readInt();
            PartKind[] kinds = new PartKind[size];
            int[] params = new int[size];
            Part[] parts = new Part[size];
            for (int i = 0; i < size; i++) {
                kinds[i] = PartKind.values()[in.readByte()];
                params[i] = in.readInt();
                parts[i] = kinds[i].read(params[i], in);
            }
            Tile tile = new Tile(group, name, start, end, kinds, params, parts);
            tile.n = n;
            tile.firstMs = firstMs;
            tile.lastMs = lastMs;
            tile.dirty = dirty;
            return tile;
        }

        @Override
        public Snapshot snapshotConfiguration() {
            return new Snapshot();
        }
    }

    /** Snapshot of {@link Serializer}; part of the savepoint format. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<Tile> {
        public Snapshot() {
            super(Serializer::new);
        }
    }
}
