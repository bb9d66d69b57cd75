"""What each aggregate function costs, and what a Python one would cost instead.

One prepared topic (as pipeline_cost's) is read to its end by one job per variant, which
finishes: the feature job's source (DECODE_AVRO, event time, watermark), then a single
aggregate per user and 1-minute tumbling window into a blackhole (benchmarks/udf_cost_job.py).
The variants: COUNT(*) (a Flink built-in, the baseline), each Java UDAF of udfs/java as
the generated SQL calls it, the built-in COUNT(DISTINCT) that EXACT_DISTINCT replaced, and
TOP_K written in Python, as a general UDAF and as a pandas
UDAF. A Python aggregate runs only in the legacy `GROUP BY TUMBLE(...)` group window (not
in the window TVF the generated SQL uses), so the Java TOP_K also runs there: Python over
Java in the same operator is the language's cost, Python over the TVF's Java TOP_K what
the product would pay.

Throughput is events / (FINISHED - RUNNING) from the job's own timestamps, deployment (and
a Python variant's worker start-up) included, so a large backlog keeps it small. Per run,
a variant's cost is the baseline's throughput over its own ("x": 2 = half as fast) and its
time per event minus the baseline's (what the aggregate adds, read and decode excluded).
COUNT(*) always runs; medians over `--runs`, min and max shown.

    .venv/bin/python -m benchmarks.udf_cost --events 300000 --runs 2 --jvm    # udf-cost
    .venv/bin/python -m benchmarks.udf_cost --events 60000 --runs 2 --python  # udf-cost-python

A Python aggregate runs ~100x slower, hence its own, smaller run.
"""

from __future__ import annotations

import argparse
import uuid
from dataclasses import dataclass

from benchmarks.cleanup import delete_run_data
from benchmarks.dataset import prepare_backlog
from benchmarks.flink_rest import FlinkRest
from benchmarks.report import Metric, write
from benchmarks.stats import paired_ratios
from flink_jobs.job_config import JobConfig
from flink_jobs.settings import load_settings
from flink_jobs.submit import flink_run

BASELINE = "count"


@dataclass(frozen=True)
class Variant:
    label: str  # --only's name
    aggregate: str  # SQL, as the generated SQL calls it (tests/golden/streaming)
    group_window: bool = False  # legacy GROUP BY TUMBLE(...) instead of the window TVF

    @property
    def system(self) -> str:
        return self.aggregate + (" [GROUP BY TUMBLE]" if self.group_window else "")


VARIANTS = {
    v.label: v
    for v in (
        Variant(BASELINE, "COUNT(*)"),
        Variant("approx_distinct", "APPROX_DISTINCT(`content_id`, 12)"),
        Variant("exact_distinct", "EXACT_DISTINCT(`content_id`)"),
        Variant("count_distinct", "COUNT(DISTINCT `content_id`)"),  # the built-in it replaced
        Variant(
            "approx_percentiles",
            "APPROX_PERCENTILES(CAST(`watch_time_ms` AS DOUBLE), '0.5,0.9', 200)",
        ),
        Variant("top_k", "TOP_K(`sport`, 3)"),
        Variant("last_n_distinct", "LAST_N_DISTINCT(`content_id`, `event_time`, 10)"),
        Variant("latest", "LATEST(`content_id`, `event_time`)"),
        Variant("earliest", "EARLIEST(`app_surface`, `event_time`)"),
        Variant("decay_sum", "DECAY_SUM(1.0, `event_time`, 300000)"),
        Variant("top_k_group_window", "TOP_K(`sport`, 3)", group_window=True),
        Variant("python_top_k", "PY_TOP_K(`sport`, 3)", group_window=True),
        Variant("pandas_top_k", "PANDAS_TOP_K(`sport`, 3)", group_window=True),
    )
}
PYTHON = ("python_top_k", "pandas_top_k")
# (numerator, denominator) labels: how many times slower the first is than the second.
PAIRS = (
    ("python_top_k", "top_k_group_window"),
    ("python_top_k", "top_k"),
    ("pandas_top_k", "top_k_group_window"),
    ("count_distinct", "exact_distinct"),
)


