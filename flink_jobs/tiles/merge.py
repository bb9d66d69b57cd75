"""Merge on read: a group's tiles -> its feature values at request time t (docs/engine-v2.md
§5.4-5.5). The one merge of the Python side: the feature API, backfill, the Kafka client and
the tests all read tiles through it.

A tile is the decoded Avro record of the tile stream: tile_start, tile_end, n, first_ms,
last_ms and `parts`, one IR dict per `layout.parts(group)`, in that order, with the fields
n, sum, min, max, m2, ts, items, item_counts, item_times, sketch (see `layout.PartKind`).
`merge` returns IR dicts of the same shape, so a merged result merges again (cacheable).
Times are milliseconds since the epoch.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from datasketches import hll_sketch, hll_union, kll_doubles_sketch, tgt_hll_type

from flink_jobs.features.model import Agg, Feature, FeatureGroup, Hopping
from flink_jobs.tiles.layout import Part, PartKind, parts, tile_ms

Tile = Mapping[str, Any]
IR = dict[str, Any]  # one part's partial aggregate, as in a tile's `parts`

FIELDS = ("n", "sum", "min", "max", "m2", "ts", "items", "item_counts", "item_times", "sketch")
_NONE: IR = dict.fromkeys(FIELDS)


def selected_range(group: FeatureGroup, t: int) -> tuple[int, int]:
    """(lo, hi): a read at t merges the tiles with lo <= tile_start < hi, and hi = t.

    Tumbling S and cumulative D: lo = floor(t, tile), the window holding t so far (nothing at
    a boundary). Hopping W every h: lo = floor(t, h) - W, Chronon's sawtooth: W/h tiles at a
    slide boundary (exactly W), W/h + 1 between (up to W + h).
    """
    size = tile_ms(group.window)
    lo = t - t % size
    if isinstance(group.window, Hopping):
        lo -= int(group.window.size.total_seconds() * 1000)
    return lo, t


def select(group: FeatureGroup, tiles: Iterable[Tile], t: int) -> list[Tile]:
    """The tiles a read at t merges (`selected_range`); the others are ignored."""
    lo, hi = selected_range(group, t)
    return [tile for tile in tiles if lo <= tile["tile_start"] < hi]


def ir(**fields: Any) -> IR:
    """A part IR: the given fields, every other field None."""
    unknown = fields.keys() - _NONE.keys()
    if unknown:
        raise ValueError(f"not IR fields: {sorted(unknown)}")
    return {**_NONE, **fields}  # in FIELDS order: a merge runs it per part


def _param(part: Part) -> int:
    if part.param is None:
        raise ValueError(f"{part.kind.value} part of {part.features} has no parameter")
    return part.param


def _numeric(part: Part, irs: Sequence[IR]) -> IR:
    """Counts and sums add, min/max compare, m2 by Chan et al.'s parallel formula."""
    n, total, m2 = 0, 0.0, 0.0
    low: float | None = None
    high: float | None = None
    for x in irs:
        k = x["n"] or 0
        if k == 0:
            continue
        if n:
            delta = x["sum"] / k - total / n
            m2 += (x["m2"] or 0.0) + delta * delta * n * k / (n + k)
        else:
            m2 = x["m2"] or 0.0
        n, total = n + k, total + x["sum"]
        low = x["min"] if low is None else min(low, x["min"])
        high = x["max"] if high is None else max(high, x["max"])
    if n == 0:
        return ir(n=0)
    return ir(n=n, sum=total, min=low, max=high, m2=m2)


def _distinct(part: Part, irs: Sequence[IR]) -> IR:
    return ir(items=sorted({item for x in irs for item in x["items"] or ()}))


def _hll(part: Part, irs: Sequence[IR]) -> IR:
    images = [x["sketch"] for x in irs if x["sketch"] is not None]
    if len(images) <= 1:
        return ir(sketch=images[0] if images else None)
    union = hll_union(_param(part))
    for image in images:
        union.update(hll_sketch.deserialize(image))
    return ir(sketch=bytes(union.get_result(tgt_hll_type.HLL_8).serialize_compact()))


def _kll(part: Part, irs: Sequence[IR]) -> IR:
    images = [x["sketch"] for x in irs if x["sketch"] is not None]
    if len(images) <= 1:
        return ir(sketch=images[0] if images else None)
    merged = kll_doubles_sketch.deserialize(images[0])
    for image in images[1:]:
        merged.merge(kll_doubles_sketch.deserialize(image))
    return ir(sketch=bytes(merged.serialize()))


def _timed(pick: Callable[..., tuple[int, str]]) -> Callable[[Part, Sequence[IR]], IR]:
    """EARLIEST (pick = min) / LATEST (max) of (ts, value): ties by value, as v1."""

    def merge(part: Part, irs: Sequence[IR]) -> IR:
        found = [(x["ts"], x["items"][0]) for x in irs if x["items"]]
        if not found:
            return ir()
        ts, value = pick(found)
        return ir(ts=ts, items=[value])

    return merge


def _last_n(part: Part, irs: Sequence[IR]) -> IR:
    """Each value's latest time, then the n newest by (-time, value): exact under merge."""
    latest: dict[str, int] = {}
    for x in irs:
        for item, ts in zip(x["items"] or (), x["item_times"] or (), strict=True):
            latest[item] = max(ts, latest.get(item, ts))
    kept = sorted(latest.items(), key=lambda kv: (-kv[1], kv[0]))[: _param(part)]
    return ir(items=[v for v, _ in kept], item_times=[t for _, t in kept])


