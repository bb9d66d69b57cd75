"""A registry-governed producer: it serializes with the schema the registry holds, never its own.

`WireEncoder` fetches the subject's latest registered schema and id once, compiles an
encoder for it once (`flink_jobs.avro_encoder`; fastavro for a schema that encoder does not
support) and writes the Confluent wire format: magic byte 0, the 4-byte big-endian schema
id, the Avro body. A topic whose subject has no registered schema is refused with a
message saying how to register it; nothing here ever registers a schema.

`KafkaOut` is a batched, lz4-compressed, idempotent (acks=all) producer that reports only
failed deliveries; one can serve several topics.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from io import BytesIO
from typing import Any

from confluent_kafka import KafkaException, Producer
from fastavro import parse_schema, schemaless_writer

from flink_jobs.avro_encoder import compile_encoder
from flink_jobs.errors import UserError
from flink_jobs.registry import RegistryClient

Event = Mapping[str, Any]
MAGIC_BYTE = 0


class WireEncoder:
    """Events of one topic to Confluent wire-format bytes with one registered schema."""

    def __init__(self, topic: str, schema: str | Mapping[str, Any], schema_id: int) -> None:
        self.topic = topic
        self.schema_id = schema_id
        parsed = json.loads(schema) if isinstance(schema, str) else dict(schema)
        self._schema = parse_schema(parsed)  # refuses an invalid schema
        self._header = bytes([MAGIC_BYTE]) + schema_id.to_bytes(4, "big")
        try:
            self._body = compile_encoder(parsed)
        except ValueError:  # a construct the compiled encoder does not support
            self._body = self._fastavro_body

    def _fastavro_body(self, event: Event) -> bytes:
        out = BytesIO()
        schemaless_writer(out, self._schema, event)
        return out.getvalue()

    @classmethod
    def from_registry(cls, registry_url: str, topic: str) -> WireEncoder:
        """The encoder for the latest schema registered under `<topic>-value`."""
        subject = f"{topic}-value"
        latest = RegistryClient(registry_url).latest(subject)
        if latest is None:
            raise UserError(
                f"the registry holds no schema for {subject}: producers never register their "
                "own; run `sportsfeat schemas register` first"
            )
        schema_id, _version, schema = latest
        return cls(topic, schema, schema_id)

    def encode(self, event: Event) -> bytes:
        """The event's bytes; UserError if it lacks a field or a value has the wrong type."""
        try:
            return self._header + self._body(event)
        except (ValueError, TypeError, OverflowError, AttributeError, KeyError) as exc:
            raise UserError(
                f"event does not fit the registered schema of {self.topic}: {exc}"
            ) from exc


class KafkaOut:
    """Batched, compressed, idempotent sends; only failed deliveries are reported back."""

    def __init__(self, bootstrap: str) -> None:
        self.failed: list[str] = []
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 50,
                "batch.num.messages": 10_000,
                "batch.size": 1_000_000,
                "compression.type": "lz4",
                "queue.buffering.max.messages": 500_000,
                "partitioner": "murmur2_random",  # the Java client's: same key, same partition
                "delivery.report.only.error": True,
                "on_delivery": self._delivered,
                "log_level": 3,
            }
        )
        self._produce = self._producer.produce

    def _delivered(self, err: object, _msg: object) -> None:
        if err is not None:
            self.failed.append(str(err))

    def send(
        self, topic: str, key: str | bytes, value: bytes, partition: int | None = None
    ) -> None:
        """Queue one message (partition None: by key); waits while the local queue is full."""
        while True:
            try:
                if partition is None:
                    self._produce(topic, value, key)
                else:
                    self._produce(topic, value, key, partition)
                return
            except BufferError:
                self._producer.poll(0.05)  # local queue full: let deliveries drain

    def flush(self, timeout_s: float = 30) -> None:
        """Wait until every queued message is acknowledged; UserError if not, or if any failed."""
        if self._producer.flush(timeout_s) != 0:
            raise UserError(f"not every event was acknowledged within {timeout_s} s")
        if self.failed:
            raise UserError(f"{len(self.failed)} events failed: {self.failed[0]}")

    def partitions(self, topic: str) -> int:
        try:
            meta = self._producer.list_topics(topic, timeout=5).topics[topic]
        except KafkaException as exc:
            raise UserError(f"cannot read metadata of {topic}: {exc}") from exc
        return len(meta.partitions)


class GovernedProducer:
    """Events of one topic, keyed by one of their fields, encoded with the registered schema."""

    def __init__(
        self, bootstrap: str, registry_url: str, topic: str, key_field: str,
        out: KafkaOut | None = None,
    ) -> None:  # fmt: skip
        self.topic = topic
        self.encoder = WireEncoder.from_registry(registry_url, topic)
        self._key_field = key_field
        self._out = KafkaOut(bootstrap) if out is None else out

    def send(self, event: Event, partition: int | None = None) -> None:
        value = self.encoder.encode(event)
        self._out.send(self.topic, str(event[self._key_field]), value, partition)

    def send_encoded(self, key: str | bytes, value: bytes, partition: int | None = None) -> None:
        """Send bytes as they are, e.g. a deliberately malformed record."""
        self._out.send(self.topic, key, value, partition)

    def send_all(self, events: Iterable[Event]) -> int:
        count = 0
        for event in events:
            self.send(event)
            count += 1
        self.flush()
        return count

    def partitions(self) -> int:
        return self._out.partitions(self.topic)

    def flush(self, timeout_s: float = 30) -> None:
        try:
            self._out.flush(timeout_s)
        except UserError as exc:
            raise UserError(f"{self.topic}: {exc}") from None