def job_args(variant: Variant) -> list[str]:
    """`flink run` arguments before the job's command line."""
    window = ["--group-window"] if variant.group_window else []
    return ["-pym", "benchmarks.udf_cost_job", "--aggregate", variant.aggregate, *window]


def cost_metrics(rates: dict[str, list[float]]) -> list[Metric]:
    """Throughput per variant; each variant's cost against COUNT(*); Python against Java."""
    metrics = [
        Metric.of(VARIANTS[label].system, "throughput", "events/s", values)
        for label, values in rates.items()
    ]
    baseline = rates[BASELINE]
    for label, values in rates.items():
        if label == BASELINE:
            continue
        system = VARIANTS[label].system
        metrics.append(Metric.of(system, "cost vs COUNT(*)", "x", paired_ratios(baseline, values)))
        added = [1e6 / v - 1e6 / b for v, b in zip(values, baseline, strict=True)]
        metrics.append(Metric.of(system, "added time per event", "µs", added))
    for slow, fast in PAIRS:
        if slow in rates and fast in rates:
            system = f"{VARIANTS[slow].system} / {VARIANTS[fast].system}"
            metrics.append(Metric.of(system, "cost", "x", paired_ratios(rates[fast], rates[slow])))
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--only", nargs="+", choices=list(VARIANTS), help="COUNT(*) always runs")
    parser.add_argument(
        "--python", action="store_true", help="only the TOP_K variants, Python ones included"
    )
    parser.add_argument("--jvm", action="store_true", help="every variant but the Python ones")
    args = parser.parse_args()
    only = set(args.only or VARIANTS)
    if args.python:
        only = {label for label in VARIANTS if "top_k" in label}
    if args.jvm:
        only = {label for label in VARIANTS if label not in PYTHON}
    variants = [v for v in VARIANTS.values() if v.label in only | {BASELINE}]
    settings, run_id = load_settings(), uuid.uuid4().hex[:6]
    source_ns = f"udf{run_id}"
    prepare_backlog(settings, args.events, source_ns)
    rates: dict[str, list[float]] = {v.label: [] for v in variants}
    try:
        for run in range(args.runs):
            for n, variant in enumerate(variants):
                name = f"udf-{run_id}-{run}-{n}"
                config = JobConfig(
                    bootstrap=settings.kafka_bootstrap, registry_url=settings.registry_url,
                    source_namespace=source_ns, consumer_group=name, job_name=name, bounded=True,
                )  # fmt: skip
                job_id = flink_run(settings, [*job_args(variant), *config.argv()], name)
                seconds = FlinkRest(settings.flink_rest_url).run_seconds(job_id, 1800)
                rates[variant.label].append(args.events / seconds)
                print(
                    f"run {run + 1}, {variant.system}: {args.events / seconds:,.0f} events/s "
                    f"({seconds:.1f} s)"
                )
    finally:
        topics, keys = delete_run_data(settings, lambda t: source_ns in t, [f"feat:*{source_ns}*"])
        print(f"deleted {topics} topics and {keys} Redis keys of the run")
    how = (
        f"{args.events:,} generated events (seed 9, 100k users, 20% out of order within the "
        "bound), one topic of 3 partitions, parallelism 1; per variant one job reading it to "
        "its end through DECODE_AVRO into one aggregate per user and 1-minute tumbling window "
        "(window TVF unless marked GROUP BY TUMBLE), blackhole sink; throughput = events / "
        "(FINISHED - RUNNING) of the Flink job; cost x = COUNT(*)'s throughput / the "
        "variant's, per run; added time = the variant's time per event - COUNT(*)'s; "
        f"{args.runs} runs."
    )
    name = "udf-cost-python" if args.python else "udf-cost"
    print(write(name, cost_metrics(rates), {"How": how}))


if __name__ == "__main__":
    main()
