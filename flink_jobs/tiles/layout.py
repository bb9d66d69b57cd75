"""How a tiled group's features map to the partial aggregates ("parts") of its tiles.

Engine v2 (docs/engine-v2.md) aggregates on write into tiles: per entity, group and tile, one
mergeable partial aggregate per *part*. Features that read the same partial share a part
(the 1-hour group's watch-time sum and max read one NUMERIC part; p50 and p90 one KLL
sketch), so a tile carries each partial once. The Java tile function (udfs/java, `Tiles`)
builds the parts this module lists, in this order; `flink_jobs.tiles.merge` finalizes them.
One definition serves both, so the writer side and the read side cannot disagree.

Tile sizes: a tumbling window's size, a hopping window's slide, a cumulative window's size
(the day so far is one tile). Sessions and lifetime groups are not tiled yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from functools import cache

from flink_jobs.features.model import (
    Agg,
    Cumulative,
    Feature,
    FeatureGroup,
    Hopping,
    Tumbling,
    Where,
    Window,
)

KLL_K = 200  # KLL sketch size: normalized rank error ~1.33% (DataSketches), as v1


class PartKind(Enum):
    """A partial aggregate's kind, and what its IR row (the tile stream's `parts`) holds.

    NUMERIC: n (non-null values), sum, min, max, m2 (sum of squared deviations from the
    mean): COUNT (value 1 per matching row), SUM, MIN, MAX, AVG, VARIANCE, STDDEV.
    DISTINCT: items, every distinct value. HLL / KLL: sketch, a DataSketches image (HLL_8
    compact, KllDoublesSketch), null while empty. EARLIEST / LATEST: items = [value], ts.
    LAST_N: items and item_times, the n distinct values with the greatest latest event time.
    TOP_K: items and item_counts, every value's exact count. DECAY: n, sum = the decayed sum
    as of ts (the latest event time): sum(v * 2**(-(ts - t_i) / half_life)).
    """

    NUMERIC = "numeric"
    DISTINCT = "distinct"
    HLL = "hll"
    KLL = "kll"
    EARLIEST = "earliest"
    LATEST = "latest"
    LAST_N = "last_n"
    TOP_K = "top_k"
    DECAY = "decay"


KIND_OF = {
    Agg.COUNT: PartKind.NUMERIC,
    Agg.SUM: PartKind.NUMERIC,
    Agg.MIN: PartKind.NUMERIC,
    Agg.MAX: PartKind.NUMERIC,
    Agg.AVG: PartKind.NUMERIC,
    Agg.VARIANCE: PartKind.NUMERIC,
    Agg.STDDEV: PartKind.NUMERIC,
    Agg.COUNT_DISTINCT: PartKind.DISTINCT,
    Agg.APPROX_DISTINCT: PartKind.HLL,
    Agg.PERCENTILE: PartKind.KLL,
    Agg.EARLIEST: PartKind.EARLIEST,
    Agg.LATEST: PartKind.LATEST,
    Agg.LAST_N: PartKind.LAST_N,
    Agg.TOP_K: PartKind.TOP_K,
    Agg.DECAY_SUM: PartKind.DECAY,
}
STRING_INPUT = frozenset(
    {
        PartKind.DISTINCT,
        PartKind.HLL,
        PartKind.EARLIEST,
        PartKind.LATEST,
        PartKind.LAST_N,
        PartKind.TOP_K,
    }
)


@dataclass(frozen=True)
class Part:
    """One partial aggregate of a group's tiles: its kind, the column it reads (None: the
    value 1 of every matching row), the rows it reads, its sketch/list parameter, and the
    features computed from it."""

    kind: PartKind
    column: str | None
    where: tuple[Where, ...]
    param: int | None
    features: tuple[str, ...]

    @property
    def string_input(self) -> bool:
        """The part reads its column as a string (else as a double)."""
        return self.kind in STRING_INPUT


def _param(feature: Feature) -> int | None:
    match feature.agg:
        case Agg.APPROX_DISTINCT:
            return feature.lg_k
        case Agg.LAST_N:
            return feature.n
        case Agg.PERCENTILE:
            return KLL_K
        case Agg.DECAY_SUM:
            return int(feature.half_life.total_seconds() * 1000) if feature.half_life else None
    return None


@cache  # every merge and finalize reads it: built once per group (~30 µs), looked up (~6 µs)
def parts(group: FeatureGroup) -> tuple[Part, ...]:
    """The group's parts, in first-use order of its features (RATIO reads other features)."""
    found: dict[tuple[PartKind, str | None, tuple[Where, ...], int | None], list[str]] = {}
    for feature in group.features:
        if feature.agg is Agg.RATIO:
            continue
        key = (KIND_OF[feature.agg], feature.column, feature.where, _param(feature))
        found.setdefault(key, []).append(feature.name)
    return tuple(
        Part(kind, column, where, param, tuple(names))
        for (kind, column, where, param), names in found.items()
    )


def part_of(group: FeatureGroup, feature: str) -> int:
    """The index of the part that `feature` (not a RATIO) is computed from."""
    for i, part in enumerate(parts(group)):
        if feature in part.features:
            return i
    raise KeyError(f"{group.name}: no part computes {feature}")


def tile_span(window: Window) -> timedelta:
    """The group's tile size (TypeError for windows not tiled yet)."""
    match window:
        case Tumbling(size) | Cumulative(size, _):
            return size
        case Hopping(_, slide):
            return slide
    raise TypeError(f"{window} is not tiled yet (sessions and lifetime groups stay on v1)")


def tile_ms(window: Window) -> int:
    """The group's tile size in milliseconds."""
    return int(tile_span(window).total_seconds() * 1000)


def tiled(group: FeatureGroup) -> bool:
    return isinstance(group.window, Tumbling | Hopping | Cumulative)
