"""Events per second of the generator alone, with encoding, and to Kafka (if it answers).

    .venv/bin/python benchmarks/generator_rate.py --events 300000

Prints the median of --runs runs per mode. Encoding uses the schemas in schemas/ with
placeholder ids (the bytes are what the registered schemas give; nothing is registered).
The Kafka mode writes to gen-bench.<topic> topics, created if missing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from confluent_kafka import KafkaException

from flink_jobs.generator import TOPICS, GeneratorConfig, deliveries
from flink_jobs.generator.sink import to_kafka
from flink_jobs.producer import KafkaOut, WireEncoder
from flink_jobs.registry import schema_for_topic
from flink_jobs.settings import load_settings
from flink_jobs.topics import ensure_topics

BENCH_PREFIX = "gen-bench."


def _discard(topic: str, key: str | bytes, value: bytes) -> None:
    """A send that sends nothing: measures generation and encoding only."""


def median_rate(run: Callable[[], None], events: int, runs: int) -> float:
    rates = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        rates.append(events / (time.perf_counter() - started))
    return statistics.median(rates)


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
    print(f"{args.events} events, {args.users} users, {args.contents} contents, "
          f"median of {args.runs} runs:")  # fmt: skip

    def generate() -> None:
        for _ in deliveries(cfg):
            pass

    def encode() -> None:
        to_kafka(deliveries(cfg), encoders, _discard)

    print(
        f"  generation only       {median_rate(generate, args.events, args.runs):>9,.0f} events/s"
    )
    print(f"  generation + encoding {median_rate(encode, args.events, args.runs):>9,.0f} events/s")

    bootstrap = load_settings().kafka_bootstrap
    names = {topic: BENCH_PREFIX + topic for topic in TOPICS}
    try:
        ensure_topics(bootstrap, list(names.values()), partitions=3)
    except KafkaException as exc:
        print(f"  to Kafka               skipped: {bootstrap} does not answer ({exc})")
        return
    out = KafkaOut(bootstrap)

    def produce() -> None:
        to_kafka(deliveries(cfg), encoders, out.send, names)
        out.flush(timeout_s=120)

    rate = median_rate(produce, args.events, args.runs)
    print(f"  to Kafka, acknowledged {rate:>9,.0f} events/s ({bootstrap}, gen-bench.* topics)")


if __name__ == "__main__":
    main()
