"""An independent reference for engine v2's serving (docs/engine-v2.md §5.5): what should be
served for entity e at request time t. Plain Python from the semantics below; it does not
import flink_jobs.tiles, the implementation it checks. Times are milliseconds since the epoch.

Tiles. A group is stored as tiles, one per entity and tile start. The tile size T is
Tumbling(S): S; Hopping(W, h): h; Cumulative(D, step): D (the day so far is one tile; the
step only named v1's emission cadence). Session and Lifetime groups are not tiled: every
function here raises TypeError for them. `tile_end(ts) = floor(ts, T) + T`.

Routing (streaming). As `reference.route`: events arrive in the given order on one
partition; dead letters count in nothing; a redelivered event (same dedup key) counts once,
the first delivery wins; the watermark after an event is `max event time so far -
max_out_of_orderness`, advanced by every decoded event (valid, invalid or redelivered)
except one from the future. A row is late iff `tile_end(ts) - 1 <= watermark before the
row`, i.e. once the tile that would hold it has closed. Late rows count in nothing. Because
the cumulative tile is the whole day, v2 calls a row late later than v1 does (v1's first
window of the row ended at the next step). A row with `ts <= watermark` in a still-open tile
is on time (out of order within the bound). Batch mode: nothing is late.

Read range at t (`read_range`), [lo, hi):
- Tumbling(S), Cumulative(D, step), with T = S or D: lo = floor(t, T), hi = ceil(t, T), the
  tile holding t; on a boundary hi = lo = t, so at a boundary the new window is empty.
- Hopping(W, h): lo = floor(t, h) - W, hi = ceil(t, h) (Chronon's sawtooth): exactly W at a
  slide boundary (t - W to t), up to W + h between them.
Rows at or after t inside the tile holding t are included: a tile is the unit of storage.
Served live no row is from the future, so the range is in effect [lo, t). A test that gives
rows after t sees them counted when they fall in the tile holding t.

Values (`served`). Per entity, over the entity's counted rows with lo <= ts < hi, each
feature as in `reference.aggregate` (feature `where` applied; COUNT and COUNT_DISTINCT of
nothing 0, SUM/AVG/MIN/... of nothing None; APPROX_DISTINCT is the exact distinct count and
PERCENTILE the sorted values, compare.py checks the sketch bounds), except:
- DECAY_SUM is as of the request time: sum(v_i * 2**(-(t - t_i) / half_life)) over the
  selected rows (v_i = 1.0 without a column; null values are ignored), None when there is
  none. (v1's `aggregate` decays to the latest event instead.)
- RATIO divides its two features: None when the denominator is 0 or None, or the
  numerator None.
An entity with no counted row in [lo, hi) is absent from the result (a row that matches no
feature's `where` still makes its entity present, e.g. with COUNT 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flink_jobs.features.model import Agg, Cumulative, Feature, FeatureGroup, Hopping, Tumbling
from flink_jobs.verify.reference import Event, Routed, aggregate, matches, ms, route

Values = dict[str, dict[str, Any]]  # entity -> feature name -> value


def tile_size(group: FeatureGroup) -> int:
    """The group's tile size in ms (TypeError for session and lifetime groups)."""
    w = group.window
    if isinstance(w, Tumbling):
        return ms(w.size)
    if isinstance(w, Hopping):
        return ms(w.slide)
    if isinstance(w, Cumulative):
        return ms(w.size)
    raise TypeError(f"{group.name}: {w} is not tiled")


def tile_end(group: FeatureGroup, ts: int) -> int:
    """The end of the tile holding ts: floor(ts, T) + T."""
    size = tile_size(group)
    return ts - ts % size + size


def route_v2(group: FeatureGroup, events: Sequence[Event], streaming: bool = True) -> Routed:
    """Counted rows per entity, late rows and the final watermark, with v2's late rule."""
    tile_size(group)  # TypeError before routing anything
    return route(group, events, streaming, first_end=tile_end)


def read_range(group: FeatureGroup, t: int) -> tuple[int, int]:
    """[lo, hi): the event-time range served at request time t."""
    size = tile_size(group)
    lo, hi = t - t % size, -(-t // size) * size
    if isinstance(group.window, Hopping):
        lo -= ms(group.window.size)
    return lo, hi


def decay_at(f: Feature, rows: Sequence[Event], et: str, t: int) -> float | None:
    """sum(v_i * 2**(-(t - t_i)/half_life)) over the rows matching f.where; None if none."""
    if f.half_life is None:
        raise ValueError(f"{f.name}: decay_sum needs a half_life")
    half = ms(f.half_life)
    terms = [
        (1.0 if f.column is None else float(r[f.column])) * 2 ** (-(t - int(r[et])) / half)
        for r in rows
        if matches(r, f.where) and (f.column is None or r[f.column] is not None)
    ]
    return sum(terms) if terms else None


def values_at(group: FeatureGroup, rows: list[Event], t: int) -> dict[str, Any]:
    """The group's features over `rows` (already selected) as served at t."""
    et = group.source.event_time
    values: dict[str, Any] = {}
    for f in group.features:
        if f.agg is Agg.DECAY_SUM:
            values[f.name] = decay_at(f, rows, et, t)
        else:
            values[f.name] = aggregate(f, rows, et)
    for f in group.features:
        if f.agg is Agg.RATIO and f.ratio_of is not None:
            num, den = (values[n] for n in f.ratio_of)
            values[f.name] = None if not den or num is None else num / den
    return values


@dataclass
class Served:
    """What is served at t (entity -> features; entities without rows in range absent), the
    late rows (entity, row), the range read, and the watermark after the last event."""

    values: Values = field(default_factory=dict)
    late: list[tuple[str, Event]] = field(default_factory=list)
    lo: int = 0
    hi: int = 0
    watermark: int | None = None


def serve(group: FeatureGroup, events: Sequence[Event], t: int, streaming: bool = True) -> Served:
    """Route `events` (arrival order) and compute what is served at request time t."""
    routed = route_v2(group, events, streaming)
    lo, hi = read_range(group, t)
    et = group.source.event_time
    result = Served(late=routed.late, lo=lo, hi=hi, watermark=routed.watermark)
    for entity, rows in routed.counted.items():
        selected = [r for r in rows if lo <= int(r[et]) < hi]
        if selected:
            result.values[entity] = values_at(group, selected, t)
    return result


def served(group: FeatureGroup, events: Sequence[Event], t: int, streaming: bool = True) -> Values:
    """Entity -> feature -> value served at request time t (see `serve` for the late rows)."""
    return serve(group, events, t, streaming).values
