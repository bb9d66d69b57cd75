"""Merge on read (flink_jobs/tiles/merge.py) against the plain-Python reference.

Tiles are built here from random rows, part by part as the Java tile function builds them
(sketches with the Python DataSketches, whose images the Java ones share). The same rows,
cut into partial tiles at random boundaries and merged in random orders and groupings, must
give the reference's values over the rows a read at t selects: exact features exactly (floats
up to rounding), HLL within three sigma, KLL within 2 % of rank.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from datasketches import hll_sketch, kll_doubles_sketch, tgt_hll_type

from flink_jobs.features.catalogue import (
    CONTENT_TRENDING,
    GAME_ENGAGEMENT,
    PLAYBACK,
    PLAYS,
    USER_ACTIVITY,
    USER_ENGAGEMENT_1H,
    USER_ENGAGEMENT_5M,
    USER_TODAY,
)
from flink_jobs.features.model import Agg, Feature, FeatureGroup, Hopping
from flink_jobs.tiles import merge as tm
from flink_jobs.tiles.layout import KLL_K, Part, PartKind, part_of, parts, tile_ms
from flink_jobs.verify import reference
from flink_jobs.verify.compare import problems

Row = dict[str, Any]
ET = "event_time"
MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a multiple of every tile size


def _f(name: str, agg: Agg, column: str | None = None, **more: Any) -> Feature:
    return Feature(name, agg, name, column, **more)


# Every aggregation, also those the catalogue does not use yet (MIN, VARIANCE, ...)
EVERY_AGG = replace(
    USER_ENGAGEMENT_5M,
    name="every_agg",
    features=(
        _f("rows", Agg.COUNT),
        _f("plays", Agg.COUNT, where=PLAYS),
        _f("watch_sum", Agg.SUM, "watch_time_ms"),
        _f("watch_per_play", Agg.RATIO, ratio_of=("watch_sum", "plays")),
        _f("watch_min", Agg.MIN, "watch_time_ms", where=PLAYBACK),
        _f("watch_max", Agg.MAX, "watch_time_ms", where=PLAYBACK),
        _f("watch_avg", Agg.AVG, "watch_time_ms"),
        _f("watch_var", Agg.VARIANCE, "watch_time_ms", where=PLAYBACK),
        _f("watch_sd", Agg.STDDEV, "watch_time_ms", where=PLAYBACK),
        _f("devices", Agg.COUNT_DISTINCT, "device"),
        _f("users", Agg.APPROX_DISTINCT, "user_id", lg_k=11),
        _f("watch_p25", Agg.PERCENTILE, "watch_time_ms", fraction=0.25),
        _f("first_device", Agg.EARLIEST, "device"),
        _f("last_device", Agg.LATEST, "device"),
        _f("last_leagues", Agg.LAST_N, "league", n=3),
        _f("top_devices", Agg.TOP_K, "device", k=2),
        _f("watch_decay", Agg.DECAY_SUM, "watch_time_ms", half_life=timedelta(minutes=2)),
    ),
)
GROUPS = (
    USER_ENGAGEMENT_1H,
    USER_ENGAGEMENT_5M,
    USER_TODAY,
    CONTENT_TRENDING,
    GAME_ENGAGEMENT,
    USER_ACTIVITY,
    EVERY_AGG,
)
SKETCHES = (Agg.APPROX_DISTINCT, Agg.PERCENTILE)
EVENT_TYPES = ("view", "play", "pause", "resume", "complete", "click", "like", "share")


def _name(group: FeatureGroup) -> str:
    return group.name


# --- rows and tiles, built as the Java tile function builds them -------------------------


def events(rng: random.Random, count: int, lo: int, hi: int, users: int = 25) -> list[Row]:
    """`count` rows with event times in [lo, hi): few distinct values (ties in counts, times
    and values), some nulls, playback on about half."""
    rows = []
    for _ in range(count):
        t = rng.randrange(lo, hi)
        if rng.random() < 0.3:
            t = max(lo, t - t % 1000)  # shared event times: ties of EARLIEST, LATEST, LAST_N
        rows.append(
            {
                ET: t,
                "user_id": f"u{rng.randrange(users)}",
                "content_id": f"c{rng.randrange(30):02d}",
                "session_id": f"s{rng.randrange(6)}",
                "event_type": rng.choice(EVENT_TYPES),
                "watch_time_ms": rng.choice((0, rng.randrange(1, 120_000))),
                "sport": rng.choice(("football", "basketball", "tennis")),
                "league": rng.choice(("nba", "atp", "laliga", "", None)),
                "device": rng.choice(("ios", "android", "web", "tv", None)),
                "app_surface": rng.choice(("home", "search", "player")),
                "game_id": rng.choice(("g0", "g1", None)),
            }
        )
    return rows


def group_rows(group: FeatureGroup, rows: list[Row]) -> list[Row]:
    """The rows one entity gives the group (its `where`; none of these groups explodes)."""
    return [r for r in rows if reference.matches(r, group.where)]


def part_ir(part: Part, rows: Sequence[Row], rng: random.Random) -> tm.IR:
    """One part's IR over rows, as Java emits it (list orders shuffled: merge may not care)."""
    rows = [r for r in rows if reference.matches(r, part.where)]
    if part.column is None:
        pairs: list[tuple[int, Any]] = [(int(r[ET]), 1.0) for r in rows]
    else:
        pairs = [(int(r[ET]), r[part.column]) for r in rows if r[part.column] is not None]
    match part.kind:
        case PartKind.NUMERIC:
            xs = [float(v) for _, v in pairs]
            if not xs:
                return tm.ir(n=0, sum=0.0, m2=0.0)  # Java's empty NUMERIC
            mean = sum(xs) / len(xs)
            m2 = sum((x - mean) ** 2 for x in xs)
            return tm.ir(n=len(xs), sum=sum(xs), min=min(xs), max=max(xs), m2=m2)
        case PartKind.DISTINCT:
            items = list({v for _, v in pairs})
            rng.shuffle(items)
            return tm.ir(items=items)
        case PartKind.HLL:
            if not pairs:
                return tm.ir()
            hll = hll_sketch(part.param, tgt_hll_type.HLL_8)
            for _, v in pairs:
                hll.update(v)
            return tm.ir(sketch=hll.serialize_compact())
        case PartKind.KLL:
            if not pairs:
                return tm.ir()
            assert part.param == KLL_K
            kll = kll_doubles_sketch(KLL_K)
            for _, v in pairs:
                kll.update(float(v))
            return tm.ir(sketch=kll.serialize())
        case PartKind.EARLIEST | PartKind.LATEST:
            if not pairs:
                return tm.ir()
            ts, value = min(pairs) if part.kind is PartKind.EARLIEST else max(pairs)
            return tm.ir(ts=ts, items=[value])
        case PartKind.LAST_N:
            latest: dict[str, int] = {}
            for ts, v in pairs:
                latest[v] = max(ts, latest.get(v, ts))
            kept = sorted(latest.items(), key=lambda kv: (-kv[1], kv[0]))[: part.param]
            rng.shuffle(kept)
            return tm.ir(items=[v for v, _ in kept], item_times=[ts for _, ts in kept])
        case PartKind.TOP_K:
            counts = list(Counter(v for _, v in pairs).items())
            rng.shuffle(counts)
            return tm.ir(items=[v for v, _ in counts], item_counts=[c for _, c in counts])
        case PartKind.DECAY:
            if not pairs:
                return tm.ir(n=0)
            assert part.param is not None
            ref = max(ts for ts, _ in pairs)
            total = sum(float(v) * 2 ** (-(ref - ts) / part.param) for ts, v in pairs)
            return tm.ir(n=len(pairs), sum=total, ts=ref)
    raise AssertionError(part.kind)


