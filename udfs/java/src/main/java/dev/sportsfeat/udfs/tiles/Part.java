package dev.sportsfeat.udfs.tiles;

import java.io.IOException;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.Row;

/**
 * One mergeable partial aggregate of a tile. The kinds and what their IR rows hold are listed in
 * {@link PartKind} (and, for the read side, in flink_jobs/tiles/layout.py).
 */
interface Part {
    /** Adds one row's non-null input value at event time {@code ts}. */
    void add(Object value, long ts);

    /**
     * The part's IR row: n, sum, min, max, m2, ts, items, item_counts, item_times, sketch (the
     * order of flink_jobs/tiles/merge.py FIELDS), as the tile stream carries it ({@link TileJson}).
     */
    Row ir();

    /** Writes the content (after the kind and parameter, which {@link Tile} writes). */
    void write(DataOutputView out) throws IOException;

    /** An IR row: fields a kind does not use stay null. */
    static Row ir(
            Long n,
            Double sum,
            Double min,
            Double max,
            Double m2,
            Long ts,
            String[] items,
            Long[] itemCounts,
            Long[] itemTimes,
            byte[] sketch) {
        return Row.of(n, sum, min, max, m2, ts, items, itemCounts, itemTimes, sketch);
    }
}
