package dev.sportsfeat.udfs.tiles;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@link Tiles} computes for one entity kind, from the JSON literal the generated SQL
 * passes (flink_jobs/tiles/spec.py writes it):
 *
 * <pre>{"emit_interval_ms": 500,
 *  "groups": [{"name": "user_activity_v2", "tile_ms": 60000,
 *              "parts": [{"kind": "numeric", "input": 3, "param": 0}, ...]}, ...]}</pre>
 *
 * <p>A group's index in the list is its bit in the input's group mask; a part's input is the
 * position of the column it reads in the input row.
 */
record TileSpec(long emitIntervalMs, List<Group> groups) {
    /** Groups per kind: a tile's state key holds the group index below this. */
    static final int MAX_GROUPS = 32;

    private static final ObjectMapper JSON = new ObjectMapper();

    record PartSpec(PartKind kind, int input, int param) {}

    record Group(int index, String name, long tileMs, List<PartSpec> parts) {}

    static TileSpec parse(String json) {
        try {
            JsonNode root = JSON.readTree(json);
            List<Group> groups = new ArrayList<>();
            for (JsonNode g : root.required("groups")) {
                List<PartSpec> parts = new ArrayList<>();
                for (JsonNode p : g.required("parts")) {
                    parts.add(new PartSpec(
                            PartKind.valueOf(p.required("kind").asText().toUpperCase(Locale.ROOT)),
                            p.required("input").asInt(),
                            p.path("param").asInt(0)));
                }
                long tileMs = g.required("tile_ms").asLong();
                if (tileMs <= 0) {
                    throw new IllegalArgumentException("tile_ms must be positive: " + g);
                }
                groups.add(new Group(groups.size(), g.required("name").asText(), tileMs, parts));
            }
            if (groups.size() > MAX_GROUPS) {
                throw new IllegalArgumentException("at most " + MAX_GROUPS + " groups per kind");
            }
            return new TileSpec(root.required("emit_interval_ms").asLong(), List.copyOf(groups));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("invalid tile spec: " + e.getMessage() + ": " + json, e);
        }
    }
}
