"""Which features each benchmarked system computes, derived from the definitions."""

from dataclasses import replace

from benchmarks.feature_sets import (
    built_in_groups,
    inexpressible,
    peer_features,
    peer_spec,
    shared_features,
)
from flink_jobs.features.catalogue import CATALOGUE, USER_ACTIVITY, USER_ENGAGEMENT_5M
from flink_jobs.features.model import Agg, Feature


def test_the_built_in_subset_is_the_groups_without_java_aggregates() -> None:
    assert [g.name for g in built_in_groups()] == [
        "user_activity",
        "user_engagement_5m",
        "user_session",
    ]
    with_sketch = replace(
        USER_ACTIVITY,
        features=(*USER_ACTIVITY.features, Feature("x", Agg.APPROX_DISTINCT, "d", "content_id")),
    )
    assert built_in_groups((with_sketch, USER_ENGAGEMENT_5M)) == (USER_ENGAGEMENT_5M,)


def test_the_peer_computes_count_sum_mean_of_the_named_groups() -> None:
    assert shared_features() == {
        "user_activity": ["user_interactions_count_1m", "user_watch_ms_sum_1m"],
        "user_engagement_5m": [
            "user_views_count_5m",
            "user_plays_count_5m",
            "user_watch_ms_sum_5m",
            "user_watch_ms_avg_5m",
        ],
        "content_trending": ["content_views_count_10m"],
    }
    names = [f.name for f in peer_features(USER_ENGAGEMENT_5M)]
    assert "user_content_distinct_5m" not in names


def test_what_the_peer_cannot_express_says_why() -> None:
    gaps = inexpressible()
    assert gaps["user_engagement_5m.user_content_distinct_5m"].startswith("no distinct count")
    assert gaps["content_trending.content_watch_ms_p50_10m"] == (
        "no sketch aggregation (KLL quantiles)"
    )
    assert gaps["user_today.user_watch_ms_sum_today"] == "no cumulative windows"
    assert all(g.name + "." in " ".join(gaps) for g in CATALOGUE if g.name != "user_activity")


def test_the_peer_spec_carries_windows_keys_and_filters() -> None:
    spec = peer_spec()
    by_name = {g["name"]: g for g in spec["groups"]}
    assert spec["event_time"] == "event_time"
    trending = by_name["content_trending"]
    assert (trending["key"], trending["size_ms"], trending["slide_ms"]) == (
        "content_id",
        600_000,
        60_000,
    )
    assert trending["grace_ms"] == 5_000
    views = trending["features"][0]
    assert views == {
        "name": "content_views_count_10m",
        "agg": "count",
        "column": None,
        "where": [["event_type", "=", "view"]],
    }
    assert by_name["user_activity"]["slide_ms"] == by_name["user_activity"]["size_ms"] == 60_000
