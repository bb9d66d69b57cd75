package dev.sportsfeat.udfs.tiles;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.table.annotation.ArgumentHint;
import org.apache.flink.table.annotation.ArgumentTrait;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.StateHint;
import org.apache.flink.table.api.dataview.MapView;
import org.apache.flink.table.functions.ProcessTableFunction;
import org.apache.flink.types.Row;

/**
 * Engine v2's one stateful step per entity kind (docs/engine-v2.md): every row of the kind is
 * added to the open tile of each group its mask names, and the key's changed tiles are emitted
 * at most every {@code emit_interval_ms}, as partial aggregates that readers merge into windows.
 *
 * <p>Called from SQL as {@code TILES(input => TABLE t PARTITION BY entity, spec => '<json>',
 * uid => 'tiles-<kind>-v2')}, without {@code on_time}: Flink 2.2.1 would drop rows behind the
 * watermark before eval, but a row behind the watermark in a still-open tile is on time here.
 * Lateness is decided upstream (a row of a closed tile never reaches this function), so a
 * closed tile is final. Input columns: 0 the entity, 1 the event time, 2 the group mask (INT,
 * bit i = the row counts for group i), then the parts' inputs as {@link TileSpec} places them.
 *
 * <p>Emission: at an event, at once if the key emitted at least the interval ago (processing
 * time), else by an event-time timer at watermark + interval (2.2.1 drops timers at or behind
 * the watermark, and has no processing-time timers). Under load the watermark moves with the
 * events, so a held update waits about one interval; on a source that goes quiet it waits for
 * the next watermark.
 *
 * <p>State: closed tiles leave it at the key's next emission, and a named timer ("close") at
 * the end of the key's last open tile makes that emission happen for a key that went quiet;
 * once no tile is open the key's state is cleared. So the state holds the open tiles only and
 * needs no TTL (on the heap backend a TTL's incremental clean-up copied state on every access).
 */
@DataTypeHint("ROW<watermark_ms BIGINT, tiles ARRAY<" + Tiles.TILE_TYPE + ">>")
public final class Tiles extends ProcessTableFunction<Row> {
    /** A changed tile: its group, start, newest event time and the tile as {@link TileJson}. */
    static final String TILE_TYPE =
            "ROW<feature_group STRING, tile_start BIGINT, last_ms BIGINT, tile STRING>";

    static final String CLOSE_TIMER = "close";
    /** Not the job's `table.exec.state.ttl` (the dedup horizon), which would apply otherwise. */
    static final String NO_TTL = "0 ms";

    /**
     * Per key: when it last emitted (processing time), its pending emission timer and its close
     * timer (event time).
     */
    public static class Emission {
        public Long lastMs;
        public Long timerMs;
        public Long closeMs;
    }

    private transient String specJson;
    private transient TileSpec spec;

    public void eval(
            Context ctx,
            @StateHint(name = "emission", ttl = NO_TTL) Emission emission,
            @StateHint(name = "tiles", ttl = NO_TTL) MapView<Long, Tile> tiles,
            @ArgumentHint(ArgumentTrait.SET_SEMANTIC_TABLE) Row input,
            String spec)
            throws Exception {
        TileSpec s = spec(spec);
        long ts = millis(input.getField(1));
        int mask = (Integer) input.getField(2);
        for (TileSpec.Group group : s.groups()) {
            if ((mask & (1 << group.index())) != 0) {
                long key = Tile.key(group.index(), Math.floorDiv(ts, group.tileMs()) * group.tileMs());
                Tile tile = tiles.get(key);
                if (tile == null) {
                    tile = Tile.of(group, ts);
                }
                tile.add(group, input, ts);
                tiles.put(key, tile);
            }
        }
        TimeContext<Long> time = ctx.timeContext(Long.class);
        Long watermark = time.currentWatermark();
        long now = System.currentTimeMillis();
        if (watermark == null || emission.lastMs == null || now - emission.lastMs >= s.emitIntervalMs()) {
            emit(ctx, emission, tiles, watermark, now);
        } else if (emission.timerMs == null) {
            emission.timerMs = watermark + s.emitIntervalMs();
            time.registerOnTime(emission.timerMs);
        }
    }

    public void onTimer(OnTimerContext ctx, Emission emission, MapView<Long, Tile> tiles)
            throws Exception {
        if (ctx.currentTimer() == null) {
            emission.timerMs = null;
        }
        emit(ctx, emission, tiles, ctx.timeContext(Long.class).currentWatermark(), System.currentTimeMillis());
    }

    /**
     * Emits the key's changed tiles in one row, drops its closed ones and sets the close timer at
     * the end of its last open tile; clears the key's state when no tile is open.
     */
    private void emit(Context ctx, Emission emission, MapView<Long, Tile> tiles, Long watermark, long now)
            throws Exception {
        List<Row> changed = new ArrayList<>();
        List<Map.Entry<Long, Tile>> emitted = new ArrayList<>();
        List<Long> closed = new ArrayList<>();
        long openUntil = Long.MIN_VALUE;
        for (Map.Entry<Long, Tile> entry : tiles.entries()) {
            Tile tile = entry.getValue();
            if (tile.dirty) {
                changed.add(tile.streamed());
                tile.dirty = false;
                emitted.add(entry);
            }
            if (tile.closedAt(watermark)) {
                closed.add(entry.getKey());
            } else {
                openUntil = Math.max(openUntil, tile.end);
            }
        }
        for (Map.Entry<Long, Tile> entry : emitted) {
            tiles.put(entry.getKey(), entry.getValue()); // a state backend that copies needs the write
        }
        for (Long key : closed) {
            tiles.remove(key);
        }
        if (!changed.isEmpty()) {
            collect(Row.of(watermark, changed.toArray(new Row[0])));
            emission.lastMs = now;
        }
        if (openUntil == Long.MIN_VALUE) {
            ctx.clearAllState(); // a pending emission timer finds nothing and clears again
        } else if (emission.closeMs == null || emission.closeMs != openUntil - 1) {
            emission.closeMs = openUntil - 1; // after the watermark: the tile is open
            ctx.timeContext(Long.class).registerOnTime(CLOSE_TIMER, emission.closeMs);
        }
    }

    private TileSpec spec(String json) {
        if (!json.equals(specJson)) {
            spec = TileSpec.parse(json);
            specJson = json;
        }
        return spec;
    }

    private static long millis(Object eventTime) {
        if (eventTime instanceof LocalDateTime local) {
            return local.toInstant(ZoneOffset.UTC).toEpochMilli();
        }
        if (eventTime instanceof Instant instant) {
            return instant.toEpochMilli();
        }
        return (Long) eventTime;
    }
}
