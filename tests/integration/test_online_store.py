"""The event-time guard and TTL of the online store, in the real Redis."""

from __future__ import annotations

import redis

from flink_jobs.online_store import FeatureGroupRef, FeatureRow, OnlineStore
from flink_jobs.settings import Settings


def row(ref: FeatureGroupRef, event_time_ms: int, count: int) -> FeatureRow:
    return FeatureRow(ref, "u1", event_time_ms, event_time_ms - 60_000, {"count": count})


def test_older_values_never_overwrite_newer_ones(stack: Settings, unique: str) -> None:
    client = redis.Redis.from_url(stack.redis_url)
    store = OnlineStore(client, ttl_ms=60_000)
    ref = FeatureGroupRef(f"it_{unique}", 1)
    assert store.write([row(ref, 2_000_000, 5)], now_ms=1) == 1
    # Older (reordered): a no-op. The same window again (recomputed after a job restart):
    # the later write wins. In one pipelined batch.
    assert store.write([row(ref, 1_999_999, 9), row(ref, 2_000_000, 7)], now_ms=2) == 1
    stored = store.read(ref, "u1")
    assert stored is not None
    assert (stored["count"], stored["_event_time_ms"], stored["_written_at_ms"]) == (
        "7",
        "2000000",
        "2",
    )
    assert store.write([row(ref, 1_999_999, 9)], now_ms=3) == 0
    assert store.write([row(ref, 2_000_001, 6)], now_ms=4) == 1
    stored = store.read(ref, "u1")
    assert stored is not None and stored["count"] == "6"
    assert 0 < client.pttl(ref.key("u1")) <= 60_000
