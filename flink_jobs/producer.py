"""A registry-governed producer: it serializes with the schema the registry holds, never its own.

``auto.register.schemas`` is off and ``use.latest.version`` on: a topic whose subject has
no registered schema is refused with a message saying how to register it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import KafkaException, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

from flink_jobs.errors import UserError
from flink_jobs.registry import RegistryClient

Event = Mapping[str, Any]


class GovernedProducer:
    def __init__(self, bootstrap: str, registry_url: str, topic: str, key_field: str) -> None:
        subject = f"{topic}-value"
        if RegistryClient(registry_url).latest(subject) is None:
            raise UserError(
                f"the registry holds no schema for {subject}: producers never register their "
                "own; run `sportsfeat schemas register` first"
            )
        self.topic = topic
        self._key_field = key_field
        self._serialize = AvroSerializer(
            SchemaRegistryClient({"url": registry_url}),
            schema_str=None,
            conf={"auto.register.schemas": False, "use.latest.version": True},
        )
        self._ctx = SerializationContext(topic, MessageField.VALUE)
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 20,
                "compression.type": "lz4",
                "log_level": 3,
            }
        )
        self.failed: list[str] = []

    def _delivered(self, err: object, _msg: object) -> None:
        if err is not None:
            self.failed.append(str(err))

    def send(self, event: Event, partition: int | None = None) -> None:
        try:
            value = self._serialize(dict(event), self._ctx)
        except (SerializationError, SchemaRegistryError, ValueError, TypeError) as exc:
            raise UserError(
                f"event does not fit the registered schema of {self.topic}: {exc}"
            ) from exc
        key = str(event[self._key_field]).encode()
        while True:
            try:
                self._producer.produce(
                    self.topic,
                    value,
                    key,
                    partition=-1 if partition is None else partition,  # -1: by key hash
                    on_delivery=self._delivered,
                )
                break
            except BufferError:
                self._producer.poll(0.1)  # local queue full: let deliveries drain
        self._producer.poll(0)

    def send_all(self, events: Iterable[Event]) -> int:
        count = 0
        for event in events:
            self.send(event)
            count += 1
        self.flush()
        return count

    def partitions(self) -> int:
        try:
            meta = self._producer.list_topics(self.topic, timeout=5).topics[self.topic]
        except KafkaException as exc:
            raise UserError(f"cannot read metadata of {self.topic}: {exc}") from exc
        return len(meta.partitions)

    def flush(self, timeout_s: float = 30) -> None:
        if self._producer.flush(timeout_s) != 0:
            raise UserError(f"{self.topic}: not every event was acknowledged within {timeout_s} s")
        if self.failed:
            raise UserError(f"{self.topic}: {len(self.failed)} events failed: {self.failed[0]}")
