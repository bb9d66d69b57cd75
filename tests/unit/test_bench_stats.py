"""The benchmark's pure figures: drain rates without start-up, quantiles, paired ratios."""

import pytest

from benchmarks.stats import distribution, drain, paired_ratios, quantile


def test_a_drain_is_timed_from_the_first_progress_to_the_end() -> None:
    # Start-up: 10 s of nothing read; then 1,000 events/s until the 5,000th event.
    samples = [
        (0.0, 0),
        (5.0, 0),
        (10.0, 0),
        (11.0, 1000),
        (13.0, 3000),
        (15.0, 5000),
        (16.0, 5000),
    ]
    result = drain(samples, target=5000)
    assert result is not None
    assert (result.start, result.end, result.events) == (11.0, 15.0, 4000)
    assert result.rate == 1000
    assert result.reached_target


def test_a_capped_drain_ends_at_the_last_sample() -> None:
    result = drain([(0.0, 0), (1.0, 100), (3.0, 500)], target=10_000)
    assert result is not None
    assert (result.events, result.seconds, result.reached_target) == (400, 2.0, False)


@pytest.mark.parametrize("samples", [[], [(0.0, 0), (9.0, 0)], [(0.0, 5), (3.0, 5)]])
def test_no_measurable_progress_is_none(samples: list[tuple[float, int]]) -> None:
    assert drain(samples, target=10) is None


def test_a_backlog_gone_by_the_first_progress_sample_is_a_lower_bound() -> None:
    result = drain([(0.0, 0), (0.5, 0), (1.5, 150_000), (2.0, 150_000)], target=150_000)
    assert result is not None
    assert (result.start, result.end, result.events, result.rate) == (0.5, 1.5, 150_000, 150_000)


def test_quantiles_are_observed_values() -> None:
    values = [float(v) for v in range(1, 101)]
    assert quantile(values, 0.5) == 50
    assert quantile(values, 0.99) == 99
    assert distribution([3.0, 1.0, 2.0]) == {"p50": 2.0, "p99": 3.0, "max": 3.0}
    with pytest.raises(ValueError, match="no values"):
        quantile([], 0.5)


def test_ratios_pair_repetitions() -> None:
    assert paired_ratios([10.0, 20.0, 30.0], [5.0, 0.0]) == [2.0]
