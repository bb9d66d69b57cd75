"""The benchmark's plan: how long the paced load runs, what the full run checks, how many
phases a run has."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from benchmarks import bench
from benchmarks.bench import BOUND_MS, Plan, load_seconds
from benchmarks.drain import Measurement
from flink_jobs.errors import UserError
from flink_jobs.settings import Settings


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


def fail(*_: object) -> None:
    raise UserError("not in a unit test")


@pytest.mark.parametrize("quick", [True, False])
def test_the_progress_bar_counts_every_phase_a_run_goes_through(
    quick: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plan.phases() against a run whose work is faked: a drain measures at once, anything
    else fails in its phase (the run goes on, the phase counts)."""
    drained = Measurement("system", 1000.0, 1000, 1.0, True, {}, {}, "fake")
    for name, fake in {
        "preflight": lambda _: None,
        "produce": lambda *_: 1.0,
        "measure": lambda *_: drained,
        "consumer_perf": fail,
        "stack_pid": fail,
        "bench_serving": fail,
        "delete_run_data": fail,
    }.items():
        monkeypatch.setattr(bench, name, fake)
    monkeypatch.setattr("benchmarks.peer.venv.ensure", lambda *_: tmp_path / "python")
    monkeypatch.setattr("benchmarks.systems.FlinkRest", lambda _: None)  # an HTTP client
    monkeypatch.setattr(bench.Bench, "_check", fail)
    monkeypatch.setattr(bench.Bench, "_fresh_run", fail)
    monkeypatch.setattr(bench.Bench, "_report", lambda _: 0)
    monkeypatch.setattr("sys.stdout", io.StringIO())  # no terminal, whatever runs the tests
    plan = Plan.of(quick, None, 1000, 5.0)
    said: list[str] = []
    assert bench.Bench(Settings(state_dir=tmp_path), plan, said.append).run() == 0
    assert sum(line.startswith("==> ") for line in said) == plan.phases()
    assert said[-1].startswith(f"bench: {plan.phases()}/{plan.phases()} phases (100 %) in ")
