"""Engine v2 -> Flink SQL: one tile function per entity kind (docs/engine-v2.md §5.1).

Per kind, reading the source's valid, deduplicated events (`<src>_events`, as v1 builds them):
`<kind>_rows` (per group whether the row belongs to it and whether it is late, and each part's
input value) -> late rows to `late.<group>.v2` | `<kind>_input` (the row's group mask: the
groups it counts in) -> TILES(...), the Java tile function, whose rows are the tile stream.

A row is late for a group when its tile has closed: the tile's end - 1 ms is at or behind the
watermark the row arrives with (`CURRENT_WATERMARK`, as v1). Late rows count in no tile of the
group. Because the tile function's watermark is never ahead of this one, no row of a closed
tile reaches it, and a closed tile is final.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from flink_jobs.features.catalogue import CATALOGUE
from flink_jobs.features.compile import (
    ORIGIN,
    Statement,
    metered,
    predicate,
    q,
    tile_end,
)
from flink_jobs.features.model import FeatureGroup
from flink_jobs.tiles.layout import Part, parts, tile_ms, tile_span, tiled

VERSION = 2
EMIT_INTERVAL_MS = 500  # a key's changed tiles are emitted at most this often
FIXED_INPUTS = 3  # the tile function's input: entity, event time, group mask, then the parts


def v2(group: FeatureGroup) -> FeatureGroup:
    """The group's tiled version: same features, served continuously (new meaning, so a new
    version)."""
    return replace(group, version=VERSION)


TILED_CATALOGUE: tuple[FeatureGroup, ...] = tuple(v2(g) for g in CATALOGUE if tiled(g))


@dataclass(frozen=True)
class Kind:
    """The groups keyed by one entity column: one tile function and one tile stream."""

    entity: str
    groups: tuple[FeatureGroup, ...]

    @property
    def name(self) -> str:
        return self.entity.removesuffix("_id")

    @property
    def version(self) -> int:
        return VERSION

    @property
    def topic(self) -> str:
        return f"tiles.{self.name}.v{VERSION}"

    @property
    def uid(self) -> str:
        """The tile function's operator uid: its state is found by it on restore."""
        return f"tiles-{self.name}-v{VERSION}"


def kinds(groups: tuple[FeatureGroup, ...]) -> tuple[Kind, ...]:
    """The groups by entity kind, in first-use order (a kind holds at most 32 groups)."""
    by_entity: dict[str, list[FeatureGroup]] = {}
    for group in groups:
        if group.explode is not None or group.keys != (group.entity,):
            raise ValueError(f"{group.name}: composite or exploded keys are not tiled yet")
        by_entity.setdefault(group.entity, []).append(group)
    return tuple(Kind(entity, tuple(members)) for entity, members in by_entity.items())


def split(groups: tuple[FeatureGroup, ...]) -> tuple[tuple[FeatureGroup, ...], tuple[Kind, ...]]:
    """(the groups computed by v1 window operators, the kinds of the tiled v2 groups)."""
    windowed = tuple(g for g in groups if g not in TILED_CATALOGUE)
    return windowed, kinds(tuple(g for g in groups if g in TILED_CATALOGUE))


def _input(g: int, i: int) -> str:
    return f"_g{g}p{i}"


def _value(part: Part) -> str:
    """A part's input: its column (or 1.0) where the part's filter holds, else NULL."""
    if part.column is None:
        value = "1.0"
    else:
        value = f"CAST({q(part.column)} AS {'STRING' if part.string_input else 'DOUBLE'})"
    if not part.where:
        return value
    return f"CASE WHEN {' AND '.join(predicate(w) for w in part.where)} THEN {value} END"


def spec(kind: Kind, emit_interval_ms: int = EMIT_INTERVAL_MS) -> str:
    """The tile function's spec literal (udfs/java `TileSpec`): groups, tiles, parts, inputs."""
    position = FIXED_INPUTS
    groups = []
    for group in kind.groups:
        specs = []
        for part in parts(group):
            specs.append({"kind": part.kind.value, "input": position, "param": part.param or 0})
            position += 1
        groups.append({"name": group.table, "tile_ms": tile_ms(group.window), "parts": specs})
    return json.dumps({"emit_interval_ms": emit_interval_ms, "groups": groups}, sort_keys=True)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def kind_statements(kind: Kind, emit_interval_ms: int = EMIT_INTERVAL_MS) -> list[Statement]:
    """The views and sinks of one kind (streaming): late rows to `<group>_late`, the view
    `<kind>_tiles` (the tile function's rows) to `<kind>_tile_sink` (schemas/tile-update.avsc)."""
    first = kind.groups[0]
    events, et, entity = f"`{first.source.name}_events`", q(first.source.event_time), q(kind.entity)
    flags, inputs = [], []
    for g, group in enumerate(kind.groups):
        member = " AND ".join(predicate(w) for w in group.where) or "TRUE"
        closed = f"{tile_end(tile_span(group.window), et)} - INTERVAL '0.001' SECOND"
        flags += [
            f"{member} AS `_in{g}`",
            f"COALESCE({closed} <= CURRENT_WATERMARK({et}), FALSE) AS `_late{g}`",
        ]
        inputs += [f"{_value(p)} AS `{_input(g, i)}`" for i, p in enumerate(parts(group))]
    origin = ", ".join(q(c) for c in ORIGIN)
    rows = (
        f"SELECT {entity}, {et}, {origin},\n  CURRENT_WATERMARK({et}) AS `_watermark`,\n  "
        + ",\n  ".join(flags + inputs)
        + f"\nFROM {events}\nWHERE {entity} IS NOT NULL"
    )
    mask = " + ".join(
        f"CASE WHEN `_in{g}` AND NOT `_late{g}` THEN {1 << g} ELSE 0 END"
        for g in range(len(kind.groups))
    )
    names = ", ".join(
        f"`{_input(g, i)}`" for g, group in enumerate(kind.groups) for i in range(len(parts(group)))
    )
    statements = [
        Statement(f"{kind.name}_rows", rows),
        Statement(
            f"{kind.name}_input",
            f"SELECT * FROM (\n  SELECT {entity}, {et}, {mask} AS `_groups`, {names}\n"
            f"  FROM `{kind.name}_rows`)\nWHERE `_groups` <> 0",
        ),
    ]
    for g, group in enumerate(kind.groups):
        late = metered(f"`_in{g}` AND `_late{g}`", "late", group.source.topic, f"'{group.name}'")
        statements.append(
            Statement(
                f"{group.table}_late",
                f"SELECT '{group.name}' AS `feature_group`, {group.version} AS `version`,\n"
                f"  {entity} AS `entity`, {et} AS `event_time`,\n"
                "  `_watermark` AS `watermark`,\n"
                "  `_topic` AS `source_topic`, `_partition` AS `source_partition`,\n"
                "  `_offset` AS `source_offset`, `_value` AS `original`\n"
                f"FROM `{kind.name}_rows`\nWHERE {late}",
                sink=True,
            )
        )
    statements.append(
        Statement(
            f"{kind.name}_tiles",
            f"SELECT * FROM TILES(\n  input => TABLE `{kind.name}_input` PARTITION BY {entity},\n"
            f"  spec => {_sql_string(spec(kind, emit_interval_ms))},\n"
            f"  uid => '{kind.uid}')",
        )
    )
    statements.append(
        Statement(
            f"{kind.name}_tile_sink",
            f"SELECT {entity} AS `entity`, `watermark_ms`, `tiles`\nFROM `{kind.name}_tiles`",
            sink=True,
        )
    )
    return statements
