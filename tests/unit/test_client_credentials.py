"""The writer's clients use the configured credentials (prod: Kafka SASL_SSL, registry basic
auth, Redis AUTH); without any, they connect as on the local stack."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from confluent_kafka import KafkaException

from flink_jobs.registry import RegistryClient
from flink_jobs.settings import Settings
from flink_jobs.writer import Writer

NOWHERE = ("127.0.0.1:9", "http://127.0.0.1:9", "redis://127.0.0.1:9/0")


@contextmanager
def registry_recording_auth() -> Iterator[tuple[str, list[str | None]]]:
    """A registry stand-in answering GET /subjects, recording each Authorization header."""
    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"[]")

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()


def test_the_registry_client_sends_basic_auth_only_when_configured() -> None:
    with registry_recording_auth() as (url, seen):
        assert RegistryClient(url, "features:pw:with:colons").subjects() == []
        assert RegistryClient(url).subjects() == []
    expected = "Basic " + base64.b64encode(b"features:pw:with:colons").decode()
    assert seen == [expected, None]


def test_the_writers_consumer_takes_the_kafka_security_settings() -> None:
    settings = Settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="features",
        kafka_sasl_password="pw",  # noqa: S106 (a test value)
    )
    Writer(*NOWHERE, kafka_security=settings.kafka_security())  # librdkafka accepts them
    broken = settings.kafka_security() | {"sasl.mechanism": "NOT-A-MECHANISM"}
    with pytest.raises(KafkaException, match="Unsupported SASL mechanism"):
        Writer(*NOWHERE, kafka_security=broken)


def test_the_writers_redis_client_authenticates_with_the_password() -> None:
    password = "r3dis"  # noqa: S105 (a test value)
    writer = Writer(*NOWHERE, redis_password=password)
    assert writer._redis.connection_pool.connection_kwargs["password"] == password
    assert Writer(*NOWHERE)._redis.connection_pool.connection_kwargs["password"] is None
