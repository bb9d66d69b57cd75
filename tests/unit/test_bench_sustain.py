"""The sustainable-throughput method on lag series shaped like real ones: the slope
estimate, the verdict 'sustained / not sustained' and the search over load steps."""

from __future__ import annotations

import math
import random
import re
import statistics
from collections.abc import Sequence
from functools import partial

import pytest

from benchmarks.sustain import (
    LagSample,
    Search,
    Step,
    StepResult,
    Tolerance,
    describe,
    lag_slope,
    lower_envelope,
    markdown,
    search,
    verdict,
)

RATE = 10_000.0  # events/s offered in the series below
BOUND_MS = 1_000.0
SKIP_S = 10.0

# A flat step as a lag probe reads it, once a second: the job consumes what arrives, the
# backlog is whatever the last poll had not fetched yet.
FLAT = [812, 1_204, 655, 990, 1_410, 731, 1_088, 947, 1_302, 598, 1_150, 877, 1_033, 1_267,
        702, 955, 1_389, 820, 1_111, 640, 1_240, 905, 1_018, 1_333, 760, 1_072, 880, 1_195,
        690, 1_001]  # fmt: skip


def series(lag: Sequence[float], every_s: float = 1.0) -> list[LagSample]:
    return [LagSample(i * every_s, int(v)) for i, v in enumerate(lag)]


def noisy(trend: float, seconds: int = 130, seed: int = 1, sd: float = 300) -> list[LagSample]:
    """A baseline of 2,000 records growing by `trend` records/s, with Gaussian noise."""
    rng = random.Random(seed)
    return series([max(0.0, 2_000 + trend * t + rng.gauss(0, sd)) for t in range(seconds)])


def minute_bursts(seed: int, seconds: int = 126, size: float = 90_000) -> list[LagSample]:
    """Flat, but each minute boundary fires the 1-minute windows: the lag jumps by `size`
    and is worked off within 8 s. The step ends 6 s after a boundary, inside a burst."""
    rng = random.Random(seed)
    return series(
        [2_000 + (size * max(0.0, 1 - (t % 60) / 8) if t >= 60 else 0) + rng.gauss(0, 300)
         for t in range(seconds)]
    )  # fmt: skip


def committed_sawtooth(phase: int, seconds: int = 75, trend: float = 0.0) -> list[LagSample]:
    """Lag from committed offsets of a job that commits on 10 s checkpoints: it climbs by
    the rate between commits and drops back at each."""
    rng = random.Random(phase)
    return series(
        [1_000 + RATE * ((t + phase) % 10) + trend * t + rng.gauss(0, 300)
         for t in range(seconds)]
    )  # fmt: skip


def step(
    slope: float | None = 0.0,
    p99: float | None = 400.0,
    rate: float = RATE,
    late_ms: float = 2.0,
) -> StepResult:
    return StepResult(rate, 120.0, slope, None if p99 is None else p99 / 2, p99,
                      {"taskmanager": 1.2, "load": 0.3}, 0.15, late_ms)  # fmt: skip


def judged(lags: list[LagSample], rate: float = RATE, envelope_s: float = 0.0) -> bool:
    result = StepResult.of(rate, 120, lags, [300.0, 450.0], {}, load="load", skip_s=SKIP_S,
                           envelope_s=envelope_s)  # fmt: skip
    return verdict(result, BOUND_MS).sustained


# --- the slope ----------------------------------------------------------------------


def test_a_straight_line_has_its_slope_and_one_wild_sample_does_not_move_it() -> None:
    line = series([500 + 40 * t for t in range(60)])
    assert lag_slope(line) == 40
    spiked = [*line[:30], LagSample(30.0, 900_000), *line[31:]]
    assert lag_slope(spiked) == 40


def test_the_warm_up_is_left_out() -> None:
    # Start-up: the job begins 300,000 records behind, works them off in 30 s, then is flat.
    lag = [300_000 - 10_000 * t for t in range(30)] + [1_000.0] * 60
    lags = series(lag)
    assert lag_slope(lags, skip_s=30) == 0
    assert lag_slope(lags, skip_s=0) < -1_000