def make_tile(group: FeatureGroup, start: int, rows: Sequence[Row], rng: random.Random) -> Row:
    times = [int(r[ET]) for r in rows]
    return {
        "tile_start": start,
        "tile_end": start + tile_ms(group.window),
        "n": len(rows),
        "first_ms": min(times, default=start),
        "last_ms": max(times, default=start),
        "parts": [part_ir(p, rows, rng) for p in parts(group)],
    }


def split(rows: list[Row], pieces: int, rng: random.Random) -> list[list[Row]]:
    """Rows cut into `pieces` runs at random event-time boundaries (some maybe empty)."""
    ordered = sorted(rows, key=lambda r: int(r[ET]))
    cuts = sorted(rng.randrange(len(ordered) + 1) for _ in range(pieces - 1))
    return [ordered[a:b] for a, b in pairwise([0, *cuts, len(ordered)])]


def tiles_of(
    group: FeatureGroup, rows: list[Row], rng: random.Random, max_pieces: int = 1
) -> list[Row]:
    """The rows' tiles, each maybe cut into up to `max_pieces` partial tiles, shuffled."""
    size = tile_ms(group.window)
    by_start: dict[int, list[Row]] = {}
    for r in rows:
        by_start.setdefault(int(r[ET]) - int(r[ET]) % size, []).append(r)
    tiles = [
        make_tile(group, start, piece, rng)
        for start, members in by_start.items()
        for piece in split(members, rng.randint(1, max_pieces), rng)
    ]
    rng.shuffle(tiles)
    return tiles


