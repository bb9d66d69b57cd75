"""The v2 serving reference (flink_jobs/verify/served.py) on hand-computed examples."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from flink_jobs.features.model import (
    Agg,
    Cumulative,
    Feature,
    FeatureGroup,
    Hopping,
    Lifetime,
    Op,
    Session,
    Source,
    Tumbling,
    Where,
    Window,
)
from flink_jobs.verify import reference
from flink_jobs.verify.served import read_range, route_v2, serve, served

S, MIN, HOUR, DAY = 1_000, 60_000, 3_600_000, 86_400_000
SOURCE = Source(topic="test.events", max_out_of_orderness=timedelta(seconds=5))
PLAYS = (Where("event_type", Op.EQ, "play"),)
COUNT = Feature("n", Agg.COUNT, "rows")
WATCH = Feature("watch", Agg.SUM, "watched", "watch_time_ms")


def group(window: Window, *features: Feature) -> FeatureGroup:
    return FeatureGroup(
        name="g",
        version=2,
        doc="test",
        source=SOURCE,
        entity="user_id",
        keys=("user_id",),
        window=window,
        ttl=timedelta(days=1),
        features=features or (COUNT, WATCH),
    )


TUMBLING = group(Tumbling(timedelta(minutes=1)))
HOPPING = group(Hopping(size=timedelta(minutes=5), slide=timedelta(minutes=1)))
TODAY = group(Cumulative(size=timedelta(days=1), step=timedelta(hours=1)))

_ids = iter(range(1_000_000))


def ev(
    ts: int, user: str = "u1", watch: int | None = 10, kind: str = "view", **extra: Any
) -> dict[str, Any]:
    return {
        "event_id": extra.pop("event_id", f"e{next(_ids)}"),
        "event_time": ts,
        "user_id": user,
        "event_type": kind,
        "watch_time_ms": watch,
        "content_id": extra.pop("content_id", "c1"),
        **extra,
    }


# --- read ranges -------------------------------------------------------------------------


def test_read_ranges() -> None:
    assert read_range(TUMBLING, 90 * S) == (MIN, 2 * MIN)
    assert read_range(TUMBLING, MIN) == (MIN, MIN)  # on a boundary: the new window, empty
    assert read_range(TUMBLING, MIN + 1) == (MIN, 2 * MIN)
    assert read_range(HOPPING, 6 * MIN) == (MIN, 6 * MIN)  # exactly W at a slide boundary
    assert read_range(HOPPING, 6 * MIN + 10 * S) == (MIN, 7 * MIN)  # W + h between slides
    assert read_range(TODAY, 12 * HOUR) == (0, DAY)  # the day, not the step
    assert read_range(TODAY, DAY) == (DAY, DAY)


@pytest.mark.parametrize("window", [Session(timedelta(minutes=30)), Lifetime(timedelta(days=90))])
def test_session_and_lifetime_are_not_tiled(window: Window) -> None:
    g = group(window)
    with pytest.raises(TypeError):
        read_range(g, 0)
    with pytest.raises(TypeError):
        served(g, [ev(0)], 1)
    with pytest.raises(TypeError):
        route_v2(g, [ev(0)], True)


# --- tumbling ----------------------------------------------------------------------------


def test_tumbling_boundaries() -> None:
    events = [
        ev(0, watch=1),
        ev(59_999, watch=2),
        ev(59_999, user="u2", watch=7),
        ev(MIN, watch=4),
        ev(61 * S, watch=8),
    ]
    assert served(TUMBLING, events, 30 * S) == {
        "u1": {"n": 2, "watch": 3},
        "u2": {"n": 1, "watch": 7},
    }
    assert served(TUMBLING, events, 59_999) == served(TUMBLING, events, 30 * S)
    assert served(TUMBLING, events, MIN) == {}  # on the boundary the new window is empty
    # just after: the tile holding t, with its row after t (a tile is the unit of storage);
    # u2 has no row in range, so it is absent
    assert served(TUMBLING, events, MIN + 1) == {"u1": {"n": 2, "watch": 12}}


def test_rows_matching_no_feature_keep_the_entity_present() -> None:
    g = group(Tumbling(timedelta(minutes=1)), Feature("plays", Agg.COUNT, "p", where=PLAYS), WATCH)
    assert served(g, [ev(S, watch=None)], 2 * S) == {"u1": {"plays": 0, "watch": None}}


# --- hopping -----------------------------------------------------------------------------


def test_hopping_sawtooth() -> None:
    g = group(
        Hopping(size=timedelta(minutes=5), slide=timedelta(minutes=1)),
        COUNT,
        WATCH,
        Feature("contents", Agg.APPROX_DISTINCT, "distinct", "content_id", lg_k=12),
        Feature("p50", Agg.PERCENTILE, "median", "watch_time_ms", fraction=0.5),
    )
    # one row at m:30 for m = 0..6, watch 2**m, content m % 3
    events = [ev(m * MIN + 30 * S, watch=2**m, content_id=f"c{m % 3}") for m in range(7)]
    at_boundary = served(g, events, 6 * MIN)["u1"]  # [1m, 6m): m = 1..5
    assert at_boundary == {"n": 5, "watch": 62, "contents": 3, "p50": [2.0, 4.0, 8.0, 16.0, 32.0]}
    between = served(g, events, 6 * MIN + 10 * S)["u1"]  # [1m, 7m): m = 1..6, W + h
    assert between["n"] == 6
    assert between["watch"] == 126
    assert served(g, events, 5 * MIN + 45 * S)["u1"]["watch"] == 63  # [0, 6m): m = 0..5
    assert served(g, events, 12 * MIN) == {}  # [7m, 12m): nothing


# --- cumulative --------------------------------------------------------------------------


def test_cumulative_day() -> None:
    events = [
        ev(HOUR, watch=1),
        ev(5 * HOUR, watch=2),
        ev(DAY - MIN, watch=4),
        ev(DAY + S, watch=8),
    ]
    # the whole day's tile, including the row after t in it
    assert served(TODAY, events, 12 * HOUR) == {"u1": {"n": 3, "watch": 7}}
    assert served(TODAY, events, DAY) == {}
    assert served(TODAY, events, DAY + 2 * HOUR) == {"u1": {"n": 1, "watch": 8}}


def test_cumulative_late_rule_is_the_day() -> None:
    events = [
        ev(2 * HOUR, watch=1),  # watermark 2h - 5s
        ev(30 * MIN, watch=2),  # v1: late (its first window ended at 1h); v2: the day is open
        ev(DAY + 10 * S, watch=4),  # watermark day + 5s: the day has closed
        ev(23 * HOUR, watch=8),  # late
        ev(DAY - 1, watch=16),  # late: day - 1 <= watermark
        ev(DAY + S, watch=32),  # on time, out of order in the open day
    ]
    v1 = reference.route(TODAY, events, True)
    assert [row["watch_time_ms"] for _, row in v1.late] == [2, 8, 16]
    result = serve(TODAY, events, 12 * HOUR)
    assert [(e, row["watch_time_ms"]) for e, row in result.late] == [("u1", 8), ("u1", 16)]
    assert result.values == {"u1": {"n": 2, "watch": 3}}
    assert result.watermark == DAY + 5 * S
    assert served(TODAY, events, DAY + HOUR) == {"u1": {"n": 2, "watch": 36}}
    # batch: nothing is late
    batch = serve(TODAY, events, 12 * HOUR, streaming=False)
    assert batch.late == []
    assert batch.values == {"u1": {"n": 4, "watch": 27}}


# --- late rows, out of order, duplicates -------------------------------------------------


@pytest.mark.parametrize(("lead", "late"), [(64_999, True), (64_998, False)])
def test_late_exactly_when_the_tile_end_minus_one_is_at_most_the_watermark(
    lead: int, late: bool
) -> None:
    # watermark = lead - 5s: 59_999 (the row's tile end - 1: late) or 59_998 (on time)
    events = [ev(lead, watch=1), ev(59_999, watch=2)]
    result = serve(TUMBLING, events, 30 * S)
    assert len(result.late) == int(late)
    assert result.values == ({} if late else {"u1": {"n": 1, "watch": 2}})


def test_out_of_order_within_the_bound() -> None:
    events = [
        ev(62 * S, watch=1),  # watermark 57s
        ev(58 * S, watch=2),  # ts > watermark: on time
        ev(66 * S, watch=4),  # watermark 61s
        ev(59 * S, watch=8),  # its tile [0, 60s) closed: late
        ev(61 * S, watch=16),  # ts <= watermark, but its tile is open: on time
    ]
    result = serve(TUMBLING, events, 30 * S)
    assert [row["watch_time_ms"] for _, row in result.late] == [8]
    assert result.values == {"u1": {"n": 1, "watch": 2}}
    assert served(TUMBLING, events, 61 * S) == {"u1": {"n": 3, "watch": 21}}


def test_dead_letters_and_future_events() -> None:
    src = Source(topic="test.events", non_negative=("watch_time_ms",))
    g = replace(TUMBLING, source=src)
    events = [
        ev(2 * HOUR, watch=1, _kafka_ts=0),  # from the future: no count, no watermark
        ev(61 * S, watch=-1),  # a dead letter that still advances the watermark to 56s
        {"_error": "bad bytes"},  # did not decode
        ev(59 * S, watch=2),  # on time: 59s > 56s
        ev(71 * S, watch=4),  # watermark 66s
        ev(59_500, watch=8),  # late
    ]
    result = serve(g, events, 30 * S)
    assert result.values == {"u1": {"n": 1, "watch": 2}}
    assert [row["watch_time_ms"] for _, row in result.late] == [8]
    assert result.watermark == 66 * S


def test_duplicates_count_once_first_delivery_wins() -> None:
    events = [
        ev(S, watch=3, event_id="a"),
        ev(2 * S, watch=5, event_id="b"),
        ev(S, watch=100, event_id="a"),
        ev(2 * S, watch=100, event_id="b"),
    ]
    assert served(TUMBLING, events, 10 * S) == {"u1": {"n": 2, "watch": 8}}


# --- decay and ratio ---------------------------------------------------------------------


def test_decay_sum_is_as_of_the_request_time() -> None:
    half = timedelta(seconds=10)
    g = group(
        Tumbling(timedelta(minutes=1)),
        Feature("recency", Agg.DECAY_SUM, "decayed count", half_life=half),
        Feature("watch_decay", Agg.DECAY_SUM, "decayed watch", "watch_time_ms", half_life=half),
        Feature("play_decay", Agg.DECAY_SUM, "plays", half_life=half, where=PLAYS),
    )
    events = [ev(0, watch=4), ev(10 * S, watch=8), ev(15 * S, user="u2", watch=None)]
    got = served(g, events, 20 * S)
    assert got["u1"]["recency"] == pytest.approx(2**-2 + 2**-1)  # v1: 2**-1 + 1
    assert got["u1"]["watch_decay"] == pytest.approx(4 * 2**-2 + 8 * 2**-1)
    assert got["u1"]["play_decay"] is None  # no play in range
    assert got["u2"] == {"recency": pytest.approx(2**-0.5), "watch_decay": None, "play_decay": None}
    v1 = reference.aggregate(g.features[0], [ev(0), ev(10 * S)], "event_time")
    assert v1 == pytest.approx(1.5) and v1 != got["u1"]["recency"]
    # later in the same tile, the same rows decay further
    assert served(g, events, 30 * S)["u1"]["recency"] == pytest.approx(2**-3 + 2**-2)


def test_ratio() -> None:
    g = group(
        Tumbling(timedelta(minutes=1)),
        WATCH,
        Feature("plays", Agg.COUNT, "plays", where=PLAYS),
        Feature("per_play", Agg.RATIO, "watch per play", ratio_of=("watch", "plays")),
    )
    events = [
        ev(S, watch=10, kind="play"),
        ev(2 * S, watch=20, kind="play"),
        ev(3 * S, user="u2", watch=5),  # no plays: denominator 0
        ev(4 * S, user="u3", watch=None, kind="play"),  # SUM of nothing: None
    ]
    assert served(g, events, 30 * S) == {
        "u1": {"watch": 30, "plays": 2, "per_play": 15.0},
        "u2": {"watch": 5, "plays": 0, "per_play": None},
        "u3": {"watch": None, "plays": 1, "per_play": None},
    }
