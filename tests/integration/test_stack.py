"""The stack's services are real, answer, keep their data, and `up` is idempotent."""

from __future__ import annotations

import json

import redis

from flink_jobs.registry import RegistryClient
from flink_jobs.settings import Settings
from flink_jobs.stack import manager
from flink_jobs.stack.registry import Registry


def test_up_again_starts_nothing_new(stack: Settings) -> None:
    said: list[str] = []
    rows = manager.up(stack, said.append)
    assert all(row.healthy for row in rows)
    names = [service.name for service in manager.services(stack)]
    assert names == ["kafka", "registry", "redis", "flink", "writer", "api"]
    assert said == [f"{name:9} already running" for name in names]


def test_redis_persists_with_append_only_file(stack: Settings) -> None:
    client = redis.Redis.from_url(stack.redis_url)
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert client.config_get("bind")["bind"] == stack.host


def test_registry_keeps_schemas_across_a_restart(stack: Settings, unique: str) -> None:
    client = RegistryClient(stack.registry_url)
    subject = f"it-{unique}-value"
    schema = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]})
    schema_id = client.register(subject, schema)
    registry = Registry(stack)
    registry.stop()
    manager.up(stack, print)
    assert subject in client.subjects()
    latest = client.latest(subject)
    assert latest is not None and latest[0] == schema_id
