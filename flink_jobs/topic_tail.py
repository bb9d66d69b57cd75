"""Reading Avro records back from Kafka: the newest event time of a topic, and a live tail."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any, NamedTuple

from confluent_kafka import Consumer, TopicPartition

from flink_jobs.avro_decoder import ConfluentAvroDecoder
from flink_jobs.kafka_poll import ready
from flink_jobs.registry import RegistryClient

Record = tuple[str, dict[str, Any]]  # (key, decoded value)


def _consumer(bootstrap: str, **extra: object) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"sportsfeat-reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "log_level": 3,
            **extra,
        }
    )


def as_ms(value: Any) -> int:
    return int(value.timestamp() * 1000) if isinstance(value, datetime) else int(value)


def newest_event_time(bootstrap: str, registry_url: str, topic: str, field: str) -> int | None:
    """The largest `field` among the last record of each partition (None for an empty topic)."""
    consumer = _consumer(bootstrap)
    decoder = ConfluentAvroDecoder(RegistryClient(registry_url))
    try:
        partitions = consumer.list_topics(topic, timeout=5).topics[topic].partitions
        tails = []
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)
            if high > low:
                tails.append(TopicPartition(topic, p, high - 1))
        consumer.assign(tails)
        newest, seen = None, 0
        while seen < len(tails):
            msg = consumer.poll(5)
            if msg is None:
                break
            if msg.error():
                continue
            seen += 1
            value = as_ms(decoder.decode(msg.value())[field])
            newest = value if newest is None else max(newest, value)
        return newest
    finally:
        consumer.close()


def tail_batches(
    bootstrap: str, registry_url: str, topic: str, from_beginning: bool, idle_timeout_s: float
) -> Iterator[list[Record]]:
    """Committed records of `topic`, one batch per poll (empty when none arrived in 0.5 s),
    until none came for `idle_timeout_s`."""
    consumer = _consumer(
        bootstrap, **{"auto.offset.reset": "earliest" if from_beginning else "latest"}
    )
    decoder = ConfluentAvroDecoder(RegistryClient(registry_url))
    consumer.subscribe([topic])
    try:
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < idle_timeout_s:
            batch = [
                ((msg.key() or b"").decode(), decoder.decode(value))
                for msg in ready(consumer, 1000, 0.5)
                if not msg.error() and (value := msg.value()) is not None  # not a tombstone
            ]
            if batch:
                quiet_since = time.monotonic()
            yield batch
    finally:
        consumer.close()


class RawRecord(NamedTuple):
    key: str
    value: bytes
    timestamp_ms: int  # the Kafka record timestamp


def read_all(bootstrap: str, topic: str, timeout_s: float = 120) -> list[RawRecord]:
    """Every committed record of `topic` up to its current end, undecoded, in offset order
    per partition (partitions one after the other; tombstones left out)."""
    consumer = _consumer(bootstrap)
    records: list[RawRecord] = []
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        for p in sorted(partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high <= low:
                continue
            consumer.assign([TopicPartition(topic, p, low)])
            deadline = time.monotonic() + timeout_s
            while consumer.position([TopicPartition(topic, p)])[0].offset < high:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{topic}[{p}]: not read to offset {high} in {timeout_s} s")
                records += [
                    RawRecord((msg.key() or b"").decode(), value, msg.timestamp()[1])
                    for msg in ready(consumer, 1000, 1)
                    if not msg.error() and (value := msg.value()) is not None
                ]
        return records
    finally:
        consumer.close()
