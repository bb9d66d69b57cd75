"""The benchmark's plan: how long the paced load runs, what the full run checks."""

from __future__ import annotations

from benchmarks.bench import BOUND_MS, Plan, load_seconds


def test_the_paced_load_passes_the_next_minute_boundary_by_more_than_the_bound() -> None:
    for at_second in (0.0, 0.5, 30.0, 52.9, 59.9):
        now_s = 1_800_000_000 + at_second  # a whole minute + at_second
        ends = now_s + load_seconds(20, now_s)
        next_minute = (now_s // 60 + 1) * 60
        assert ends > next_minute + BOUND_MS / 1000
        assert ends - now_s >= 20
    assert load_seconds(120, 1_800_000_000) == 120  # the full run's fixed load suffices


def test_the_full_run_checks_a_backlog_that_closes_windows_of_every_1_minute_group() -> None:
    quick, full = Plan.of(True, None, None, 5.0), Plan.of(False, None, None, 5.0)
    assert quick.check is None  # the quick drains run to their end and are checked
    assert full.check is not None
    span_s = full.check.events / full.check.events_per_second
    assert span_s >= 4 * 60  # several 1-minute windows close before the cutoff
    assert full.check.users == full.data.users  # the same key cardinality as the drains
    assert full.check.events < full.data.events / 10  # drained to its end in minutes
