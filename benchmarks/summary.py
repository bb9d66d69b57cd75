"""A benchmark run's measurements turned into the report's figures: one Metric (median, min,
max over repetitions) per system and metric, the ratios the issue's targets are about, and
the targets met or missed by how much. Pure: no I/O."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.correctness import Verdict
from benchmarks.drain import Measurement
from benchmarks.flink_rest import Checkpoint
from benchmarks.report import Metric
from benchmarks.stats import distribution, paired_ratios
from benchmarks.systems import PerfResult

KAFKA_LIMIT = "limit: Kafka consumer perf tool"


def flink_limit(p: int) -> str:
    return f"limit: Flink read+decode, parallelism {p}"


def flink_plain_avro(p: int) -> str:
    return f"baseline: Flink read with the plain avro-confluent format, parallelism {p}"


def project(subset: str, p: int) -> str:
    return f"project: {subset}, parallelism {p}"


def peer(n: int) -> str:
    return f"peer: Quix Streams, {n} process{'es' if n > 1 else ''}"


@dataclass
class Results:
    """Everything a run measured, by system label, one entry per repetition."""

    drains: dict[str, list[Measurement]] = field(default_factory=dict)
    perf: list[PerfResult] = field(default_factory=list)
    checkpoints: dict[str, list[list[Checkpoint]]] = field(default_factory=dict)
    freshness: dict[str, list[tuple[list[float], list[float]]]] = field(default_factory=dict)
    serving: list[Metric] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    profiles: dict[str, list[str]] = field(default_factory=dict)  # system -> report lines

    def rates(self, system: str) -> list[float]:
        if system == KAFKA_LIMIT:
            return [p.rate for p in self.perf]
        return [m.rate for m in self.drains.get(system, [])]


def _of(system: str, metric: str, unit: str, values: list[float]) -> list[Metric]:
    return [Metric.of(system, metric, unit, values)] if values else []


def _per_role(
    system: str,
    runs: list[Measurement],
    what: str,
    unit: str,
    pick: Callable[[Measurement], dict[str, float]],
) -> list[Metric]:
    roles = sorted({r for m in runs for r in pick(m)})
    return [
        m for r in roles for m in _of(system, f"{what} ({r})", unit, [pick(x)[r] for x in runs])
    ]


def metrics(results: Results, parallelisms: tuple[int, ...]) -> list[Metric]:
    found: list[Metric] = []
    perf = results.perf
    found += _of(KAFKA_LIMIT, "sustained throughput", "events/s", results.rates(KAFKA_LIMIT))
    found += _of(
        KAFKA_LIMIT,
        "CPU per million events (consumer)",
        "CPU s",
        [p.cpu_s / p.records * 1e6 for p in perf if p.records],
    )
    found += _of(KAFKA_LIMIT, "peak RSS (consumer)", "MiB", [p.peak_rss_kib / 1024 for p in perf])
    for system, runs in results.drains.items():
        found += _of(system, "sustained throughput", "events/s", [m.rate for m in runs])
        found += _of(system, "measured drain", "s", [m.seconds for m in runs])
        found += _per_role(
            system, runs, "CPU per million events", "CPU s", lambda m: m.cpu_s_per_million
        )
        found += _per_role(system, runs, "peak RSS", "MiB", lambda m: m.peak_rss_mib)
    for system, per_run in results.checkpoints.items():
        done = [c for c in per_run if c]
        found += _of(
            system,
            "checkpoint duration (median per run)",
            "ms",
            [statistics.median(x.duration_ms for x in c) for c in done],
        )
        found += _of(
            system,
            "checkpoint state size (largest per run)",
            "MiB",
            [max(x.state_bytes for x in c) / 2**20 for c in done],
        )
    for system, reps in results.freshness.items():
        for where, index in (("Kafka", 0), ("Redis", 1)):
            delays = [rep[index] for rep in reps if rep[index]]
            for q in ("p50", "p99", "max"):
                values = [distribution(d)[q] for d in delays]
                found += _of(system, f"window close -> {where} {q}", "ms", values)
    found += results.serving
    return found + ratios(results, parallelisms)


def ratios(results: Results, parallelisms: tuple[int, ...]) -> list[Metric]:
    found = _of(
        f"{flink_limit(1)} / {flink_plain_avro(1)}",
        "throughput ratio (dead-letter decoding / plain format)",
        "x",
        paired_ratios(results.rates(flink_limit(1)), results.rates(flink_plain_avro(1))),
    )
    for p in parallelisms:
        for subset in ("full catalogue", "built-in subset"):
            mine = results.rates(project(subset, p))
            for other in (flink_limit(p), KAFKA_LIMIT, peer(p)):
                found += _of(
                    f"{project(subset, p)} / {other}",
                    "throughput ratio",
                    "x",
                    paired_ratios(mine, results.rates(other)),
                )
    return found


def _median(found: list[Metric], system: str, metric: str) -> float | None:
    return next((m.median for m in found if m.system == system and m.metric == metric), None)


def targets(found: list[Metric], parallelisms: tuple[int, ...]) -> list[str]:
    """The issue's targets, each met or missed by how much (never asserted anywhere)."""
    lines = []

    def check(what: str, value: float | None, goal: float, above: bool, unit: str) -> None:
        if value is None:
            lines.append(f"- {what}: not measured")
            return
        met = value >= goal if above else value < goal
        verdict = "met" if met else f"missed by {abs(value - goal) / goal:.0%}"
        lines.append(
            f"- {what}: {value:,.2f}{unit} (target {'>=' if above else '<'} "
            f"{goal:,g}{unit}): {verdict}"
        )

    for p in parallelisms:
        full = project("full catalogue", p)
        ratio = _median(found, f"{full} / {peer(p)}", "throughput ratio")
        check(f"full catalogue / peer, parallelism {p}", ratio, 3.0, True, "x")
        ratio = _median(found, f"{full} / {flink_limit(p)}", "throughput ratio")
        check(f"full catalogue / Flink read limit, parallelism {p}", ratio, 0.5, True, "x")
    check(
        "freshness p99, window close -> Redis",
        _median(found, project("full catalogue", 1), "window close -> Redis p99"),
        1000,
        False,
        " ms",
    )
    check(
        "serving p99, single entity at 1,000 req/s",
        _median(found, "feature API", "single entity p99 at 1000 req/s"),
        5,
        False,
        " ms",
    )
    check(
        "serving p99, 100-entity batch at 1,000 req/s",
        _median(found, "feature API", "100-entity batch p99 at 1000 req/s"),
        20,
        False,
        " ms",
    )
    return lines