def tree_merge(group: FeatureGroup, tiles: list[Row], rng: random.Random) -> list[tm.IR]:
    """The tiles merged in a random binary tree: merged parts merge again."""
    if len(tiles) <= 1:
        return tm.merge(group, tiles)
    cut = rng.randrange(1, len(tiles))
    halves = (tree_merge(group, tiles[:cut], rng), tree_merge(group, tiles[cut:], rng))
    return tm.merge(group, [{"parts": halves[1]}, {"parts": halves[0]}])


# --- what the values must be -------------------------------------------------------------


def expected(group: FeatureGroup, rows: list[Row], t: int) -> dict[str, Any]:
    """The reference over rows; decay sums rescaled to t (v2), not as of the latest event."""
    members: list[reference.Event] = [*rows]
    want = reference.features(group, members)
    for f in group.features:
        if f.agg is Agg.DECAY_SUM:
            assert f.half_life is not None
            half = reference.ms(f.half_life)
            decayed = [
                (1.0 if f.column is None else float(r[f.column])) * 2 ** (-(t - r[ET]) / half)
                for r in rows
                if reference.matches(r, f.where)
            ]
            want[f.name] = sum(decayed) if decayed else None
    return want


def check(group: FeatureGroup, got: dict[str, Any], want: dict[str, Any]) -> None:
    assert list(got) == [f.name for f in group.features]
    found: list[str] = []
    for f in group.features:
        g, w = got[f.name], want[f.name]
        if f.agg in (Agg.COUNT, Agg.COUNT_DISTINCT, Agg.APPROX_DISTINCT):
            assert type(g) is int, f"{f.name}: {g!r} is not an int"
        if isinstance(g, float) and isinstance(w, int | float) and f.agg not in SKETCHES:
            if not math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-6):
                found.append(f"{f.name}: {g} != {w}")
        else:
            found += problems(f, g, w)
    assert not found, f"{group.name}: " + "; ".join(found)


# --- the range a read selects ------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "t", "lo"),
    [
        (USER_ACTIVITY, T0 + 5 * MINUTE, T0 + 5 * MINUTE),  # at a boundary: nothing yet
        (USER_ACTIVITY, T0 + 5 * MINUTE + 1, T0 + 5 * MINUTE),
        (USER_ACTIVITY, T0 + 6 * MINUTE - 1, T0 + 5 * MINUTE),
        (USER_ENGAGEMENT_1H, T0 + 2 * HOUR, T0 + 2 * HOUR),
        (USER_ENGAGEMENT_1H, T0 + 2 * HOUR + 30 * MINUTE, T0 + 2 * HOUR),
        (USER_ENGAGEMENT_1H, T0 + 3 * HOUR - 1, T0 + 2 * HOUR),
        (USER_ENGAGEMENT_5M, T0 + 10 * MINUTE, T0 + 5 * MINUTE),  # exactly W
        (USER_ENGAGEMENT_5M, T0 + 10 * MINUTE + 1, T0 + 5 * MINUTE),
        (USER_ENGAGEMENT_5M, T0 + 11 * MINUTE - 1, T0 + 5 * MINUTE),  # W + h - 1 ms
        (USER_ENGAGEMENT_5M, T0 + 11 * MINUTE, T0 + 6 * MINUTE),
        (CONTENT_TRENDING, T0 + 30 * MINUTE, T0 + 20 * MINUTE),
        (CONTENT_TRENDING, T0 + 30 * MINUTE + 15_000, T0 + 20 * MINUTE),
        (USER_TODAY, T0 + DAY, T0 + DAY),
        (USER_TODAY, T0 + DAY + 1, T0 + DAY),
        (USER_TODAY, T0 + DAY + 13 * HOUR, T0 + DAY),  # the day so far, not the hour
        (USER_TODAY, T0 + 2 * DAY - 1, T0 + DAY),
    ],
)
def test_selected_range_at_and_between_tile_boundaries(
    group: FeatureGroup, t: int, lo: int
) -> None:
    assert tm.selected_range(group, t) == (lo, t)


