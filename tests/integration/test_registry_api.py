"""Every Confluent-API endpoint the project uses, against the real Apicurio Registry."""

from __future__ import annotations

import json

import pytest

from flink_jobs.errors import UserError
from flink_jobs.producer import GovernedProducer
from flink_jobs.registry import RegistryClient, schema_for_topic
from flink_jobs.schema_governance import compatibility_level, register_all
from flink_jobs.settings import Settings


def record(*fields: dict[str, object]) -> str:
    return json.dumps({"type": "record", "name": "R", "namespace": "it", "fields": list(fields)})


def test_register_is_idempotent_and_compatibility_is_enforced(stack: Settings, unique: str) -> None:
    client = RegistryClient(stack.registry_url)
    subject = f"it-{unique}-value"
    v1 = record({"name": "a", "type": "string"})
    client.set_compatibility(subject, "BACKWARD_TRANSITIVE")
    assert client.compatibility(subject) == "BACKWARD_TRANSITIVE"
    assert client.is_compatible(subject, v1)  # a new subject takes anything
    first = client.register(subject, v1)
    assert client.register(subject, v1) == first
    latest = client.latest(subject)
    assert latest is not None and latest[:2] == (first, 1)

    with_default = record(
        {"name": "a", "type": "string"}, {"name": "b", "type": "int", "default": 0}
    )
    without_default = record({"name": "a", "type": "string"}, {"name": "c", "type": "int"})
    assert client.is_compatible(subject, with_default)
    assert not client.is_compatible(subject, without_default)
    with pytest.raises(UserError, match="incompatible"):
        client.register(subject, without_default)


def test_project_schemas_register_with_their_levels(stack: Settings) -> None:
    client = RegistryClient(stack.registry_url)
    registered = register_all(client)
    assert registered == register_all(client)  # idempotent: same ids
    for subject, _, level in registered:
        assert client.compatibility(subject) == level == compatibility_level(subject)
    assert client.latest("no-such-subject-value") is None


def test_producer_refuses_a_topic_without_registered_schema(stack: Settings, unique: str) -> None:
    with pytest.raises(UserError, match="producers never register their own"):
        GovernedProducer(stack.kafka_bootstrap, stack.registry_url, f"it.{unique}", "user_id")


def test_producer_refuses_an_event_that_does_not_fit(stack: Settings, unique: str) -> None:
    topic = f"it.{unique}.interactions"
    RegistryClient(stack.registry_url).register(
        f"{topic}-value", schema_for_topic("fan.interactions").canonical()
    )
    producer = GovernedProducer(stack.kafka_bootstrap, stack.registry_url, topic, "user_id")
    with pytest.raises(UserError, match="does not fit the registered schema"):
        producer.send({"user_id": "u1", "watch_time_ms": "not a number"})
