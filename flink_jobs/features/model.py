"""Feature definitions as data: sources, windows, aggregations, features and groups.

Everything here is a frozen value object; `flink_jobs.features.validate` checks a catalogue
on load and `flink_jobs.features.compile` turns it into Flink SQL. The semantics each
definition promises are documented here, because the reference implementation in
flink_jobs/verify/reference.py is written from these docstrings, not from the generated SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum


def span(value: timedelta) -> str:
    """A span as people write it: 1d, 90m, 30s."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class Agg(Enum):
    """How a feature aggregates the rows of its window (nulls in the column are ignored).

    COUNT counts rows (no column). SUM/AVG/MIN/MAX/VARIANCE/STDDEV as in SQL (population
    variance and standard deviation). COUNT_DISTINCT is exact. APPROX_DISTINCT is an HLL
    sketch with 2**lg_k buckets (relative error 1.04/sqrt(2**lg_k) one sigma). PERCENTILE is
    a KLL sketch estimate of the `fraction` quantile. EARLIEST/LATEST are the value at the
    smallest/largest event time (ties: smallest/largest value), not arrival order. LAST_N
    are the `n` distinct values seen most recently by event time, newest first. TOP_K are
    the `k` most frequent values, most frequent first, ties by value. DECAY_SUM is
    sum(value * 2**(-(t_last - t) / half_life)) with t_last the latest event time among
    the rows (COUNT-like when no column: value 1). RATIO divides two other features of the
    group (NULL when the denominator is 0 or NULL).
    """

    COUNT = "count"
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    VARIANCE = "variance"
    STDDEV = "stddev"
    COUNT_DISTINCT = "count_distinct"
    APPROX_DISTINCT = "approx_distinct"
    PERCENTILE = "percentile"
    EARLIEST = "earliest"
    LATEST = "latest"
    LAST_N = "last_n"
    TOP_K = "top_k"
    DECAY_SUM = "decay_sum"
    RATIO = "ratio"


class Op(Enum):
    EQ = "="
    NE = "<>"
    GT = ">"
    GE = ">="
    LT = "<"
    IN = "IN"
    NOT_NULL = "IS NOT NULL"


@dataclass(frozen=True)
class Where:
    """A row predicate on one source column: `column op value`."""

    column: str
    op: Op
    value: str | int | tuple[str, ...] | None = None


@dataclass(frozen=True)
class Tumbling:
    """Fixed, non-overlapping windows of `size`; one final row per key and window on close."""

    size: timedelta

    @property
    def slice(self) -> timedelta:
        return self.size

    def __str__(self) -> str:
        return f"tumbling {span(self.size)}"


@dataclass(frozen=True)
class Hopping:
    """Windows of `size` starting every `slide`. Sliced: each row is added once, to its
    slide-sized slice, and a window is merged from its slices when it closes; one final
    row per key for every window that had rows."""

    size: timedelta
    slide: timedelta

    @property
    def slice(self) -> timedelta:
        return self.slide

    def __str__(self) -> str:
        return f"hopping {span(self.size)} every {span(self.slide)}"


@dataclass(frozen=True)
class Cumulative:
    """Windows that start every `size` and grow by `step` (e.g. the day so far, hourly):
    an early row at each step with everything since the window start."""

    size: timedelta
    step: timedelta

    @property
    def slice(self) -> timedelta:
        return self.step

    def __str__(self) -> str:
        return f"cumulative {span(self.size)} by {span(self.step)}"


@dataclass(frozen=True)
class Session:
    """Per key, rows closer than `gap` in event time form one session; the window is
    [first event, last event + gap) and its row is emitted when the session closes."""

    gap: timedelta

    def __str__(self) -> str:
        return f"session gap {span(self.gap)}"


@dataclass(frozen=True)
class Lifetime:
    """Everything ever seen for a key, pre-aggregated in `tile` windows and merged into
    unbounded state that expires `state_ttl` after a key's last update: one updated row
    per key and tile with rows. Its window is [first event, last event]."""

    state_ttl: timedelta
    tile: timedelta = timedelta(minutes=1)

    @property
    def slice(self) -> timedelta:
        return self.tile

    def __str__(self) -> str:
        return f"lifetime (state TTL {span(self.state_ttl)}, {span(self.tile)} tiles)"


Window = Tumbling | Hopping | Cumulative | Session | Lifetime


@dataclass(frozen=True)
class Source:
    """A source topic: its event-time column and the rules a valid event obeys.

    Events with the same `dedup_key` value are one event: the first delivered counts,
    redeliveries are dropped (within `dedup_horizon` of processing time).
    A partition that emitted nothing for `idle_timeout` stops holding the watermark: in v2's
    jobs once a lag check also finds it read to the end (`lag-aware.quiet-after` of connector
    kafka-lag-aware), in v1's at once (Flink's `scan.watermark.idle-timeout`).
    Invalid events go to the topic's dead-letter topic with the violated rule.
    """

    topic: str
    event_time: str = "event_time"
    max_out_of_orderness: timedelta = timedelta(seconds=5)
    idle_timeout: timedelta = timedelta(seconds=10)
    kind_column: str | None = "event_type"  # counted per value in the read metric
    dedup_key: str = "event_id"
    dedup_horizon: timedelta = timedelta(minutes=10)
    required: tuple[str, ...] = ()  # string columns that must be non-empty
    non_negative: tuple[str, ...] = ()  # numeric columns that must be >= 0
    one_of: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (column, allowed values)
    max_future: timedelta = timedelta(hours=1)  # event time ahead of the Kafka timestamp

    @property
    def name(self) -> str:
        return self.topic.replace(".", "_").replace("-", "_")


@dataclass(frozen=True)
class Feature:
    """One output column: `agg` over `column` of the rows matching `where`."""

    name: str
    agg: Agg
    doc: str
    column: str | None = None
    where: tuple[Where, ...] = ()
    k: int | None = None  # TOP_K
    n: int | None = None  # LAST_N
    fraction: float | None = None  # PERCENTILE
    lg_k: int | None = None  # APPROX_DISTINCT
    half_life: timedelta | None = None  # DECAY_SUM
    ratio_of: tuple[str, str] | None = None  # RATIO: (numerator, denominator) feature names


@dataclass(frozen=True)
class FeatureGroup:
    """A versioned set of features of one entity over one window of one source.

    `entity` names the key; it is the column `keys[0]`, or for several keys their values
    joined with ':'. `explode` turns an array column into one row per element (named by
    the last key), e.g. one row per team of the content. `ttl` is how long a value stays
    fresh for serving, measured from its event time.
    """

    name: str
    version: int
    doc: str
    source: Source
    entity: str
    keys: tuple[str, ...]
    window: Window
    ttl: timedelta
    features: tuple[Feature, ...]
    where: tuple[Where, ...] = ()
    explode: tuple[str, str] | None = None  # (array column, element name)

    @property
    def topic(self) -> str:
        return f"features.{self.name}.v{self.version}"

    @property
    def late_topic(self) -> str:
        return f"late.{self.name}.v{self.version}"

    @property
    def table(self) -> str:
        return f"{self.name}_v{self.version}"
