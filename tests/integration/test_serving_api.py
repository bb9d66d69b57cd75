"""The feature-serving API over HTTP, on the stack's Redis: the contract end to end."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import redis
import uvicorn

from flink_jobs.online_store import FeatureGroupRef, FeatureRow, OnlineStore
from flink_jobs.serving.app import create_app
from flink_jobs.serving.client import FeatureApiError, FeatureClient
from flink_jobs.settings import Settings
from tests.integration.conftest import eventually

KEY = "it-key"
REF = FeatureGroupRef("user_activity", 1)
HOUR_MS = 3600 * 1000
FEATURES = "/features/user_activity/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def api_url(stack: Settings) -> Iterator[str]:
    """The API in this process (uvicorn in a thread), with auth on, over the stack's Redis."""
    settings = stack.with_overrides(api_port=free_port(), api_keys=KEY)
    config = uvicorn.Config(
        create_app(settings), host=settings.host, port=settings.api_port, log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually(lambda: server.started or None, 10, "the API to listen")
    yield f"http://{settings.host}:{settings.api_port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def entities(stack: Settings, unique: str) -> Iterator[dict[str, str]]:
    """A fresh (30 s old) and an expired (25 h old) value, written as the writer does."""
    ids = {status: f"it-{unique}-{status}" for status in ("fresh", "expired", "missing")}
    now = int(time.time() * 1000)
    rows = [
        FeatureRow(
            REF,
            ids[status],
            event_time_ms=event_time,
            window_start_ms=event_time - 60_000,
            features={
                "user_id": ids[status],
                "user_interactions_count_1m": count,
                "user_watch_ms_sum_1m": count * 1000,
            },
        )
        for status, event_time, count in (
            ("fresh", now - 30_000, 3),
            ("expired", now - 25 * HOUR_MS, 7),
        )
    ]
    client = redis.Redis.from_url(stack.redis_url)
    assert OnlineStore(client, ttl_ms=HOUR_MS).write(rows, now_ms=now) == 2
    yield ids
    client.delete(*(REF.key(entity_id) for entity_id in ids.values()))


def test_values_are_served_fresh_expired_or_missing(api_url: str, entities: dict[str, str]) -> None:
    with FeatureClient(api_url, api_key=KEY) as client:
        fresh = client.get("user_activity", 1, entities["fresh"])
        assert fresh["status"] == "fresh"
        assert fresh["features"] == {"user_interactions_count_1m": 3, "user_watch_ms_sum_1m": 3000}
        assert 30_000 <= fresh["age_ms"] < 120_000
        assert fresh["event_time"].endswith("Z")

        expired = client.get("user_activity", 1, entities["expired"])
        assert expired["status"] == "expired"
        assert expired["features"] == {
            "user_interactions_count_1m": 7,
            "user_watch_ms_sum_1m": 7000,
        }
        assert expired["age_ms"] > 24 * HOUR_MS

        order = [entities["expired"], entities["missing"], entities["fresh"]]
        batch = client.get_batch("user_activity", 1, order)
        assert [r["entity_id"] for r in batch] == order
        assert [r["status"] for r in batch] == ["expired", "missing", "fresh"]
        assert batch[1]["features"] is None


def test_auth_health_and_errors(api_url: str) -> None:
    assert httpx.get(f"{api_url}{FEATURES}/u1").status_code == 401
    assert httpx.get(f"{api_url}{FEATURES}/u1", headers={"X-API-Key": "no"}).status_code == 401
    assert httpx.get(f"{api_url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{api_url}/readyz").json() == {"status": "ready"}

    with FeatureClient(api_url, api_key=KEY) as client:
        with pytest.raises(FeatureApiError) as unknown:
            client.get("user_activty", 1, "u1")
        assert unknown.value.status == 404
        assert unknown.value.message.startswith(
            "unknown feature group user_activty v1; known: user_activity v1, "
        )
        with pytest.raises(FeatureApiError) as malformed:
            client.get("user_activity", 1, "not valid")
        assert malformed.value.status == 400
        with pytest.raises(FeatureApiError) as oversized:
            client.get_batch("user_activity", 1, [f"u{i}" for i in range(501)])
        assert oversized.value.status == 400

    metrics = httpx.get(f"{api_url}/metrics").text
    assert 'sportsfeat_api_requests_total{route="/healthz",status="200"}' in metrics
