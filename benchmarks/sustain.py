"""Sustainable throughput: the highest offered rate a system keeps up with, step by step.

The method of the streaming-benchmark literature:

- Karimov et al., "Benchmarking Distributed Stream Data Processing Systems" (ICDE 2018):
  the load generator runs open loop, apart from the system under test, so a slow system
  shows as growing event-time latency, never as a slower generator; the sustainable
  throughput is the highest load the system handles without ever-growing latency.
- Theodolite (Henning and Hasselbring, "Theodolite: Scalability Benchmarking of Distributed
  Stream Processing Engines in Microservice Architectures", Big Data Research 2021): a load
  step is held for a while, the consumer lag is sampled, a warm-up is skipped and a line is
  fitted to the rest; the step passes when the slope (records/s the backlog grows by) is
  under a threshold, the `lag trend ratio` SLO making the threshold a share of the load.

Here each step offers a fixed rate (benchmarks.replay: events scheduled at t0 + i / rate,
their event time the scheduled time) long enough to cross checkpoints and minute
boundaries. A step is sustained when the lag stays flat (`Tolerance`), freshness p99 holds
its bound and the load itself was kept (the replayer was not late). `search` steps the rate
up geometrically until a step fails, then bisects between the last sustained and the first
failed step. Pure: measuring a step is injected, so the verdicts and the search are
unit-tested on recorded lag series.
"""

from __future__ import annotations

import itertools
import math
import os
import statistics
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from benchmarks.stats import quantile

MAX_POINTS = 300  # Theil-Sen compares every pair: thin longer series evenly to this many
LATE_BOUND_MS = 250.0  # the replayer's p99 send lateness above which the load was not kept


@dataclass(frozen=True)
class LagSample:
    """The consumer lag, in records, at wall time `t_s` (seconds)."""

    t_s: float
    lag: int


def lag_slope(samples: Sequence[LagSample], skip_s: float = 0.0, envelope_s: float = 0.0) -> float:
    """How fast the lag grows, records/s, after a warm-up of `skip_s` from the first sample.

    Theil-Sen: the median of the slopes between every pair of samples, not least squares.
    A lag series is not a line plus Gaussian noise: minute-boundary window firings, a
    checkpoint's commit or a slow lag read add short bursts that return to the baseline.
    Least squares weighs them by their squared distance, most of all near the ends of the
    series (a burst just before the step ends reads as growth); the median of pairwise
    slopes ignores up to ~29 % of wild points and is nearly as precise on plain noise.

    `envelope_s` > 0 first takes the lower envelope, the minimum over a trailing window of
    that length: set it to the commit interval when the lag is read from committed offsets
    (Flink commits on checkpoints), whose sawtooth then leaves only its baseline. The first
    `envelope_s` after the warm-up are spent filling the window.

    ValueError when fewer than two samples at different times remain.
    """
    ordered = sorted(samples, key=lambda s: s.t_s)
    kept = [s for s in ordered if s.t_s >= ordered[0].t_s + skip_s] if ordered else []
    if envelope_s > 0 and kept:
        kept = lower_envelope(kept, envelope_s)
    points = _thinned(kept, MAX_POINTS)
    slopes = [
        (b.lag - a.lag) / (b.t_s - a.t_s)
        for a, b in itertools.combinations(points, 2)
        if b.t_s > a.t_s
    ]
    if not slopes:
        raise ValueError(f"fewer than two lag samples after the {skip_s:g} s warm-up")
    return statistics.median(slopes)


def lower_envelope(samples: Sequence[LagSample], window_s: float) -> list[LagSample]:
    """The minimum lag over the trailing `window_s`, from the first full window on."""
    out: list[LagSample] = []
    window: deque[LagSample] = deque()  # increasing lags: the front is the minimum
    for sample in samples:
        while window and window[-1].lag >= sample.lag:
            window.pop()
        window.append(sample)
        while window[0].t_s < sample.t_s - window_s:
            window.popleft()
        if sample.t_s - samples[0].t_s >= window_s:
            out.append(LagSample(sample.t_s, window[0].lag))
    return out


def _thinned(samples: list[LagSample], most: int) -> list[LagSample]:
    if len(samples) <= most:
        return samples
    step = (len(samples) - 1) / (most - 1)
    return [samples[round(k * step)] for k in range(most)]


