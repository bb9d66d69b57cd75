"""The wire encoder and the producer, without servers: the registry lookup is mocked."""

from __future__ import annotations

import io
import itertools
import json
from collections import Counter
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader

from flink_jobs.errors import UserError
from flink_jobs.generator import (
    INTERACTIONS,
    TOPICS,
    UNKNOWN_SCHEMA_ID,
    Fault,
    GeneratorConfig,
    deliveries,
    events,
)
from flink_jobs.generator.sink import Tally, to_kafka
from flink_jobs.producer import GovernedProducer, KafkaOut, WireEncoder
from flink_jobs.registry import RegistryClient, schema_for_topic
from tests.avro_helpers import without_logical_types

IDS = {topic: 40 + n for n, topic in enumerate(TOPICS)}
NOWHERE = "127.0.0.1:1"  # no broker


class Recorder(KafkaOut):
    """Keeps what would be sent, instead of sending it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str | bytes, bytes, int | None]] = []

    def send(
        self, topic: str, key: str | bytes, value: bytes, partition: int | None = None
    ) -> None:
        self.sent.append((topic, key, value, partition))


def encoder(topic: str) -> WireEncoder:
    return WireEncoder(topic, schema_for_topic(topic).schema(), IDS[topic])


def decode(topic: str, value: bytes) -> tuple[int, int, dict[str, Any]]:
    """(magic byte, schema id, event) of Confluent-framed bytes."""
    reader = parse_schema(without_logical_types(schema_for_topic(topic).schema()))
    body = io.BytesIO(value[5:])
    event = schemaless_reader(body, reader)
    assert body.tell() == len(value) - 5, "trailing bytes"
    assert isinstance(event, dict)
    return value[0], int.from_bytes(value[1:5], "big"), event


def as_json(event: dict[str, Any]) -> Any:
    return json.loads(json.dumps(event))  # tuples as lists, as Avro reads them back


def test_bytes_decode_back_to_the_event_with_the_confluent_framing() -> None:
    encoders = {topic: encoder(topic) for topic in TOPICS}
    for topic, _key, event in itertools.islice(events(GeneratorConfig(games=3)), 3000):
        magic, schema_id, decoded = decode(topic, encoders[topic].encode(event))
        assert (magic, schema_id) == (0, IDS[topic])
        assert decoded == as_json(event)


def test_encoder_takes_the_schema_as_registry_text_too() -> None:
    event = next(e for t, _, e in events(GeneratorConfig()) if t == INTERACTIONS)
    text = schema_for_topic(INTERACTIONS).canonical()
    assert WireEncoder(INTERACTIONS, text, 7).encode(event) == WireEncoder(
        INTERACTIONS, json.loads(text), 7
    ).encode(event)


def test_same_seed_same_bytes() -> None:
    def stream() -> list[bytes]:
        cfg = GeneratorConfig(seed=9, games=2, count=2000)
        return [encoder(topic).encode(event) for topic, _, event in events(cfg)]

    assert stream() == stream()


@pytest.mark.parametrize(
    "event",
    [
        {"user_id": "u1", "watch_time_ms": "not a number"},
        {"user_id": 5},
        "not even a record",
    ],
)
def test_an_event_that_does_not_fit_is_refused(event: Any) -> None:
    with pytest.raises(UserError, match=r"does not fit the registered schema of fan\.interactions"):
        encoder(INTERACTIONS).encode(event)


def test_a_wrong_type_in_an_otherwise_good_event_is_refused() -> None:
    event = next(e for t, _, e in events(GeneratorConfig()) if t == INTERACTIONS)
    for field, value in [("seq", "7"), ("game_id", 5), ("team_ids", [1]), ("device", None)]:
        with pytest.raises(UserError, match="does not fit"):
            encoder(INTERACTIONS).encode({**event, field: value})


def fake_registry(monkeypatch: pytest.MonkeyPatch, answer: tuple[int, int, str] | None) -> None:
    monkeypatch.setattr(RegistryClient, "latest", lambda self, subject: answer)

    def never(self: RegistryClient, subject: str, schema: str) -> int:
        raise AssertionError("a producer registered a schema")

    monkeypatch.setattr(RegistryClient, "register", never)


def test_the_encoder_comes_from_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_registry(monkeypatch, (42, 3, schema_for_topic(INTERACTIONS).canonical()))
    assert WireEncoder.from_registry("http://registry", INTERACTIONS).schema_id == 42


def test_unregistered_subject_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_registry(monkeypatch, None)
    with pytest.raises(UserError, match="producers never register their own"):
        GovernedProducer(NOWHERE, "http://registry", "fan.nothing", "user_id")


def test_producer_refuses_what_does_not_fit_and_sends_what_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_registry(monkeypatch, (42, 3, schema_for_topic(INTERACTIONS).canonical()))
    out = Recorder()
    producer = GovernedProducer(NOWHERE, "http://registry", INTERACTIONS, "user_id", out)
    with pytest.raises(UserError, match="does not fit the registered schema"):
        producer.send({"user_id": "u1", "watch_time_ms": "not a number"})
    event = next(e for t, _, e in events(GeneratorConfig()) if t == INTERACTIONS)
    producer.send(event, partition=2)
    producer.send_encoded("u1", b"\x01broken")
    (topic, key, value, partition), broken = out.sent
    assert (topic, key, partition) == (INTERACTIONS, event["user_id"], 2)
    assert decode(INTERACTIONS, value) == (0, 42, as_json(event))
    assert broken == (INTERACTIONS, "u1", b"\x01broken", None)


def sent_by_fault(cfg: GeneratorConfig) -> list[tuple[str, bytes, Fault | None]]:
    sent: list[tuple[str, bytes]] = []
    faults = [fault for _, _, _, fault in deliveries(cfg)]
    tally = to_kafka(
        deliveries(cfg), {t: encoder(t) for t in TOPICS},
        lambda topic, key, value: sent.append((topic, value)),
        {t: "bench." + t for t in TOPICS}, Tally(),
    )  # fmt: skip
    assert tally.total == len(sent) and sum(tally.faults.values()) == sum(map(bool, faults))
    return [(topic, value, fault) for (topic, value), fault in zip(sent, faults, strict=True)]


def test_byte_level_malformed_records_are_broken_as_labelled() -> None:
    cfg = GeneratorConfig(malformed_share=0.3, count=3000)
    kinds: Counter[Fault | None] = Counter()
    for topic, value, fault in sent_by_fault(cfg):
        assert topic.startswith("bench.")
        kinds[fault] += 1
        if fault is Fault.WRONG_MAGIC_BYTE:
            assert value[0] != 0 and int.from_bytes(value[1:5], "big") == IDS[INTERACTIONS]
        elif fault is Fault.UNKNOWN_SCHEMA_ID:
            assert value[0] == 0 and int.from_bytes(value[1:5], "big") == UNKNOWN_SCHEMA_ID
            assert decode(INTERACTIONS, value)[2]  # the body itself is fine
        elif fault is Fault.TRUNCATED_PAYLOAD:
            assert value[0] == 0 and int.from_bytes(value[1:5], "big") == IDS[INTERACTIONS]
            with pytest.raises((EOFError, StopIteration, ValueError, IndexError)):
                decode(INTERACTIONS, value)
        else:
            topic_name = topic.removeprefix("bench.")
            assert decode(topic_name, value)[:2] == (0, IDS[topic_name])
    assert all(kinds[kind] > 20 for kind in cfg.malformed_kinds), kinds


def test_value_level_malformed_records_decode_with_the_forbidden_value() -> None:
    cfg = GeneratorConfig(malformed_share=0.3, count=3000, malformed_kinds=(Fault.EMPTY_USER_ID,))
    broken = [v for _, v, fault in sent_by_fault(cfg) if fault is Fault.EMPTY_USER_ID]
    assert len(broken) > 100
    assert all(decode(INTERACTIONS, value)[2]["user_id"] == "" for value in broken)