def _top_k(part: Part, irs: Sequence[IR]) -> IR:
    """Exact counts add; kept most frequent first, ties by value."""
    counts: Counter[str] = Counter()
    for x in irs:
        for item, count in zip(x["items"] or (), x["item_counts"] or (), strict=True):
            counts[item] += count
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ir(items=[v for v, _ in ranked], item_counts=[c for _, c in ranked])


def decayed(total: float, ts: int, to: int, half_life_ms: int) -> float:
    """A decayed sum as of `ts`, rescaled to time `to`."""
    return total * 2 ** (-(to - ts) / half_life_ms)


def _decay(part: Part, irs: Sequence[IR]) -> IR:
    """Both sums rescaled to the later reference time, then added."""
    full = [x for x in irs if x["n"] and x["ts"] is not None]
    if not full:
        return ir(n=0)
    ts = max(x["ts"] for x in full)
    half_life = _param(part)
    total = sum(decayed(x["sum"], x["ts"], ts, half_life) for x in full)
    return ir(n=sum(x["n"] for x in full), sum=total, ts=ts)


MERGES: dict[PartKind, Callable[[Part, Sequence[IR]], IR]] = {
    PartKind.NUMERIC: _numeric,
    PartKind.DISTINCT: _distinct,
    PartKind.HLL: _hll,
    PartKind.KLL: _kll,
    PartKind.EARLIEST: _timed(min),
    PartKind.LATEST: _timed(max),
    PartKind.LAST_N: _last_n,
    PartKind.TOP_K: _top_k,
    PartKind.DECAY: _decay,
}


def merge_part(part: Part, irs: Sequence[IR]) -> IR:
    """One part's IRs (any number, any order) merged into one; the empty IR for none."""
    return MERGES[part.kind](part, irs)


def merge(group: FeatureGroup, tiles: Iterable[Tile]) -> list[IR]:
    """The tiles' parts merged, part by part: associative and commutative (sketches within
    their bounds, float sums up to rounding). No tiles give every part's empty IR."""
    layout = parts(group)
    columns: list[list[IR]] = [[] for _ in layout]
    for tile in tiles:
        for column, x in zip(columns, tile["parts"], strict=True):
            column.append(x)
    return [merge_part(part, column) for part, column in zip(layout, columns, strict=True)]


def _value(feature: Feature, x: IR, t: int) -> Any:
    """One feature's served value from its part's merged IR (v1's rules for no rows)."""
    n = x["n"] or 0
    match feature.agg:
        case Agg.COUNT:
            return int(n)
        case Agg.SUM:
            return float(x["sum"]) if n else None
        case Agg.MIN:
            return x["min"] if n else None
        case Agg.MAX:
            return x["max"] if n else None
        case Agg.AVG:
            return x["sum"] / n if n else None
        case Agg.VARIANCE:
            return max(x["m2"], 0.0) / n if n else None
        case Agg.STDDEV:
            return math.sqrt(max(x["m2"], 0.0) / n) if n else None
        case Agg.COUNT_DISTINCT:
            return len(x["items"] or ())
        case Agg.APPROX_DISTINCT:
            image = x["sketch"]
            return round(hll_sketch.deserialize(image).get_estimate()) if image else 0
        case Agg.PERCENTILE:
            image = x["sketch"]
            if not image:
                return None
            # inclusive search, as v1's KllAccumulator (Java's default)
            return float(kll_doubles_sketch.deserialize(image).get_quantile(feature.fraction, True))
        case Agg.EARLIEST | Agg.LATEST:
            return x["items"][0] if x["items"] else None
        case Agg.LAST_N:
            return list(x["items"][: feature.n]) if x["items"] else None
        case Agg.TOP_K:
            return list(x["items"][: feature.k]) if x["items"] else None
        case Agg.DECAY_SUM:
            if not n or x["ts"] is None or feature.half_life is None:
                return None
            return decayed(x["sum"], x["ts"], t, int(feature.half_life.total_seconds() * 1000))
    raise ValueError(f"{feature.name}: {feature.agg.value} is not computed from a part")


def finalize(group: FeatureGroup, merged: Sequence[IR], t: int) -> dict[str, Any]:
    """The feature values, in the group's order, from `merge`'s result; decay sums are
    rescaled to t and a RATIO is num / den (None when den is 0 or None or num None)."""
    by_name = {f.name: f for f in group.features}
    found: dict[str, Any] = {}
    for part, x in zip(parts(group), merged, strict=True):
        for name in part.features:
            found[name] = _value(by_name[name], x, t)
    for f in group.features:
        if f.agg is Agg.RATIO and f.ratio_of is not None:
            num, den = (found[name] for name in f.ratio_of)
            found[f.name] = None if not den or num is None else num / den
    return {f.name: found[f.name] for f in group.features}


def values(group: FeatureGroup, tiles: Iterable[Tile], t: int) -> dict[str, Any]:
    """The served feature values at request time t: the tiles the read selects
    (`selected_range`; others ignored), merged and finalized."""
    return finalize(group, merge(group, select(group, tiles, t)), t)
