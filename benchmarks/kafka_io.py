"""Kafka as the benchmark sees it: offsets (end, committed, event time at an offset),
feature rows read back, and the run's topics deleted afterwards."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from flink_jobs.avro_decoder import ConfluentAvroDecoder
from flink_jobs.registry import RegistryClient
from flink_jobs.topic_tail import as_ms, read_all
from flink_jobs.verify.compare import Rows

Offsets = dict[int, int]  # partition -> offset
RETRY_S = 0.5
# a partition's leader moving, or not elected yet on a topic just created
MOVING = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE}


def _consumer(bootstrap: str, group: str | None = None) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group or f"bench-probe-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "log_level": 3,
        }
    )


def end_offsets(bootstrap: str, topic: str, attempts: int = 3) -> Offsets:
    """Per partition, the offset after the last record. Asked again, up to `attempts` times,
    on an error Kafka calls retriable and on a leader that moves (MOVING)."""
    consumer = _consumer(bootstrap)
    try:
        for attempt in range(1, attempts + 1):
            try:
                partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
                return {
                    p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                    for p in partitions
                }
            except KafkaException as exc:
                error = exc.args[0]
                if attempt == attempts or not (error.retriable() or error.code() in MOVING):
                    raise
                time.sleep(RETRY_S)
        raise AssertionError("unreachable")
    finally:
        consumer.close()


def topics(bootstrap: str, prefix: str) -> list[str]:
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    return sorted(t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix))


def lag(bootstrap: str, group: str, topic: str) -> int:
    """Records of `topic` the group has not committed yet."""
    ends = end_offsets(bootstrap, topic)
    done = committed(bootstrap, group, topic, ends)
    return sum(end - done.get(p, 0) for p, end in ends.items())


def committed(bootstrap: str, group: str, topic: str, partitions: Iterable[int]) -> Offsets:
    """The group's committed offsets (0 where it has none yet)."""
    consumer = _consumer(bootstrap, group)
    try:
        found = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        return {tp.partition: max(tp.offset, 0) for tp in found}
    finally:
        consumer.close()


def event_times_before(
    bootstrap: str, registry_url: str, topic: str, offsets: Offsets, field: str = "event_time"
) -> Offsets:
    """Per partition, the event time of the record just before `offsets` (skipping empty)."""
    consumer = _consumer(bootstrap)
    decoder = ConfluentAvroDecoder(RegistryClient(registry_url))
    times: Offsets = {}
    try:
        for partition, offset in offsets.items():
            if offset <= 0:
                continue
            consumer.assign([TopicPartition(topic, partition, offset - 1)])
            msg = consumer.poll(10)
            if msg is not None and not msg.error():
                times[partition] = as_ms(decoder.decode(msg.value())[field])
        return times
    finally:
        consumer.close()


def feature_rows(
    bootstrap: str,
    topic: str,
    decode: Callable[[bytes], dict[str, Any]],
    wanted: Callable[[str], bool],
    names: list[str],
) -> tuple[Rows, int]:
    """The rows of a feature topic for the wanted entities, and how many came twice."""
    rows: Rows = {}
    duplicates = 0
    for entity, raw, _ in read_all(bootstrap, topic, timeout_s=600):
        if not wanted(entity):
            continue
        value = decode(raw)
        key = (entity, as_ms(value["window_start"]), as_ms(value["window_end"]))
        duplicates += key in rows
        rows[key] = {n: value.get(n) for n in names}
    return rows, duplicates


def avro_decoder(registry_url: str) -> Callable[[bytes], dict[str, Any]]:
    return ConfluentAvroDecoder(RegistryClient(registry_url)).decode


def json_decoder(raw: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(raw)
    return value


def delete_topics(bootstrap: str, wanted: Callable[[str], bool]) -> list[str]:
    """Delete every topic whose name `wanted` accepts; returns their names."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    names = [t for t in admin.list_topics(timeout=10).topics if wanted(t)]
    for future in admin.delete_topics(names, operation_timeout=30).values() if names else ():
        future.result()
    return names
