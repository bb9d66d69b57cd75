"""An independent reference for feature groups: plain Python, no Flink, no SQL.

Written from the semantics documented in flink_jobs/features/model.py and compile.py:

- events arrive in a given order on one partition; invalid ones are dead letters (an event
  may carry `_kafka_ts`, its Kafka timestamp, and `_error`, a decode failure);
- a redelivered event (same dedup key) counts once: the first delivery wins;
- the watermark after an event is `max event time so far - max_out_of_orderness`;
  every decoded event advances it, valid or not, except one from the future;
- a group row is late when the first window that would hold it ends at or before
  `watermark + 1 ms` (the watermark before the row): it is routed, never counted;
- windows: tumbling, hopping (every window of `size` starting at a multiple of `slide`),
  cumulative (from each multiple of `size`, growing by `step`), session (rows closer than
  `gap`; window [first, last + gap)), lifetime (everything; window [first, last]);
- every window with at least one counted row yields one row per key.

Times are milliseconds since the epoch.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
)

Event = Mapping[str, Any]
WindowKey = tuple[str, int, int]  # entity, window start, window end (ms)


def ms(span: Any) -> int:
    return int(span.total_seconds() * 1000)


def _holds(value: Any, w: Where) -> bool:
    if w.op is Op.NOT_NULL:
        return value is not None
    if isinstance(w.value, tuple):
        return value in w.value
    if value is None:
        return False
    match w.op:
        case Op.EQ:
            return bool(value == w.value)
        case Op.NE:
            return bool(value != w.value)
        case Op.GT:
            return bool(value > w.value)
        case Op.GE:
            return bool(value >= w.value)
        case Op.LT:
            return bool(value < w.value)
    raise ValueError(w.op)


def matches(event: Event, where: Iterable[Where]) -> bool:
    return all(_holds(event.get(w.column), w) for w in where)


def first_window_end(group: FeatureGroup, t: int) -> int:
    window = group.window
    if isinstance(window, Session):
        return t + ms(window.gap)
    unit = ms(window.slice)
    return t - t % unit + unit


def windows_of(group: FeatureGroup, t: int) -> list[tuple[int, int]]:
    w = group.window
    if isinstance(w, Tumbling):
        start = t - t % ms(w.size)
        return [(start, start + ms(w.size))]
    if isinstance(w, Hopping):
        size, slide = ms(w.size), ms(w.slide)
        last = t - t % slide
        return [(s, s + size) for s in range(last - size + slide, last + 1, slide)]
    if isinstance(w, Cumulative):
        size, step = ms(w.size), ms(w.step)
        start = t - t % size
        first_end = t - t % step + step
        return [(start, end) for end in range(first_end, start + size + 1, step)]
    raise TypeError(w)


def _rows_of(group: FeatureGroup, event: Event) -> list[tuple[str, Event]]:
    """(entity, row) for each row an event gives the group (several when exploded)."""
    if not matches(event, group.where):
        return []
    rows: list[Event] = [event]
    if group.explode is not None:
        array, element = group.explode
        rows = [{**event, element: item} for item in event[array]]
    return [(":".join(str(r[k]) for k in group.keys), r) for r in rows]


@dataclass
class Routed:
    """What the stream does with a group's rows: counted per entity, or late; and the
    watermark after the last event (None in batch, or when no event had a time)."""

    counted: dict[str, list[Event]] = field(default_factory=lambda: defaultdict(list))
    late: list[tuple[str, Event]] = field(default_factory=list)
    watermark: int | None = None


def reason(source: Source, event: Event) -> str | None:
    """Why a decoded event is a dead letter (None: valid), per the source's documented rules;
    `_error` marks a record that did not decode (its bytes are not an event)."""
    if event.get("_error"):
        return str(event["_error"])
    for column in source.required:
        if event[column] == "":
            return f"missing:{column}"
    for column in source.non_negative:
        if event[column] < 0:
            return f"negative:{column}"
    for column, allowed in source.one_of:
        if event[column] not in allowed:
            return f"invalid:{column}"
    sent = event.get("_kafka_ts")
    if sent is not None and event[source.event_time] > sent + ms(source.max_future):
        return "future_event_time"
    return None


def route(
    group: FeatureGroup,
    events: Sequence[Event],
    streaming: bool,
    first_end: Callable[[FeatureGroup, int], int] = first_window_end,
) -> Routed:
    """Deduplicate, track the watermark (streaming) and split counted rows from late ones.

    A row at t is late when `first_end(group, t) - 1 <= watermark before it`; `first_end`
    is the end of the first window (v1) or tile (v2, verify/served.py) that holds t.
    """
    source, routed = group.source, Routed()
    delay, seen = ms(source.max_out_of_orderness), set()
    watermark: int | None = None
    for event in events:
        why = reason(source, event)
        if why is None and event[source.dedup_key] not in seen:
            seen.add(event[source.dedup_key])
            t = int(event[source.event_time])
            for entity, row in _rows_of(group, event):
                late = watermark is not None and first_end(group, t) - 1 <= watermark
                if streaming and late:
                    routed.late.append((entity, row))
                else:
                    routed.counted[entity].append(row)
        if not event.get("_error") and why != "future_event_time":
            t = int(event[source.event_time])
            watermark = t - delay if watermark is None else max(watermark, t - delay)
    routed.watermark = watermark if streaming else None
    return routed


def _sessions(rows: list[Event], et: str, gap: int) -> list[list[Event]]:
    sessions: list[list[Event]] = []
    for row in sorted(rows, key=lambda r: int(r[et])):
        if sessions and int(row[et]) - int(sessions[-1][-1][et]) < gap:
            sessions[-1].append(row)
        else:
            sessions.append([row])
    return sessions


def compute(
    group: FeatureGroup, events: Sequence[Event], streaming: bool = True, ended: bool = False
) -> tuple[dict[WindowKey, dict[str, Any]], list[tuple[str, Event]]]:
    """(feature rows by entity and window, late rows) for events in arrival order.

    A stream that has not `ended` has emitted only the windows its watermark closed (a
    lifetime group: only its closed tiles); an ended one (bounded input) all of them.
    """
    routed = route(group, events, streaming)
    et = group.source.event_time
    result: dict[WindowKey, dict[str, Any]] = {}
    w = routed.watermark if not ended else None
    if w is not None and isinstance(group.window, Lifetime):
        for entity, rows in routed.counted.items():
            routed.counted[entity] = [
                r for r in rows if first_window_end(group, int(r[et])) - 1 <= w
            ]
    for entity, rows in routed.counted.items():
        if not rows:
            continue
        if isinstance(group.window, Session):
            gap = ms(group.window.gap)
            for s in _sessions(rows, et, gap):
                key = (entity, int(s[0][et]), int(s[-1][et]) + gap)
                result[key] = features(group, s)
        elif isinstance(group.window, Lifetime):
            times = [int(r[et]) for r in rows]
            result[(entity, min(times), max(times))] = features(group, rows)
        else:
            by_window: dict[tuple[int, int], list[Event]] = defaultdict(list)
            for row in rows:
                for bounds in windows_of(group, int(row[et])):
                    by_window[bounds].append(row)
            for (start, end), members in by_window.items():
                result[(entity, start, end)] = features(group, members)
    if w is not None and not isinstance(group.window, Lifetime):
        result = {key: value for key, value in result.items() if key[2] - 1 <= w}
    return result, routed.late


def features(group: FeatureGroup, rows: list[Event]) -> dict[str, Any]:
    values = {f.name: aggregate(f, rows, group.source.event_time) for f in group.features}
    for f in group.features:
        if f.agg is Agg.RATIO and f.ratio_of is not None:
            num, den = (values[n] for n in f.ratio_of)
            values[f.name] = None if not den or num is None else num / den
    return values


def aggregate(f: Feature, all_rows: list[Event], et: str) -> Any:
    rows = [r for r in all_rows if matches(r, f.where)]
    if f.agg is Agg.COUNT:
        return len(rows)
    if f.agg is Agg.RATIO:
        return None  # computed from the other features
    if f.agg is Agg.DECAY_SUM:
        if not rows:
            return None
        t_last = max(int(r[et]) for r in rows)
        half = ms(f.half_life)
        return sum(
            (1.0 if f.column is None else float(r[f.column])) * 2 ** (-(t_last - int(r[et])) / half)
            for r in rows
        )
    if f.column is None:
        raise ValueError(f"{f.name}: {f.agg.value} needs a column")
    pairs = [(int(r[et]), r[f.column]) for r in rows if r[f.column] is not None]
    values = [v for _, v in pairs]
    if f.agg in (Agg.COUNT_DISTINCT, Agg.APPROX_DISTINCT):
        return len(set(values))
    if not values:
        return None
    match f.agg:
        case Agg.SUM:
            return sum(values)
        case Agg.MIN:
            return min(values)
        case Agg.MAX:
            return max(values)
        case Agg.AVG:
            return sum(values) / len(values)
        case Agg.VARIANCE | Agg.STDDEV:
            mean = sum(values) / len(values)
            variance = sum((v - mean) ** 2 for v in values) / len(values)
            return variance if f.agg is Agg.VARIANCE else math.sqrt(variance)
        case Agg.PERCENTILE:
            return sorted(float(v) for v in values)  # exact ranks: the test checks the bound
        case Agg.LATEST:
            return max(pairs)[1]
        case Agg.EARLIEST:
            return min(pairs)[1]
        case Agg.LAST_N:
            latest: dict[str, int] = {}
            for t, v in pairs:
                latest[v] = max(t, latest.get(v, t))
            ranked = sorted(latest.items(), key=lambda item: (-item[1], item[0]))
            return [v for v, _ in ranked[: f.n]]
        case Agg.TOP_K:
            counts = Counter(values)
            return [v for v, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][: f.k]
    raise ValueError(f.agg)
