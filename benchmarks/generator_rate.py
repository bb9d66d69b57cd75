"""Events per second of the generator alone, with encoding, and to Kafka, beside the limit.

    .venv/bin/python -m benchmarks.generator_rate --events 300000

Per mode, --runs runs (median, min and max go to benchmarks/results/generator-rate.*).
Encoding uses the schemas in schemas/ with placeholder ids (the bytes are what the
registered schemas give; nothing is registered). The Kafka modes write to gen-bench.*
topics, created if missing; the baseline is Kafka's own Java producer perf tool with the
same record size, acks and compression: what one producer process can push at best.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import time
from collections.abc import Callable

from confluent_kafka import KafkaException

from benchmarks.report import Metric, write
from flink_jobs.generator import TOPICS, GeneratorConfig, deliveries
from flink_jobs.generator.sink import to_kafka
from flink_jobs.producer import KafkaOut, WireEncoder
from flink_jobs.registry import schema_for_topic
from flink_jobs.settings import Settings, load_settings
from flink_jobs.stack.jars import kafka_classpath
from flink_jobs.topics import ensure_topics

BENCH_PREFIX = "gen-bench."


def _discard(topic: str, key: str | bytes, value: bytes) -> None:
    """A send that sends nothing: measures generation and encoding only."""


def rates(run: Callable[[], None], events: int, runs: int) -> list[float]:
    measured = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        measured.append(events / (time.perf_counter() - started))
    return measured


def java_producer_limit(
    settings: Settings, events: int, record_size: int, runs: int
) -> list[float]:
    """records/s of org.apache.kafka.tools.ProducerPerformance, one process, same settings."""
    topic = BENCH_PREFIX + "java-perf"
    ensure_topics(settings.kafka_bootstrap, [topic], partitions=3)
    measured = []
    for _ in range(runs):
        output = subprocess.run(
            ["java", "-cp", kafka_classpath(settings.jar_cache),
             "org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
             "--num-records", str(events), "--record-size", str(record_size),
             "--throughput", "-1", "--producer-props",
             f"bootstrap.servers={settings.kafka_bootstrap}", "acks=all",
             "compression.type=lz4", "linger.ms=20", "enable.idempotence=true"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        found = re.findall(r"([0-9.]+) records/sec", output)
        measured.append(float(found[-1]))
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--contents", type=int, default=10_000)
    args = parser.parse_args()
    cfg = GeneratorConfig(
        users=args.users,
        contents=args.contents,
        events_per_second=1000.0,
        count=args.events,
        start_ms=int(time.time() * 1000) - args.events,
    )
    encoders = {t: WireEncoder(t, schema_for_topic(t).schema(), i) for i, t in enumerate(TOPICS, 1)}
    sizes: list[int] = []

    def generate() -> None:
        for _ in deliveries(cfg):
            pass

    def encode() -> None:
        to_kafka(deliveries(cfg), encoders, lambda t, k, v: sizes.append(len(v)))

    metrics = [
        Metric.of("generator", mode, "events/s", rates(run, args.events, args.runs))
        for mode, run in (("generation only", generate), ("generation + encoding", encode))
    ]
    settings = load_settings()
    names = {topic: BENCH_PREFIX + topic for topic in TOPICS}
    try:
        ensure_topics(settings.kafka_bootstrap, list(names.values()), partitions=3)
    except KafkaException as exc:
        print(f"to Kafka skipped: {settings.kafka_bootstrap} does not answer ({exc})")
    else:
        out = KafkaOut(settings.kafka_bootstrap)

        def produce() -> None:
            to_kafka(deliveries(cfg), encoders, out.send, names)
            out.flush(timeout_s=120)

        record_size = sum(sizes) // len(sizes)
        metrics += [
            Metric.of("generator", "to Kafka, acknowledged", "events/s",
                      rates(produce, args.events, args.runs)),
            Metric.of("limit: Kafka ProducerPerformance (Java)",
                      f"to Kafka, {record_size}-byte records", "records/s",
                      java_producer_limit(settings, args.events, record_size, args.runs)),
        ]  # fmt: skip
    print(write("generator-rate", metrics).read_text())


if __name__ == "__main__":
    main()