@dataclass(frozen=True)
class Tolerance:
    """How fast the lag may grow and still count as flat: `share` of the rate per second,
    and never less than `floor` records/s.

    The slope is the offered rate minus the consumed rate, so share 0.01 reads: the system
    consumed at least 99 % of what was offered (over a 2-minute step, at most 1.2 s of input
    piled up). The floor keeps low rates from failing on the lag sampling's own jitter.
    """

    share: float = 0.01
    floor: float = 10.0

    def allowed(self, rate: float) -> float:
        """records/s the lag may grow by at `rate` events/s."""
        return max(self.share * rate, self.floor)


@dataclass(frozen=True)
class StepResult:
    """One load step, measured."""

    rate: float  # offered, events/s
    duration_s: float  # the load ran this long
    lag_slope: float | None  # records/s (lag_slope); None: too few lag samples
    freshness_p50_ms: float | None  # None: no feature row became visible
    freshness_p99_ms: float | None
    cpu: dict[str, float] = field(default_factory=dict)  # process -> cores used on average
    load_cpu_share: float = 0.0  # the load generator's cores / the machine's cores
    load_late_p99_ms: float = 0.0  # the replayer's send lateness: the load not kept if high

    @classmethod
    def of(
        cls,
        rate: float,
        duration_s: float,
        lags: Sequence[LagSample],
        freshness_ms: Sequence[float],
        cpu_seconds: Mapping[str, float],
        *,
        load: str,
        skip_s: float,
        envelope_s: float = 0.0,
        load_late_p99_ms: float = 0.0,
        machine_cores: int | None = None,
    ) -> StepResult:
        """From the raw figures: lag samples, freshness delays, CPU seconds per process
        (benchmarks.procstat) over `duration_s`; `load` names the generator's process."""
        try:
            slope: float | None = lag_slope(lags, skip_s, envelope_s)
        except ValueError:
            slope = None
        cores = {name: seconds / duration_s for name, seconds in cpu_seconds.items()}
        machine = machine_cores or os.cpu_count() or 1
        return cls(
            rate,
            duration_s,
            slope,
            quantile(freshness_ms, 0.5) if freshness_ms else None,
            quantile(freshness_ms, 0.99) if freshness_ms else None,
            cores,
            cores.get(load, 0.0) / machine,
            load_late_p99_ms,
        )


@dataclass(frozen=True)
class Verdict:
    sustained: bool
    reasons: tuple[str, ...]  # what failed; if nothing did, why the step passed

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def verdict(
    step: StepResult,
    bound_ms: float,
    tolerance: Tolerance | None = None,
    late_bound_ms: float = LATE_BOUND_MS,
) -> Verdict:
    """Sustained when the lag grows no faster than the tolerance, freshness p99 is within
    `bound_ms` and the load was kept (the replayer's p99 lateness within `late_bound_ms`:
    a rate that was not offered cannot be claimed)."""
    checks = (
        _lag_check(step, tolerance or Tolerance()),
        _freshness_check(step, bound_ms),
        _load_check(step, late_bound_ms),
    )
    failed = tuple(text for ok, text in checks if not ok)
    if failed:
        return Verdict(False, failed)
    return Verdict(True, tuple(text for _, text in checks[:2]))


def _lag_check(step: StepResult, tolerance: Tolerance) -> tuple[bool, str]:
    if step.lag_slope is None:
        return False, "lag not measured (too few samples after the warm-up)"
    allowed = tolerance.allowed(step.rate)
    if step.lag_slope > allowed:
        return False, f"lag grows {step.lag_slope:,.0f} records/s (> tolerance {allowed:,.0f})"
    return True, f"lag flat ({step.lag_slope:,.0f} records/s <= tolerance {allowed:,.0f})"


def _freshness_check(step: StepResult, bound_ms: float) -> tuple[bool, str]:
    p99 = step.freshness_p99_ms
    if p99 is None:
        return False, "no freshness sample: no feature row became visible"
    if p99 > bound_ms:
        return False, f"freshness p99 {p99:,.0f} ms > bound {bound_ms:,.0f} ms"
    return True, f"freshness p99 {p99:,.0f} ms <= bound {bound_ms:,.0f} ms"


def _load_check(step: StepResult, late_bound_ms: float) -> tuple[bool, str]:
    late = step.load_late_p99_ms
    if late > late_bound_ms:
        return False, f"load not kept: replay p99 lateness {late:,.0f} ms > {late_bound_ms:,.0f} ms"
    return True, f"load kept (replay p99 lateness {late:,.0f} ms)"


@dataclass(frozen=True)
class Step:
    result: StepResult
    verdict: Verdict