@pytest.mark.parametrize("group", [USER_ENGAGEMENT_5M, CONTENT_TRENDING], ids=_name)
def test_hopping_reads_are_a_sawtooth_of_w_to_w_plus_h(group: FeatureGroup) -> None:
    assert isinstance(group.window, Hopping)
    h, w = tile_ms(group.window), reference.ms(group.window.size)
    tiles = [{"tile_start": T0 + i * h} for i in range(60)]
    base = T0 + 30 * h
    for offset, count in ((0, w // h), (1, w // h + 1), (h // 2, w // h + 1), (h - 1, w // h + 1)):
        t = base + offset
        chosen = tm.select(group, tiles, t)
        assert len(chosen) == count, offset
        starts = [tile["tile_start"] for tile in chosen]
        assert min(starts) == tm.selected_range(group, t)[0]
        assert w <= t - min(starts) < w + h  # event-time coverage of the read
        assert max(starts) < t <= max(starts) + h  # up to the tile holding t


@pytest.mark.parametrize("group", [USER_ACTIVITY, USER_ENGAGEMENT_1H, USER_TODAY], ids=_name)
def test_tumbling_and_cumulative_reads_select_the_tile_holding_t(group: FeatureGroup) -> None:
    size = tile_ms(group.window)
    tiles = [{"tile_start": T0 + i * size} for i in range(5)]
    assert tm.select(group, tiles, T0 + 2 * size) == []
    for t in (T0 + 2 * size + 1, T0 + 2 * size + size // 2, T0 + 3 * size - 1):
        assert tm.select(group, tiles, t) == [tiles[2]]


# --- merging -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("group", GROUPS, ids=_name)
def test_partial_tiles_merge_in_any_order_and_grouping(group: FeatureGroup, seed: int) -> None:
    rng = random.Random(seed)
    size = tile_ms(group.window)
    start = T0 + 3 * size
    rows = group_rows(group, events(rng, 300, start, start + size))
    if seed % 2:
        chunks = split(rows, rng.randint(2, 9), rng)  # at random event-time boundaries
    else:
        chunks = [[] for _ in range(rng.randint(2, 9))]
        for r in rows:  # or scattered: merging must not depend on time order either
            rng.choice(chunks).append(r)
    tiles = [make_tile(group, start, chunk, rng) for chunk in chunks]
    rng.shuffle(tiles)
    t = start + size - 1
    want = expected(group, rows, t)
    flat = tm.merge(group, tiles)
    check(group, tm.finalize(group, flat, t), want)
    check(group, tm.finalize(group, tree_merge(group, tiles, rng), t), want)
    check(group, tm.finalize(group, tm.merge(group, tiles[::-1]), t), want)
    one = tm.merge(group, [make_tile(group, start, rows, rng)])
    for part, a, b in zip(parts(group), flat, one, strict=True):
        if part.kind in (PartKind.DISTINCT, PartKind.LAST_N, PartKind.TOP_K, PartKind.LATEST):
            assert a == b, part  # the exact parts merge to the single tile's, field for field
        if part.kind is PartKind.DECAY:  # a merged decay part is as of its latest event (v1)
            (name,) = part.features
            (feature,) = [f for f in group.features if f.name == name]
            want_v1 = reference.aggregate(feature, [*rows], ET)
            assert (a["sum"] is None) == (want_v1 is None)
            assert a["sum"] is None or math.isclose(a["sum"], want_v1, rel_tol=1e-9)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("group", GROUPS, ids=_name)
def test_values_are_the_reference_over_the_rows_a_read_selects(
    group: FeatureGroup, seed: int
) -> None:
    """Tiles before the range and after t are ignored; within it every on-time row counts."""
    rng = random.Random(1000 + seed)
    size = tile_ms(group.window)
    t = T0 + 2 * DAY + rng.randrange(4 * size)
    if seed % 3 == 0:
        t -= t % size  # at a tile boundary
    lo, hi = tm.selected_range(group, t)
    after = -(-t // size) * size  # the first tile starting at or after t
    past = events(rng, 400, lo - 2 * size, t)
    future = events(rng, 40, after, after + 2 * size)
    rows = group_rows(group, past + future)
    tiles = tiles_of(group, rows, rng, max_pieces=3)
    selected = [r for r in rows if lo <= r[ET] < hi]
    check(group, tm.values(group, tiles, t), expected(group, selected, t))


def test_sketches_merge_within_their_bounds() -> None:
    """Thousands of viewers over 11 tiles (the HLL past its exact modes; KLL compacting)."""
    group, rng = CONTENT_TRENDING, random.Random(5)
    t = T0 + 3 * HOUR + 30_000
    lo, _ = tm.selected_range(group, t)
    rows = [r for r in events(rng, 12_000, lo - MINUTE, t, users=6_000) if r[ET] >= lo]
    for r in rows:
        r["watch_time_ms"] = rng.randrange(1, 120_000)
    tiles = tiles_of(group, rows, rng, max_pieces=3)
    got, want = tm.values(group, tiles, t), expected(group, rows, t)
    assert want["content_viewers_approx_distinct_10m"] > 4_000
    check(group, got, want)


@pytest.mark.parametrize("group", GROUPS, ids=_name)
def test_a_read_with_no_selected_tile_follows_the_empty_rules(group: FeatureGroup) -> None:
    size = tile_ms(group.window)
    t = T0 + 10 * DAY + size // 2
    lo, _ = tm.selected_range(group, t)
    rng = random.Random(3)
    outside = group_rows(
        group, events(rng, 50, lo - size, lo) + events(rng, 50, t + size, t + 2 * size)
    )
    want = expected(group, [], t)
    for tiles in ([], tiles_of(group, outside, rng)):
        got = tm.values(group, tiles, t)
        check(group, got, want)
        assert got == want
    assert {tm.values(group, [], t)[f.name] for f in group.features if f.agg is Agg.COUNT} == {0}


def test_ratio_and_numeric_features_over_rows_that_match_none() -> None:
    """Only views with no playback: no plays (ratio None), no playback (stddev None)."""
    group, rng = USER_ENGAGEMENT_1H, random.Random(9)
    start = T0 + 5 * HOUR
    rows = events(rng, 30, start, start + HOUR)
    for r in rows:
        r["event_type"], r["watch_time_ms"] = "view", 0
    tiles = tiles_of(group, rows, rng, max_pieces=4)
    got = tm.values(group, tiles, start + HOUR - 1)
    assert got["user_views_count_1h"] == 30
    assert got["user_plays_count_1h"] == 0
    assert got["user_completion_rate_1h"] is None
    assert got["user_watch_ms_stddev_1h"] is None
    assert got["user_watch_ms_sum_1h"] == 0.0
    check(group, got, expected(group, rows, start + HOUR - 1))


def test_decay_is_rescaled_to_the_request_time() -> None:
    group = CONTENT_TRENDING
    half = 5 * MINUTE
    a, b = T0 + 2 * MINUTE + 5, T0 + 4 * MINUTE + 7
    view = {"event_type": "view", "user_id": "u1", "watch_time_ms": 0}
    rng = random.Random(1)
    tiles = [make_tile(group, ts - ts % MINUTE, [{**view, ET: ts}], rng) for ts in (a, b)]
    t = T0 + 9 * MINUTE
    got = tm.values(group, tiles, t)["content_popularity_decay_10m"]
    assert math.isclose(got, 2 ** (-(t - a) / half) + 2 ** (-(t - b) / half), rel_tol=1e-12)
    merged = tm.merge(group, tiles)[part_of(group, "content_popularity_decay_10m")]
    assert merged["ts"] == b
    assert math.isclose(merged["sum"], 1 + 2 ** (-(b - a) / half), rel_tol=1e-12)


def test_ties_across_tiles_break_by_value_as_v1() -> None:
    """Same event time in every partial tile: EARLIEST the smallest value, LATEST the greatest,
    LAST_N and TOP_K by value."""
    group, rng = EVERY_AGG, random.Random(2)
    start = T0 + 7 * MINUTE
    t = start + 30_000
    rows = [
        {**events(rng, 1, start, start + 1)[0], ET: start + 500, "device": d, "league": lg}
        for d, lg in (("web", "nba"), ("ios", "atp"), ("tv", "laliga"), ("android", "mls"))
    ]
    want = expected(group, rows, t)
    for _ in range(5):
        tiles = [make_tile(group, start, [r], rng) for r in rows]
        rng.shuffle(tiles)
        got = tm.values(group, tiles, t)
        assert (got["first_device"], got["last_device"]) == ("android", "web")
        assert got["last_leagues"] == ["atp", "laliga", "mls"]
        assert got["top_devices"] == ["android", "ios"]
        check(group, got, want)


def test_percentiles_search_ranks_inclusively_as_v1() -> None:
    """v1's KllAccumulator asks Java's getQuantile (inclusive): the p50 of 1..4 s is 2 s."""
    group, rng = CONTENT_TRENDING, random.Random(4)
    start = T0 + 20 * MINUTE
    rows = [
        {**events(rng, 1, start, start + MINUTE)[0], "watch_time_ms": w * 1000}
        for w in (4, 1, 3, 2)
    ]
    tiles = [make_tile(group, start, rows[:2], rng), make_tile(group, start, rows[2:], rng)]
    got = tm.values(group, tiles, start + MINUTE - 1)
    assert (got["content_watch_ms_p50_10m"], got["content_watch_ms_p90_10m"]) == (2000.0, 4000.0)
