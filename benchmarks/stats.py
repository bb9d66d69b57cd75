"""Pure figures of a benchmark run: drain rates from progress samples, latency quantiles,
paired ratios. No I/O: unit-tested with made-up samples."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# (seconds on a monotonic clock, events consumed so far)
Sample = tuple[float, int]


@dataclass(frozen=True)
class Drain:
    """How fast a consumer went through a backlog, start-up excluded.

    The clock starts at the first sample that shows progress (the consumer's first records
    are in, its start-up is behind it) and stops at the first sample at or past `target`,
    or at the last sample if it never got there (a time-capped run). A consumer done by its
    first progress sample is timed from the sample before it."""

    start: float  # the two samples' times
    end: float
    events: int  # consumed between them
    reached_target: bool

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def drain(samples: Sequence[Sample], target: int) -> Drain | None:
    """None when no sample shows progress. A backlog drained before a second sample showed
    progress is timed from the last sample without any: a lower bound of the rate."""
    if not samples:
        return None
    baseline = samples[0][1]
    moving = [s for s in samples if s[1] > baseline]
    if not moving:
        return None
    t0, n0 = moving[0]
    if n0 >= target:
        t0, n0 = samples[samples.index(moving[0]) - 1]
    done = next((s for s in moving if s[1] >= target), None)
    t1, n1 = done if done is not None else moving[-1]
    if t1 <= t0:
        return None
    return Drain(start=t0, end=t1, events=n1 - n0, reached_target=done is not None)


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile (q in [0, 1]): a value that was observed, never interpolated."""
    if not values:
        raise ValueError("quantile of no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def distribution(values: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max: the freshness and latency figures of the report."""
    return {"p50": quantile(values, 0.5), "p99": quantile(values, 0.99), "max": max(values)}


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Repetition i of one system over repetition i of another (as many as both have)."""
    return [n / d for n, d in zip(numerators, denominators, strict=False) if d > 0]
