"""Which features each benchmarked system computes, derived from the catalogue's definitions.

- the built-in subset: groups whose every feature is a Flink built-in aggregate (no Java
  UDF on the per-event path);
- the peer (Quix Streams): in the groups the issue names, the features its built-in window
  aggregations express (count, sum, mean, min, max; a row filter becomes a derived column),
  handed to the peer app as a JSON spec;
- what the peer cannot express anywhere in the catalogue, and why.
"""

from __future__ import annotations

from typing import Any

from flink_jobs.features.catalogue import CATALOGUE
from flink_jobs.features.model import (
    Agg,
    Cumulative,
    Feature,
    FeatureGroup,
    Hopping,
    Lifetime,
    Tumbling,
    Where,
)
from flink_jobs.verify.reference import ms

BUILT_IN = frozenset(
    {
        Agg.COUNT,
        Agg.SUM,
        Agg.AVG,
        Agg.MIN,
        Agg.MAX,
        Agg.VARIANCE,
        Agg.STDDEV,
        Agg.COUNT_DISTINCT,
        Agg.RATIO,
    }
)
PEER_AGGS = {Agg.COUNT: "count", Agg.SUM: "sum", Agg.AVG: "mean", Agg.MIN: "min", Agg.MAX: "max"}
PEER_GROUPS = ("user_activity", "user_engagement_5m", "content_trending")  # issue 9's scope
# Why Quix Streams 3.28's window aggregations cannot compute a feature of this kind.
PEER_CANNOT = {
    Agg.COUNT_DISTINCT: "no distinct count (only a custom Reduce holding every value)",
    Agg.APPROX_DISTINCT: "no sketch aggregation (HLL)",
    Agg.PERCENTILE: "no sketch aggregation (KLL quantiles)",
    Agg.TOP_K: "no top-K aggregation",
    Agg.LAST_N: "no last-N-distinct aggregation",
    Agg.DECAY_SUM: "no decayed sum",
    Agg.VARIANCE: "no variance aggregation",
    Agg.STDDEV: "no standard-deviation aggregation",
}


def built_in_groups(catalogue: tuple[FeatureGroup, ...] = CATALOGUE) -> tuple[FeatureGroup, ...]:
    return tuple(g for g in catalogue if all(f.agg in BUILT_IN for f in g.features))


def peer_gap(group: FeatureGroup, feature: Feature) -> str | None:
    """Why the peer cannot compute the feature, or None when it can."""
    if isinstance(group.window, Cumulative):
        return "no cumulative windows"
    if isinstance(group.window, Lifetime):
        return "no lifetime aggregation with tiles and state TTL"
    return PEER_CANNOT.get(feature.agg)


def peer_features(group: FeatureGroup) -> tuple[Feature, ...]:
    """The group's features in the comparison: count/sum/mean/min/max over time windows."""
    if not isinstance(group.window, Tumbling | Hopping):
        return ()
    return tuple(f for f in group.features if f.agg in PEER_AGGS and peer_gap(group, f) is None)


def peer_groups(catalogue: tuple[FeatureGroup, ...] = CATALOGUE) -> tuple[FeatureGroup, ...]:
    return tuple(g for g in catalogue if g.name in PEER_GROUPS and peer_features(g))


def shared_features(catalogue: tuple[FeatureGroup, ...] = CATALOGUE) -> dict[str, list[str]]:
    """Group name -> the features both the project and the peer compute."""
    return {g.name: [f.name for f in peer_features(g)] for g in peer_groups(catalogue)}


def inexpressible(catalogue: tuple[FeatureGroup, ...] = CATALOGUE) -> dict[str, str]:
    """`group.feature` -> why the peer cannot compute it."""
    return {
        f"{g.name}.{f.name}": gap
        for g in catalogue
        for f in g.features
        if (gap := peer_gap(g, f)) is not None
    }


def _where(where: tuple[Where, ...]) -> list[list[Any]]:
    return [
        [w.column, w.op.value, list(w.value) if isinstance(w.value, tuple) else w.value]
        for w in where
    ]


def peer_spec(catalogue: tuple[FeatureGroup, ...] = CATALOGUE) -> dict[str, Any]:
    """What the peer app computes, as plain JSON (its venv cannot import the catalogue)."""
    groups = []
    for group in peer_groups(catalogue):
        window = group.window
        if not isinstance(window, Tumbling | Hopping):
            continue
        size = ms(window.size)
        groups.append(
            {
                "name": group.name,
                "key": group.keys[0],
                "size_ms": size,
                "slide_ms": ms(window.slide) if isinstance(window, Hopping) else size,
                "grace_ms": ms(group.source.max_out_of_orderness),
                "where": _where(group.where),
                "features": [
                    {
                        "name": f.name,
                        "agg": PEER_AGGS[f.agg],
                        "column": f.column,
                        "where": _where(f.where),
                    }
                    for f in peer_features(group)
                ],
            }
        )
    return {"event_time": CATALOGUE[0].source.event_time, "groups": groups}