def test_samples_are_taken_in_time_order_and_too_few_are_refused() -> None:
    lags = series([100 + 5 * t for t in range(20)])
    assert lag_slope(list(reversed(lags))) == 5
    with pytest.raises(ValueError, match="fewer than two"):
        lag_slope(lags, skip_s=19)
    with pytest.raises(ValueError, match="fewer than two"):
        lag_slope([LagSample(1.0, 5), LagSample(1.0, 9)])
    with pytest.raises(ValueError, match="fewer than two"):
        lag_slope([])


def test_a_long_series_is_thinned_not_refitted_pair_by_pair() -> None:
    lags = series([7 + 3 * t for t in range(20_000)], every_s=0.05)
    assert lag_slope(lags) == pytest.approx(60)


def test_the_lower_envelope_of_a_commit_sawtooth_is_its_baseline() -> None:
    lags = series([1_000 + RATE * (t % 10) for t in range(60)])
    envelope = lower_envelope(lags, 10)
    assert envelope[0].t_s == 10
    assert {s.lag for s in envelope} == {1_000}


# --- the verdict on recorded shapes -------------------------------------------------


def test_a_flat_noisy_lag_is_sustained() -> None:
    lags = series(FLAT)
    assert abs(lag_slope(lags, 5)) < Tolerance().allowed(RATE)
    assert judged(lags)
    assert all(judged(noisy(0.0, seed=seed)) for seed in range(5))


def test_a_steadily_rising_lag_is_not_sustained() -> None:
    # The consumer keeps up with 90 % of the load: 1,000 records/s pile up.
    lags = noisy(0.1 * RATE)
    result = StepResult.of(RATE, 120, lags, [300.0], {}, load="load", skip_s=SKIP_S)
    found = verdict(result, BOUND_MS)
    assert not found.sustained
    assert result.lag_slope == pytest.approx(1_000, rel=0.02)
    assert re.fullmatch(r"lag grows [\d,]+ records/s \(> tolerance 100\)", found.reason)


def test_minute_boundary_bursts_that_return_to_baseline_are_sustained() -> None:
    for seed in range(5):
        lags = minute_bursts(seed)
        assert judged(lags)
        # Least squares reads the burst at the end of the step as growth: why Theil-Sen.
        late = [s for s in lags if s.t_s >= SKIP_S]
        fitted = statistics.linear_regression([s.t_s for s in late], [s.lag for s in late])
        assert fitted.slope > Tolerance().allowed(RATE)


@pytest.mark.parametrize("phase", range(10))
def test_a_commit_sawtooth_is_flat_on_its_envelope_and_a_trend_under_it_shows(phase: int) -> None:
    assert judged(committed_sawtooth(phase), envelope_s=10)
    rising = committed_sawtooth(phase, trend=0.02 * RATE)
    assert lag_slope(rising, SKIP_S, envelope_s=10) == pytest.approx(0.02 * RATE, rel=0.25)
    assert not judged(rising, envelope_s=10)


def test_slow_growth_within_the_tolerance_holds_and_beyond_it_fails() -> None:
    assert judged(noisy(0.005 * RATE))  # half a percent of the rate per second
    assert not judged(noisy(0.02 * RATE))  # two percent


def test_the_tolerance_is_a_share_of_the_rate_with_a_floor() -> None:
    tolerance = Tolerance(share=0.01, floor=10)
    assert tolerance.allowed(50_000) == 500
    assert tolerance.allowed(100) == 10
    assert verdict(step(slope=8.0, rate=100), BOUND_MS, tolerance).sustained
    assert not verdict(step(slope=12.0, rate=100), BOUND_MS, tolerance).sustained


def test_freshness_over_its_bound_fails_even_when_the_lag_is_flat() -> None:
    found = verdict(step(slope=0.0, p99=1_800.0), BOUND_MS)
    assert not found.sustained
    assert found.reasons == ("freshness p99 1,800 ms > bound 1,000 ms",)


