"""The sustained-throughput run without a stack: one step assembled from fake lag,
freshness and CPU samples on a fake clock, the search driving fake steps, the report and
its curve written, the command line's checks."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest

from benchmarks import plots, sustained
from benchmarks.contenders import Project
from benchmarks.replay import ReplayReport
from benchmarks.sustain import Search, Step, StepResult, Verdict
from benchmarks.sustained import (
    REPLAYER,
    Options,
    Run,
    StepPlan,
    Tick,
    assemble,
    await_gone,
    cpu_between,
    execute,
    measure_step,
    ours,
    parse,
    parse_report,
    so_far,
)
from flink_jobs.errors import UserError
from flink_jobs.job import lag_aware_source
from flink_jobs.settings import load_settings

START_S = 1_800_000_000.0  # a whole minute: a 120 s step needs no extension
LEAD_S = 3.0  # the replayer's first send after its launch
CORES = {"TaskManager": 1.5, "writer": 0.2, REPLAYER: 0.3}
FRESH_MS = [900.0, 1_100.0, 1_000.0, 1_400.0, 2_000.0]


class FakeClock:
    def __init__(self) -> None:
        self.t = START_S

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 1e-3)


class FakeJob:
    def __init__(self, name: str, fail_at: float | None, clock: FakeClock) -> None:
        self.name, self.fail_at, self.clock = name, fail_at, clock
        self.events: list[str] = []

    def start(self) -> None:
        self.events.append("start")
        self.clock.sleep(20)  # submission and deployment

    def consumed(self) -> dict[int, int] | None:
        if self.fail_at is not None and self.clock.now() >= self.fail_at:
            raise UserError(f"{self.name}: job failed")
        return {0: 1}

    def roles(self) -> dict[str, list[int]]:
        return {"TaskManager": [11], "writer": [12]}

    def stop(self) -> None:
        self.events.append("stop")


class FakeWatch:
    """Rows become visible after the load: the freshness samples appear on stop."""

    def __init__(self, redis_ms: list[float]) -> None:
        self.kafka_by_group: dict[str, list[float]] = {}
        self.redis_by_group: dict[str, list[float]] = {}
        self.fresh = redis_ms
        self.from_ms: float | None = None
        self.until: float | None = None
        self.started = self.stopped = False

    def start(self) -> None:
        self.started = True

    def closes_from(self, ms: float) -> None:
        self.from_ms = ms

    def closes_until(self, ms: float) -> None:
        self.until = ms

    def stop(self) -> None:
        if not self.stopped:
            self.redis_by_group["user_activity"] = self.fresh[:-1]
            self.redis_by_group["user_today"] = self.fresh[-1:]
            later = {g: [v + 9_000 for v in d] for g, d in self.redis_by_group.items()}
            self.kafka_by_group = later  # a checkpoint later
        self.stopped = True


class FakeLoad:
    pid = 99

    def __init__(self, clock: FakeClock, rate: float, seconds: float, late_ms: float) -> None:
        self.clock, self.rate, self.seconds, self.late_ms = clock, rate, seconds, late_ms
        self.first_s = clock.now() + LEAD_S
        self.killed = False

    @property
    def last_s(self) -> float:
        return self.first_s + self.seconds - 1 / self.rate

    def running(self) -> bool:
        return self.clock.now() < self.last_s + 0.5  # the final flush

    def report(self) -> ReplayReport:
        return ReplayReport(
            sent=round(self.rate * self.seconds), first_due_ms=round(self.first_s * 1000),
            last_due_ms=round(self.last_s * 1000), started_s=self.first_s - LEAD_S,
            finished_s=self.last_s + 0.5, late_p50_ms=1.0, late_p99_ms=self.late_ms,
            late_max_ms=2 * self.late_ms, cpu_s=0.3 * self.seconds, unflushed=0,
        )  # fmt: skip

    def kill(self) -> None:
        self.killed = True


class FakeCpu:
    def __init__(self, clock: FakeClock, roles: Mapping[str, list[int]]) -> None:
        self.clock, self.t0 = clock, clock.now()
        self.roles = dict(roles)

    def sample(self) -> dict[str, float]:
        return {role: CORES[role] * (self.clock.now() - self.t0) for role in self.roles}


class FakeStack:
    """A job that consumes up to `capacity` events/s: the lag grows by what it cannot,
    over a jittery baseline; freshness p99 rises with the rate."""

    label = "project: full catalogue, parallelism 1"
    served = "Redis"
    timed_from = "window close"
    freshness_how = "window close -> visible"

    def __init__(self, capacity: float = 5_000.0, fail_on_step: int | None = None,
                 late_ms: float = 2.0) -> None:  # fmt: skip
        self.clock = FakeClock()
        self.capacity, self.fail_on_step, self.late_ms = capacity, fail_on_step, late_ms
        self.jobs: list[FakeJob] = []
        self.watches: list[FakeWatch] = []
        self.loads: list[FakeLoad] = []
        self.cpus: list[FakeCpu] = []
        self.cleaned: list[str] = []
        self.swept: list[str] = []
        self.lags = 0

    def source(self, namespace: str) -> str:
        return f"fan.interactions.{namespace}"

    def job(self, namespace: str) -> FakeJob:
        fails = self.fail_on_step == len(self.jobs) + 1
        self.jobs.append(FakeJob(f"{namespace}-job", self.clock.now() + 60 if fails else None,
                                 self.clock))  # fmt: skip
        return self.jobs[-1]

    def lag(self, namespace: str) -> int:
        self.lags += 1
        self.clock.sleep(0.05)  # a lag read takes a while
        load = self.loads[-1]
        since = max(0.0, self.clock.now() - load.first_s)
        growth = max(0.0, load.rate - self.capacity) * since
        return round(load.rate * 0.2 + growth + 150 * (self.lags % 3))

    def watch(self, namespace: str) -> FakeWatch:
        rate = self.loads[-1].rate * 2 if self.loads else 1_000.0  # the previous step's
        self.watches.append(FakeWatch([v * (1 + rate / 100_000) for v in FRESH_MS]))
        return self.watches[-1]

    def replay(self, topic: str, rate: float, seconds: float) -> FakeLoad:
        self.loads.append(FakeLoad(self.clock, rate, seconds, self.late_ms))
        return self.loads[-1]

    def usage(self, roles: Mapping[str, list[int]]) -> FakeCpu:
        self.cpus.append(FakeCpu(self.clock, roles))
        return self.cpus[-1]

    def clean(self, namespace: str) -> None:
        self.cleaned.append(namespace)

    def sweep(self, tag: str) -> None:
        self.swept.append(tag)

    def now(self) -> float:
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)


def options(**changes: Any) -> Options:
    return replace(Options("", 1_000.0, 16_000.0, StepPlan(), 15_000.0, 100_000, 8, 0.1), **changes)


# --- one step ---------------------------------------------------------------------------


def test_one_step_is_assembled_from_the_lag_freshness_and_cpu_samples() -> None:
    stack = FakeStack(capacity=10_000)
    record = measure_step(stack, StepPlan(), "ns1", 4_000.0, lambda _line: None)
    r, load, watch, job = record.result, stack.loads[0], stack.watches[0], stack.jobs[0]
    assert r.rate == 4_000.0
    assert r.duration_s == pytest.approx(120, abs=0.01)
    assert r.lag_slope is not None and abs(r.lag_slope) < 5  # flat: jitter only
    assert (r.freshness_p50_ms, r.freshness_p99_ms) == (
        sorted(watch.fresh)[2],
        max(watch.fresh),
    )
    assert record.kafka_p99_ms == max(watch.fresh) + 9_000
    assert set(record.groups) == {"user_activity", "user_today"}
    assert record.groups["user_today"].rows == 1
    assert r.cpu == pytest.approx(CORES, rel=0.01)
    assert r.load_cpu_share == pytest.approx(0.3 / (os.cpu_count() or 1), rel=0.01)
    assert r.load_late_p99_ms == 2.0
    assert 110 <= record.lag_samples <= 121  # about once a second over the load's span
    assert (record.rows_kafka, record.rows_served) == (5, 5)
    # the job ran before the load, the watch counted windows closed after the warm-up and
    # by the load's end, and everything was stopped and deleted
    assert job.events == ["start", "stop"]
    assert stack.cpus[0].roles == {"TaskManager": [11], "writer": [12], REPLAYER: [99]}
    assert watch.until == load.report().last_due_ms
    assert watch.from_ms is not None and (START_S + StepPlan().warmup_s) * 1000 <= watch.from_ms
    assert watch.until is not None and watch.from_ms < watch.until
    assert watch.stopped and load.killed
    assert stack.cleaned == ["ns1"]


def test_an_overloaded_step_shows_the_lag_growing_by_what_the_job_cannot_consume() -> None:
    stack = FakeStack(capacity=3_000)
    r = measure_step(stack, StepPlan(), "ns1", 4_000.0, lambda _line: None).result
    assert r.lag_slope == pytest.approx(1_000, rel=0.02)


def test_a_short_step_is_extended_past_the_next_minute_boundary() -> None:
    stack = FakeStack()
    stack.clock.t = START_S + 30  # 30 s into a minute
    plan = StepPlan(step_s=40, warmup_s=10)
    r = measure_step(stack, plan, "ns1", 1_000.0, lambda _line: None).result
    # ends past the next minute boundary (+30 s, the replayer's lead after it) + the bound
    assert r.duration_s > 30 + 5 - LEAD_S
    assert r.lag_slope is not None


def test_a_minute_boundary_within_the_warm_up_does_not_count() -> None:
    stack = FakeStack()
    stack.clock.t = START_S + 35  # the job starts in 20 s: the load 5 s before a boundary
    plan = StepPlan(step_s=40, warmup_s=10)
    measure_step(stack, plan, "ns1", 1_000.0, lambda _line: None)
    load = stack.loads[0]
    assert (load.first_s - LEAD_S) % 60 == pytest.approx(55)
    # past the boundary after the next (+65 s) + the bound: its windows close after warm-up
    assert load.last_s - load.first_s > 65 + 5 - LEAD_S


def test_a_job_that_fails_mid_step_is_stopped_and_its_data_deleted() -> None:
    stack = FakeStack(fail_on_step=1)
    with pytest.raises(UserError, match="job failed"):
        measure_step(stack, StepPlan(), "ns1", 1_000.0, lambda _line: None)
    assert stack.jobs[0].events == ["start", "stop"]
    assert stack.loads[0].killed and stack.watches[0].stopped
    assert stack.cleaned == ["ns1"]


def test_samples_outside_the_load_are_left_out() -> None:
    report = FakeLoad(FakeClock(), 1_000.0, 60.0, 2.0).report()
    first = report.first_due_ms / 1000  # type: ignore[operator]
    before = [Tick(first - 10 + i, 10**6, {}) for i in range(10)]  # the job's start-up
    during = [Tick(first + i, 100, {"TaskManager": 1.0 * i}) for i in range(60)]
    after = [Tick(first + 61 + i, 0, {}) for i in range(5)]  # the backlog drained
    record = assemble("ns", 1_000.0, before + during + after, report, {}, {"g": [1.0]}, StepPlan())
    assert record.lag_samples == 60
    assert record.result.lag_slope == 0
    assert record.result.cpu["TaskManager"] == pytest.approx(1.0, rel=0.02)
    assert record.kafka_p99_ms is None


def test_cpu_is_scaled_from_the_ticks_span_to_the_loads() -> None:
    ticks = [Tick(0, 0, {"a": 0.0}), Tick(10, 0, {"a": 5.0})]
    assert cpu_between(ticks, 20) == {"a": 10.0}
    assert cpu_between(ticks[:1], 20) == {}


def test_the_replayers_report_is_read_and_failed_sends_are_an_error() -> None:
    report = FakeLoad(FakeClock(), 1_000.0, 60.0, 2.0).report()
    line = json.dumps({**asdict(report), "rate": 1_000.0, "start_ms": 1, "cores": 0.3,
                       "failed": 0})  # fmt: skip
    assert parse_report("a warning\n" + line + "\n") == report
    with pytest.raises(UserError, match="failed"):
        parse_report(line.replace('"failed": 0', '"failed": 3'))
    with pytest.raises(UserError, match="no report"):
        parse_report("Traceback ...")


def test_a_steps_data_is_deleted_only_once_its_job_is_gone() -> None:
    states = iter(["RUNNING", "CANCELLING", "CANCELED"])
    await_gone(lambda: next(states), "j")
    assert next(states, None) is None
    with pytest.raises(UserError, match="job j still CANCELLING 0 s after its cancel"):
        await_gone(lambda: "CANCELLING", "j", timeout_s=0)


def test_a_steps_topics_are_told_apart_from_a_longer_namespace() -> None:
    mine = ours("sustainedab12cds1")
    assert mine("fan.interactions.sustainedab12cds1")
    assert mine("features.user_activity_sustainedab12cds1.v1")
    assert mine("dlq.fan.interactions.sustainedab12cds1")
    assert not mine("fan.interactions.sustainedab12cds10")
    assert not mine("features.user_activity_sustainedab12cds12.v1")


# --- the search -------------------------------------------------------------------------


def test_the_search_drives_the_steps_and_writes_the_report_and_the_curve(
    tmp_path: Path,
) -> None:
    stack, lines = FakeStack(capacity=5_000), list[str]()
    run = Run(stack, options(), lines.append)
    assert execute(run, tmp_path) == 0
    rates = [s.result.rate for s in run.steps]
    assert rates[:4] == [1_000, 2_000, 4_000, 8_000]  # up by 2x until a step fails
    held = max(s.result.rate for s in run.steps if s.verdict.sustained)
    assert 5_000 / 1.1 <= held <= 5_000
    assert len(rates) <= 8
    # each step had fresh topics, a job of its own, and was cleaned; then the run swept
    assert stack.cleaned == [f"{run.tag}s{n}" for n in range(1, len(rates) + 1)]
    assert stack.swept == [run.tag]
    progress = [line for line in lines if line.startswith("step ")]
    assert progress[0] == "step 1: 1,000 events/s for 120 s ..."
    assert progress[1].startswith("step 1: 1,000 events/s for 120 s ... sustained (lag ")
    assert progress[7].startswith("step 4: 8,000 events/s for 120 s ... not sustained (lag +3,0")
    assert "    30 s: lag " in lines[1]  # while the load runs
    document = json.loads((tmp_path / "sustained.json").read_text())
    found = [m for m in document["metrics"] if m["metric"] == "sustainable throughput"]
    assert found[0]["median"] == held
    assert found[0]["system"] == "project: full catalogue, parallelism 1"
    markdown = (tmp_path / "sustained.md").read_text()
    assert f"| **{held:,.0f}** | sustained |" in markdown
    assert "## Curve" in markdown and "## Failures\n\nnone" in markdown
    assert (tmp_path / "sustained-curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_step_that_cannot_be_measured_ends_the_search_with_what_was_measured(
    tmp_path: Path,
) -> None:
    stack, lines = FakeStack(capacity=5_000, fail_on_step=3), list[str]()
    run = Run(stack, options(groups="user_activity"), lines.append)
    assert execute(run, tmp_path) == 1
    assert [s.result.rate for s in run.steps] == [1_000, 2_000]
    assert stack.cleaned[-1] == f"{run.tag}s3" and stack.swept == [run.tag]
    assert "FAILED step 3: UserError" in "\n".join(lines)
    markdown = (tmp_path / "sustained-user_activity.md").read_text()
    assert "job failed" in markdown
    assert "| **2,000** | sustained |" in markdown
    assert (tmp_path / "sustained-user_activity-curve.png").exists()


def test_a_load_that_was_not_kept_fails_its_step(tmp_path: Path) -> None:
    run = Run(FakeStack(late_ms=900.0), options(), lambda _line: None)
    execute(run, tmp_path)
    assert len(run.steps) == 1
    assert "load not kept" in run.steps[0].verdict.reason


def test_the_bracket_so_far_reports_only_a_measured_sustained_rate() -> None:
    def step(rate: float, ok: bool) -> Step:
        return Step(StepResult(rate, 120, 0, 1, 1), Verdict(ok, ("x",)))

    found = so_far([step(1_000, True), step(2_000, True), step(4_000, False)], 16_000)
    assert (found.sustainable, found.failed) == (2_000, 4_000)
    assert so_far([step(1_000, False)], 16_000).sustainable is None
    assert so_far([], 16_000).steps == ()


def test_the_curve_is_drawn_with_missing_figures_and_no_sustained_rate(tmp_path: Path) -> None:
    steps = (
        Step(StepResult(1_000, 120, None, None, None), Verdict(False, ("no lag",))),
        Step(StepResult(2_000, 120, 3_000, 800, 2_000), Verdict(False, ("lag grows",))),
    )
    path = plots.sustained(Search(steps, None, 1_000, 16_000), tmp_path / "c.png", 15_000)
    assert path.read_bytes()[:4] == b"\x89PNG"


# --- the command line -------------------------------------------------------------------


def test_help_explains_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        sustained.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for option in ("--system", "--groups", "--low", "--high", "--step-s", "--warmup-s",
                   "--bound-ms", "--users", "--max-steps", "--precision",
                   "event -> Redis", "project-v2"):  # fmt: skip
        assert option in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--low", "5000", "--high", "1000"], "--high (1000) must be >= --low (5000)"),
        (["--low", "-5"], "--low must be > 0"),
        (["--step-s", "-1"], "--step-s must be > 0"),
        (["--warmup-s", "-1"], "--warmup-s must be >= 0"),
        (["--bound-ms", "0"], "--bound-ms must be > 0"),
        (["--users", "0"], "--users must be >= 1"),
        (["--max-steps", "0"], "--max-steps must be >= 1"),
        (["--precision", "-0.1"], "--precision must be > 0"),
        (["--step-s", "40"], "leaves under 10 s of lag samples"),
        (["--groups", "user_activity,nope"], "unknown feature groups ['nope']"),
        (["--low", "many"], "invalid float value: 'many'"),
        (["--system", "quix", "--groups", "user_activity"], "quix computes its own"),
        (["--system", "spark"], "invalid choice: 'spark'"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        sustained.main(argv)  # before anything touches the stack
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_the_defaults_search_the_whole_catalogue_in_2_minute_steps() -> None:
    o = parse([])
    assert (o.groups, o.name, o.step.step_s, o.system) == ("", "sustained", 120, "project")
    g = parse(["--groups", " user_activity, user_session ", "--step-s", "40", "--warmup-s", "10"])
    assert g.groups == "user_activity,user_session"
    assert g.name == "sustained-user_activity+user_session"
    assert (g.step.step_s, g.step.warmup_s) == (40, 10)
    assert parse(["--system", "quix"]).name == "sustained-quix"


def test_the_v2_systems_differ_only_in_the_sources_idleness() -> None:
    settings = load_settings()
    chosen = {
        system: sustained.contender(settings, sustained.parse(["--system", system]), print)
        for system in ("project-v2", "project-v2-flink-idle")
    }
    lag_aware, flink = chosen["project-v2"], chosen["project-v2-flink-idle"]
    assert isinstance(lag_aware, Project) and isinstance(flink, Project)
    assert (lag_aware.idleness, flink.idleness) == ("lag-aware", "flink")
    assert lag_aware.groups == flink.groups == sustained.V2_GROUPS
    assert lag_aware_source(lag_aware.config("ns")) and not lag_aware_source(flink.config("ns"))
