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


def test_a_batch_larger_than_one_script_call_reports_each_row(stack: Settings, unique: str) -> None:
    store = OnlineStore(redis.Redis.from_url(stack.redis_url), ttl_ms=60_000)
    ref = FeatureGroupRef(f"it_{unique}", 1)
    first = [FeatureRow(ref, f"u{i}", 2_000_000, 1_940_000, {"count": i}) for i in range(250)]
    assert store.apply(first, now_ms=1) == [True] * 250
    # Every third row is older than what is stored: stale, in whichever script call it falls.
    stale = [i % 3 == 0 for i in range(250)]
    again = [
        FeatureRow(ref, f"u{i}", 1_999_999 if stale[i] else 2_000_000, 1_940_000, {"count": -i})
        for i in range(250)
    ]
    assert store.apply(again, now_ms=2) == [not s for s in stale]
    for i in (0, 99, 100, 101, 249):
        stored = store.read(ref, f"u{i}")
        assert stored is not None and stored["count"] == str(i if stale[i] else -i)
