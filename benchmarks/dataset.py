"""The benchmark's input: one topic of generated fan.interactions events, produced once and
read by every system, and the same events regenerated for the reference.

Fixed seed, a long tail of users and content (the generator's Zipf-like popularity),
event times ending now (the job dead-letters events from the future), and disorder:
a share of events delivered late, but never by more than `max_disorder_ms`, well within
the job's 5 s watermark bound and the peer's 5 s grace, so no event is late anywhere and
every system must produce the same windows. Records are keyed by user (the default
partitioner) and produced in small batches, as a real-time producer would write them: a
consumer that reads a backlog partition by partition (Quix) then sees partitions
interleaved finely in event time.
"""

from __future__ import annotations

import itertools
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from confluent_kafka import Producer

from flink_jobs.errors import UserError
from flink_jobs.generator import GeneratorConfig, interactions
from flink_jobs.generator.config import Event
from flink_jobs.producer import WireEncoder
from flink_jobs.registry import RegistryClient, schema_for_topic
from flink_jobs.settings import Settings
from flink_jobs.topics import ensure_topics

PARTITIONS = 3
SOURCE = "fan.interactions"


@dataclass(frozen=True)
class Dataset:
    events: int
    events_per_second: float  # on the simulated clock: sets the event-time span
    users: int
    contents: int
    start_ms: int
    seed: int = 9
    out_of_order_share: float = 0.2
    mean_disorder_ms: int = 500
    max_disorder_ms: int = 2_000
    sample_every: int = 20  # 1 in this many users (and content ids) is checked in full

    @classmethod
    def ending_now(
        cls, events: int, events_per_second: float, users: int, contents: int
    ) -> Dataset:
        span_ms = int(events / events_per_second * 1000)
        return cls(events, events_per_second, users, contents, int(time.time() * 1000) - span_ms)

    def generator(self) -> GeneratorConfig:
        return GeneratorConfig(
            seed=self.seed,
            users=self.users,
            contents=self.contents,
            start_ms=self.start_ms,
            events_per_second=self.events_per_second,
            signal_share=0.0,
            out_of_order_share=self.out_of_order_share,
            mean_disorder_ms=self.mean_disorder_ms,
            max_disorder_ms=self.max_disorder_ms,
        )

    def stream(self) -> Iterator[Event]:
        """The events in delivery order: exactly what `produce` wrote, every time."""
        return itertools.islice(interactions(self.generator()), self.events)

    def sampled(self, entity_id: str) -> bool:
        """Whether an entity (user or content id) is in the correctness sample."""
        return zlib.crc32(entity_id.encode()) % self.sample_every == 0


def register_source(registry_url: str, topic: str) -> None:
    """The topic's subject, with fan.interactions' schema (producers never register)."""
    registry = RegistryClient(registry_url)
    subject = f"{topic}-value"
    registry.set_compatibility(subject, "FULL_TRANSITIVE")
    registry.register(subject, schema_for_topic(SOURCE).canonical())


def produce(
    data: Dataset, bootstrap: str, registry_url: str, topic: str, say: Callable[[str], None]
) -> float:
    """Write the dataset to a new topic; returns the seconds it took."""
    ensure_topics(bootstrap, [topic], PARTITIONS)
    register_source(registry_url, topic)
    encode = WireEncoder.from_registry(registry_url, topic).encode
    failed: list[str] = []
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "batch.num.messages": 200,
            "compression.type": "lz4",
            "queue.buffering.max.messages": 1_000_000,
            "partitioner": "murmur2_random",
            "delivery.report.only.error": True,
            "log_level": 3,
            "on_delivery": lambda err, _msg: failed.append(str(err)) if err else None,
        }
    )
    started = last = time.monotonic()
    for n, event in enumerate(data.stream(), 1):
        while True:
            try:
                producer.produce(topic, encode(event), event["user_id"])
                break
            except BufferError:
                producer.poll(0.05)
        if n % 50_000 == 0 and time.monotonic() - last > 10:
            last = time.monotonic()
            say(f"  {n:,} of {data.events:,} events produced ({n / (last - started):,.0f}/s)")
    if producer.flush(300) or failed:
        raise UserError(f"producing {topic}: {len(failed)} failed ({failed[:1]}) or unflushed")
    return time.monotonic() - started


def prepare_backlog(settings: Settings, events: int, namespace: str) -> str:
    """A cost benchmark's backlog (100k users, 10k contents, 5k events/s of event time)
    in `fan.interactions.<namespace>`; returns the topic."""
    data = Dataset.ending_now(events, 5_000, users=100_000, contents=10_000)
    topic = f"fan.interactions.{namespace}"
    took = produce(data, settings.kafka_bootstrap, settings.registry_url, topic, print)
    print(f"prepared {events:,} events in {took:.0f} s")
    return topic