def test_every_failed_condition_is_given_and_a_pass_says_why() -> None:
    found = verdict(step(slope=1_234.0, p99=None, late_ms=900.0), BOUND_MS)
    assert found.reasons == (
        "lag grows 1,234 records/s (> tolerance 100)",
        "no freshness sample: no feature row became visible",
        "load not kept: replay p99 lateness 900 ms > 250 ms",
    )
    assert verdict(step(slope=None), BOUND_MS).reason.startswith("lag not measured")
    passed = verdict(step(slope=-20.0, p99=400.0), BOUND_MS)
    assert passed.sustained
    assert passed.reason == (
        "lag flat (-20 records/s <= tolerance 100); freshness p99 400 ms <= bound 1,000 ms"
    )


def test_a_step_result_from_raw_figures() -> None:
    result = StepResult.of(
        2_000, 100, series([50.0] * 30), [float(v) for v in range(1, 101)],
        {"taskmanager": 150.0, "load": 40.0}, load="load", skip_s=5, load_late_p99_ms=7.0,
        machine_cores=2,
    )  # fmt: skip
    assert result.lag_slope == 0
    assert (result.freshness_p50_ms, result.freshness_p99_ms) == (50, 99)
    assert result.cpu == {"taskmanager": 1.5, "load": 0.4}
    assert result.load_cpu_share == pytest.approx(0.2)
    empty = StepResult.of(2_000, 100, [], [], {}, load="load", skip_s=5, machine_cores=2)
    assert (empty.lag_slope, empty.freshness_p99_ms, empty.load_cpu_share) == (None, None, 0)


# --- the search ---------------------------------------------------------------------


def fake_system(
    capacity: float, fresh_until: float = math.inf, seed: int = 0
) -> partial[StepResult]:
    return partial(_measure, capacity, fresh_until, random.Random(seed))


def _measure(capacity: float, fresh_until: float, rng: random.Random, rate: float) -> StepResult:
    """A consumer of `capacity` events/s, measured through a noisy lag series like the real
    probe's. Its freshness p99 is 300 ms, or reaches the bound at `fresh_until` events/s,
    plus what a growing backlog adds."""
    pile = max(0.0, rate - capacity)
    lags = series([2_000 + pile * t + rng.gauss(0, 200) for t in range(130)])
    base = 300.0 if math.isinf(fresh_until) else BOUND_MS * rate / fresh_until
    p99 = base + 30_000 * pile / capacity
    cpu = {"taskmanager": 120 * 1.8 * min(rate / capacity, 1.0), "load": 120 * rate / 50_000}
    return StepResult.of(rate, 120, lags, [p99 / 3, p99], cpu, load="load", skip_s=SKIP_S,
                         machine_cores=2)  # fmt: skip


JUDGE = partial(verdict, bound_ms=BOUND_MS)


def rates(found: Search) -> list[float]:
    return [s.result.rate for s in found.steps]


def test_the_search_steps_up_then_bisects_and_reports_a_sustained_rate() -> None:
    found = search(fake_system(7_300, seed=1), 1_000, 64_000, judge=JUDGE)
    # 8,000 fails; bisected at geometric means; 7,336 holds: 36 records/s pile up, < 1 %.
    assert rates(found) == [1_000, 2_000, 4_000, 8_000, 5_657, 6_727, 7_336]
    assert found.sustainable == 7_336
    assert found.failed == 8_000
    assert found.precision() == pytest.approx(8_000 / 7_336 - 1)
    assert describe(found).startswith("7,336 events/s; 8,000 events/s not sustained (lag grows")


