"""Does a Flink option pay? The full catalogue drains one backlog once per option set,
the sets interleaved run by run, on the running stack; throughput and TaskManager CPU per
event side by side with the first set's.

    .venv/bin/python -m benchmarks.job_options --runs 2 --variant "this project=" \\
        --variant "Flink defaults=pipeline.object-reuse=false,\\
    state.backend.rocksdb.timer-service.factory=ROCKSDB"

Each variant is LABEL=OPTIONS, OPTIONS the job's `--flink-options` (KEY=VALUE,...: over
the job's own settings, flink_jobs/job.py). Drains as in `sportsfeat bench` (its backlog
shape: 100k users, 20 % disorder; start-up excluded, at most 60 s each).
"""

from __future__ import annotations

import argparse
import uuid

from benchmarks.cleanup import delete_run_data
from benchmarks.dataset import prepare_backlog
from benchmarks.drain import measure
from benchmarks.report import Metric, write
from benchmarks.systems import FlinkJob
from flink_jobs.errors import run_main
from flink_jobs.job_config import JobConfig
from flink_jobs.settings import load_settings

CAP_S = 60


def variant(text: str) -> tuple[str, str]:
    """`LABEL=OPTIONS` -> (label, options), the options checked as the job would."""
    label, sep, options = text.partition("=")
    if not sep or not label.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: use LABEL=KEY=VALUE,... (or LABEL= for none)")
    try:
        JobConfig(bootstrap="", registry_url="", flink_options=options).flink_option_map()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return label.strip(), options


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variant", type=variant, action="append", required=True,
                        help="LABEL=KEY=VALUE,... (repeat; the first is the baseline)")  # fmt: skip
    parser.add_argument("--events", type=int, default=1_500_000, help="backlog size")
    parser.add_argument("--runs", type=int, default=2, help="drains per variant")
    args = parser.parse_args(argv)
    variants: dict[str, str] = dict(args.variant)
    settings, run_id = load_settings(), uuid.uuid4().hex[:6]
    namespace = f"options{run_id}"
    prepare_backlog(settings, args.events, namespace)
    rates: dict[str, list[float]] = {label: [] for label in variants}
    cpu: dict[str, list[float]] = {label: [] for label in variants}
    try:
        for run in range(args.runs):
            for n, (label, options) in enumerate(variants.items()):
                name = f"options-{run_id}-{run}{n}"
                config = JobConfig(
                    bootstrap=settings.kafka_bootstrap, registry_url=settings.registry_url,
                    namespace=f"{namespace}r{run}{n}", source_namespace=namespace,
                    consumer_group=name, job_name=name, flink_options=options,
                )  # fmt: skip
                m = measure(FlinkJob(settings, name, config), args.events, CAP_S, 180, print)
                rates[label].append(m.rate)
                cpu[label].append(m.cpu_s_per_million["TaskManager"])
                print(f"run {run + 1}, {label}: {m.rate:,.0f} events/s, "
                      f"{cpu[label][-1]:.0f} CPU s per million events", flush=True)  # fmt: skip
    finally:
        topics, keys = delete_run_data(settings, lambda t: namespace in t, [f"feat:*{namespace}*"])
        print(f"deleted {topics} topics and {keys} Redis keys of the run")
    baseline = next(iter(variants))
    metrics = []
    for label in variants:
        metrics += [
            Metric.of(label, "sustained throughput", "events/s", rates[label]),
            Metric.of(label, "CPU per million events (TaskManager)", "CPU s", cpu[label]),
        ]
        if label != baseline:
            ratios = [x / b for x, b in zip(rates[label], rates[baseline], strict=True)]
            metrics.append(Metric.of(f"{label} / {baseline}", "throughput ratio", "x", ratios))
    how = (
        f"{args.events:,} generated events (benchmarks.dataset.prepare_backlog: seed 9, 100k "
        "users, 20% out of order within the bound), the full catalogue at "
        f"parallelism 1 draining it from its start for at most {CAP_S} s (start-up "
        f"excluded), the variants interleaved, {args.runs} runs each. Options: "
        + "; ".join(f"{label}: {options or 'none'}" for label, options in variants.items())
    )
    print(write("job-options", metrics, {"How": how}).read_text())


if __name__ == "__main__":
    run_main(main)