@dataclass(frozen=True)
class Search:
    steps: tuple[Step, ...]  # in the order they were measured
    sustainable: float | None  # the highest sustained rate; None: even the lowest failed
    failed: float | None  # the lowest failed rate above it (the bracket's top), if any
    high: float

    @property
    def curve(self) -> list[Step]:
        """The steps by rate."""
        return sorted(self.steps, key=lambda s: s.result.rate)

    @property
    def capped(self) -> bool:
        """`high` was sustained: the capacity may lie above it."""
        return self.sustainable is not None and self.sustainable >= self.high

    def precision(self) -> float | None:
        """(failed - sustainable) / sustainable: how far above the capacity may lie."""
        if self.sustainable is None or self.failed is None:
            return None
        return self.failed / self.sustainable - 1


def search(
    measure: Callable[[float], StepResult],
    low: float,
    high: float,
    *,
    judge: Callable[[StepResult], Verdict],
    factor: float = 2.0,
    precision: float = 0.1,
    max_steps: int = 10,
) -> Search:
    """The highest sustained rate in [low, high].

    Up from `low` by `factor` (capped at `high`) until a step fails, then bisect (at the
    geometric mean, rounded to whole events/s) between the last sustained and the first
    failed rate until they are within `precision` of each other or `max_steps` steps were
    measured. Only a measured, sustained rate is ever reported: on a system whose capacity
    C is monotone, sustainable <= C < failed, so C is at most `precision` above it.
    """
    if not 0 < low <= high or factor <= 1 or precision <= 0 or max_steps < 1:
        raise ValueError("need 0 < low <= high, factor > 1, precision > 0, max_steps >= 1")
    steps: list[Step] = []

    def sustained(rate: float) -> bool:
        result = measure(rate)
        steps.append(Step(result, judge(result)))
        return steps[-1].verdict.sustained

    good, bad = _climb(sustained, low, high, factor, max_steps)
    while good is not None and bad is not None and len(steps) < max_steps:
        mid = float(round(math.sqrt(good * bad)))
        if bad <= good * (1 + precision) or not good < mid < bad:
            break
        if sustained(mid):
            good = mid
        else:
            bad = mid
    return Search(tuple(steps), good, bad, high)


def _climb(
    sustained: Callable[[float], bool], low: float, high: float, factor: float, steps: int
) -> tuple[float | None, float | None]:
    """The last sustained and the first failed rate of the geometric steps up."""
    good: float | None = None
    rate = low
    for _ in range(steps):
        if not sustained(rate):
            return good, rate
        good = rate
        if rate >= high:
            break
        rate = min(rate * factor, high)
    return good, None


def markdown(found: Search) -> str:
    """The curve as a Markdown table, by rate; the sustainable rate in bold."""
    processes = sorted({name for step in found.steps for name in step.result.cpu})
    header = ["rate (events/s)", "verdict", "lag slope (records/s)", "freshness p50 (ms)",
              "freshness p99 (ms)", *(f"CPU {p} (cores)" for p in processes), "load share",
              "reason"]  # fmt: skip
    align = ["---:", ":---", "---:", "---:", "---:", *("---:" for _ in processes), "---:", ":---"]
    lines = [_row(header), _row(align)]
    for step in found.curve:
        r = step.result
        rate = f"{r.rate:,.0f}"
        cells = [
            f"**{rate}**" if r.rate == found.sustainable else rate,
            "sustained" if step.verdict.sustained else "not sustained",
            _number(r.lag_slope),
            _number(r.freshness_p50_ms),
            _number(r.freshness_p99_ms),
            *(_number(r.cpu.get(p), ".2f") for p in processes),
            f"{r.load_cpu_share:.0%}",
            step.verdict.reason,
        ]
        lines.append(_row(cells))
    return "\n".join(lines)


def describe(found: Search) -> str:
    """One line: the sustainable rate and what bounds it."""
    if found.sustainable is None:
        first = found.steps[0]
        return (
            f"none: even {first.result.rate:,.0f} events/s was not sustained "
            f"({first.verdict.reason})"
        )
    if found.capped:
        return f"at least {found.sustainable:,.0f} events/s (the highest rate tried held)"
    line = f"{found.sustainable:,.0f} events/s"
    if found.failed is None:
        return line + " (the step budget ran out before a step failed)"
    why = next(s for s in found.steps if s.result.rate == found.failed).verdict.reason
    return line + f"; {found.failed:,.0f} events/s not sustained ({why})"


def _number(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"