@pytest.mark.parametrize("capacity", [900.0, 1_500.0, 3_333.0, 12_345.0, 47_000.0])
@pytest.mark.parametrize("precision", [0.1, 0.03])
def test_the_search_finds_a_known_capacity_within_its_precision(
    capacity: float, precision: float
) -> None:
    found = search(fake_system(capacity), 500, 100_000, judge=JUDGE, precision=precision,
                   max_steps=20)  # fmt: skip
    # A rate r holds while r - capacity <= 1 % of r: the capacity the criteria define.
    limit = capacity / (1 - Tolerance().share)
    assert found.sustainable is not None
    assert limit / (1 + precision) <= found.sustainable <= limit
    for s in found.steps:
        assert s.verdict.sustained == (s.result.rate <= found.sustainable)


def test_freshness_can_be_what_bounds_the_rate() -> None:
    found = search(fake_system(50_000, fresh_until=5_000), 1_000, 100_000, judge=JUDGE,
                   max_steps=20)  # fmt: skip
    assert found.sustainable is not None
    assert 5_000 / 1.1 <= found.sustainable <= 5_000
    assert "freshness p99" in describe(found)


def test_a_flaky_system_never_gets_a_failed_rate_reported() -> None:
    for seed in range(20):
        flaky = random.Random(seed)

        def measure(rate: float, flaky: random.Random = flaky) -> StepResult:
            return step(slope=0.0 if flaky.random() < 0.6 else 5_000.0, rate=rate)

        found = search(measure, 1_000, 200_000, judge=JUDGE)
        held = {s.result.rate for s in found.steps if s.verdict.sustained}
        failed = {s.result.rate for s in found.steps if not s.verdict.sustained}
        assert found.sustainable is None or found.sustainable in held - failed
        if found.sustainable is not None:
            assert found.sustainable == max(held)


def test_when_the_lowest_step_fails_there_is_no_sustainable_rate() -> None:
    found = search(fake_system(400), 1_000, 64_000, judge=JUDGE)
    assert found.sustainable is None
    assert rates(found) == [1_000]
    assert describe(found).startswith("none: even 1,000 events/s was not sustained (lag grows")


def test_the_highest_rate_holding_is_a_lower_bound_and_the_budget_is_kept() -> None:
    capped = search(fake_system(1e9), 1_000, 3_000, judge=JUDGE)
    assert rates(capped) == [1_000, 2_000, 3_000]
    assert capped.capped
    assert describe(capped) == "at least 3,000 events/s (the highest rate tried held)"
    short = search(fake_system(1e9), 1_000, 64_000, judge=JUDGE, max_steps=3)
    assert (rates(short), short.sustainable, short.failed) == ([1_000, 2_000, 4_000], 4_000, None)
    assert "budget" in describe(short)
    narrow = search(fake_system(7_300, seed=1), 1_000, 64_000, judge=JUDGE, max_steps=5)
    assert len(narrow.steps) == 5


def test_impossible_search_bounds_are_refused() -> None:
    for low, high, factor in ((0, 10, 2.0), (10, 5, 2.0), (1, 10, 1.0)):
        with pytest.raises(ValueError, match="low <= high"):
            search(fake_system(10), low, high, judge=JUDGE, factor=factor)


def test_the_curve_as_a_markdown_table() -> None:
    found = search(fake_system(7_300, seed=1), 1_000, 64_000, judge=JUDGE)
    table = markdown(found).splitlines()
    assert table[0] == (
        "| rate (events/s) | verdict | lag slope (records/s) | freshness p50 (ms) | "
        "freshness p99 (ms) | CPU load (cores) | CPU taskmanager (cores) | load share | reason |"
    )
    assert table[1].startswith("| ---: | :--- |")
    body = table[2:]
    assert [row.split(" | ")[0] for row in body] == [
        "| 1,000", "| 2,000", "| 4,000", "| 5,657", "| 6,727", "| **7,336**", "| 8,000"
    ]  # fmt: skip
    assert body[-1].split(" | ")[1] == "not sustained"
    assert body[0].split(" | ")[5:8] == ["0.02", "0.25", "1%"]
    unmeasured = step(slope=None, p99=None)
    row = markdown(Search((Step(unmeasured, JUDGE(unmeasured)),), None, None, RATE))
    assert "| not sustained | - | - | - |" in row
