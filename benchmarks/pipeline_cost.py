"""What each stage of the pipeline costs, on one bounded backlog, timed by Flink itself.

The same prepared topic is read to its end and the job finishes, for: Flink's plain
avro-confluent format into a blackhole (the baseline without a dead-letter path), the job's
raw-bytes source decoded by DECODE_AVRO (what the dead-letter path costs), the groups using
only built-in aggregates, and the full catalogue (what the Java UDAFs add). Throughput is
events / (FINISHED - RUNNING) from the job's own timestamps: deployment is included, so a
large backlog keeps it small. Medians over `--runs`, min and max shown.

    .venv/bin/python -m benchmarks.pipeline_cost --events 600000 --runs 2
"""

from __future__ import annotations

import argparse
import uuid

from benchmarks import feature_sets
from benchmarks.cleanup import delete_run_data
from benchmarks.dataset import prepare_backlog
from benchmarks.flink_rest import FlinkRest
from benchmarks.report import Metric, write
from benchmarks.systems import READ_JOB
from flink_jobs import pipeline
from flink_jobs.job_config import JobConfig
from flink_jobs.settings import load_settings
from flink_jobs.submit import flink_run

VARIANTS = {  # label -> (flink run arguments, groups)
    "read, plain avro-confluent format": (["-py", str(READ_JOB), "--plain-avro"], None),
    "read, raw bytes + DECODE_AVRO (dead-letter path)": (["-py", str(READ_JOB)], None),
    "built-in subset (job)": (["-pym", "flink_jobs.job"], "builtin"),
    "full catalogue (job)": (["-pym", "flink_jobs.job"], ""),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=600_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--reads-only", action="store_true", help="only the two reads (the decoding's cost)"
    )
    args = parser.parse_args()
    variants = dict(list(VARIANTS.items())[:2]) if args.reads_only else VARIANTS
    settings, run_id = load_settings(), uuid.uuid4().hex[:6]
    source_ns = f"cost{run_id}"
    prepare_backlog(settings, args.events, source_ns)
    builtin = ",".join(g.name for g in feature_sets.built_in_groups())
    rates: dict[str, list[float]] = {label: [] for label in variants}
    try:
        for run in range(args.runs):
            for n, (label, (command, groups)) in enumerate(variants.items()):
                name = f"cost-{run_id}-{run}{n}"
                config = JobConfig(
                    bootstrap=settings.kafka_bootstrap, registry_url=settings.registry_url,
                    groups=builtin if groups == "builtin" else (groups or ""),
                    namespace=f"{source_ns}r{run}{n}", source_namespace=source_ns,
                    consumer_group=name, job_name=name, bounded=True,
                )  # fmt: skip
                if groups is not None:
                    pipeline.prepare(settings, config, lambda _line: None, partitions=3)
                job_id = flink_run(settings, [*command, *config.argv()], name)
                seconds = FlinkRest(settings.flink_rest_url).run_seconds(job_id, 1800)
                rate = args.events / seconds
                rates[label].append(rate)
                print(f"run {run + 1}, {label}: {rate:,.0f} events/s ({seconds:.1f} s)")
    finally:
        topics, keys = delete_run_data(settings, lambda t: source_ns in t, [f"feat:*{source_ns}*"])
        print(f"deleted {topics} topics and {keys} Redis keys of the run")
    metrics = [
        Metric.of(label, "throughput", "events/s", values) for label, values in rates.items()
    ]
    labels = list(variants)
    plain, decode = rates[labels[0]], rates[labels[1]]
    metrics.append(Metric.of("DECODE_AVRO / plain format", "throughput ratio", "x",
                             [d / p for d, p in zip(decode, plain, strict=True)]))  # fmt: skip
    if not args.reads_only:
        subset, full = rates[labels[2]], rates[labels[3]]
        metrics.append(Metric.of("full catalogue / built-in subset", "throughput ratio", "x",
                                 [f / s for f, s in zip(full, subset, strict=True)]))  # fmt: skip
    how = (
        f"{args.events:,} generated events (seed 9, 100k users, 20% out of order within the "
        "bound), one topic of 3 partitions, parallelism 1, each variant reading it to its end; "
        f"throughput = events / (FINISHED - RUNNING) of the Flink job; {args.runs} runs."
    )
    print(write("pipeline-cost", metrics, {"How": how}))


if __name__ == "__main__":
    main()
