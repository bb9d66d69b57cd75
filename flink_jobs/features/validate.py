"""Checks a catalogue on load: every problem found, one line each, naming group and feature."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import timedelta

from flink_jobs.features.columns import NUMERIC, Column, source_columns
from flink_jobs.features.model import (
    Agg,
    Cumulative,
    Feature,
    FeatureGroup,
    Hopping,
    Lifetime,
    Session,
    Tumbling,
    Where,
    Window,
)

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MINUTE = timedelta(minutes=1)
NEEDS_COLUMN = {a for a in Agg if a not in (Agg.COUNT, Agg.DECAY_SUM, Agg.RATIO)}
NEEDS_NUMBER = (Agg.SUM, Agg.AVG, Agg.VARIANCE, Agg.STDDEV, Agg.PERCENTILE, Agg.DECAY_SUM)
NEEDS_STRING = (Agg.APPROX_DISTINCT, Agg.EARLIEST, Agg.LATEST, Agg.LAST_N, Agg.TOP_K)
# Lifetime groups merge per-tile partial results, so only aggregations that merge exactly.
LIFETIME_AGGS = (Agg.COUNT, Agg.SUM, Agg.MIN, Agg.MAX, Agg.EARLIEST, Agg.LATEST, Agg.DECAY_SUM)
PARAMS = {
    Agg.TOP_K: ("k", 1, 100),
    Agg.LAST_N: ("n", 1, 1000),
    Agg.APPROX_DISTINCT: ("lg_k", 4, 21),
}


class CatalogueError(ValueError):
    """The catalogue is invalid; the message lists every problem."""


def _whole_minutes(value: timedelta) -> bool:
    return value > timedelta(0) and value % MINUTE == timedelta(0)


def _spans(w: Window) -> tuple[timedelta, ...]:
    match w:
        case Tumbling(size):
            return (size,)
        case Hopping(size, slide):
            return (size, slide)
        case Cumulative(size, step):
            return (size, step)
        case Session(gap):
            return (gap,)
        case Lifetime(_, tile):
            return (tile,)
    raise TypeError(w)


def _window_problems(group: FeatureGroup) -> Iterator[str]:
    w = group.window
    spans = _spans(w)
    if not all(_whole_minutes(s) for s in spans):
        yield f"window sizes must be whole minutes, got {w}"
    elif isinstance(w, Hopping) and w.size % w.slide:
        yield f"slide {w.slide} does not divide window size {w.size}"
    elif isinstance(w, Cumulative) and w.size % w.step:
        yield f"step {w.step} does not divide window size {w.size}"
    if isinstance(w, Lifetime) and w.state_ttl <= timedelta(0):
        yield "a lifetime window needs a positive state TTL (its state is otherwise unbounded)"
    if not _whole_minutes(group.ttl):
        yield f"ttl (serving freshness) must be a positive number of minutes, got {group.ttl}"


def _where_problems(where: Iterable[Where], columns: dict[str, Column]) -> Iterator[str]:
    for w in where:
        if w.column not in columns:
            yield f"filter column {w.column!r} is not in the source schema"


def _feature_problems(
    group: FeatureGroup, feature: Feature, columns: dict[str, Column]
) -> Iterator[str]:
    agg = feature.agg
    if not NAME.match(feature.name):
        yield f"name {feature.name!r} must be lower_snake_case, at most 63 characters"
    if agg in NEEDS_COLUMN and feature.column is None:
        yield f"{agg.value} needs a column"
    if feature.column is not None:
        column = columns.get(feature.column)
        if column is None:
            yield f"column {feature.column!r} is not in the source schema"
        elif agg in NEEDS_NUMBER and column.sql not in NUMERIC:
            yield f"{agg.value} needs a numeric column, {feature.column} is {column.sql}"
        elif agg in NEEDS_STRING and column.sql != "STRING":
            yield f"{agg.value} needs a STRING column, {feature.column} is {column.sql}"
    yield from _where_problems(feature.where, columns)
    if agg in PARAMS:
        param, low, high = PARAMS[agg]
        value = getattr(feature, param)
        if value is None or not low <= value <= high:
            yield f"{agg.value} needs {param} in [{low}, {high}], got {value}"
    if agg is Agg.PERCENTILE and not (feature.fraction is not None and 0 < feature.fraction < 1):
        yield f"percentile needs a fraction in (0, 1), got {feature.fraction}"
    if agg is Agg.DECAY_SUM and not (feature.half_life and feature.half_life > timedelta(0)):
        yield "decay_sum needs a positive half_life"
    if agg is Agg.RATIO:
        names = {f.name for f in group.features if f.agg is not Agg.RATIO}
        if feature.ratio_of is None or not set(feature.ratio_of) <= names:
            yield f"ratio_of must name two non-ratio features of the group, got {feature.ratio_of}"
    if isinstance(group.window, Lifetime) and agg not in LIFETIME_AGGS:
        allowed = ", ".join(a.value for a in LIFETIME_AGGS)
        yield f"{agg.value} cannot run in a lifetime window (allowed: {allowed})"


def group_problems(group: FeatureGroup) -> Iterator[str]:
    columns = dict(source_columns(group.source.topic))
    if group.explode is not None:
        array, element = group.explode
        if columns.get(array, Column(array, "", False)).sql != "ARRAY<STRING>":
            yield f"explode column {array!r} is not an ARRAY<STRING> of the source"
        columns[element] = Column(element, "STRING", False)
    if not NAME.match(group.name) or group.version < 1:
        yield "name must be lower_snake_case and version >= 1"
    for key in group.keys:
        if key not in columns:
            yield f"key column {key!r} is not in the source schema"
    source = group.source
    for column in (*source.required, *source.non_negative, *(c for c, _ in source.one_of)):
        if column not in columns:
            yield f"source rule on {column!r}: not a column of {source.topic}"
    if group.source.event_time not in columns:
        yield f"event-time column {group.source.event_time!r} is not in the source schema"
    yield from _window_problems(group)
    yield from _where_problems(group.where, columns)
    reserved = {group.entity, *group.keys, "window_start", "window_end"}
    for name, count in Counter(f.name for f in group.features).items():
        if count > 1:
            yield f"feature {name!r} is defined {count} times"
        if name in reserved:
            yield f"feature {name!r} collides with a key or window column"
    for feature in group.features:
        yield from (f"{feature.name}: {p}" for p in _feature_problems(group, feature, columns))


def validate(catalogue: Iterable[FeatureGroup]) -> None:
    """Raise CatalogueError listing every problem of every group, or return quietly."""
    groups = list(catalogue)
    problems = [f"{g.name} v{g.version}: {p}" for g in groups for p in group_problems(g)]
    for topic, count in Counter(g.topic for g in groups).items():
        if count > 1:
            problems.append(f"{topic}: defined {count} times")
    owners: dict[str, str] = {}
    for group in groups:
        for feature in group.features:
            owner = owners.setdefault(feature.name, group.topic)
            if owner != group.topic and owner.rsplit(".v", 1)[0] != group.topic.rsplit(".v", 1)[0]:
                problems.append(f"{feature.name}: defined in both {owner} and {group.topic}")
    if problems:
        raise CatalogueError("invalid feature catalogue:\n  " + "\n  ".join(problems))
