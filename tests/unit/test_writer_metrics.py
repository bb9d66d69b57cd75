"""The writer's metrics: updates by outcome, freshness and visible lag, lag, errors."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
import redis

from flink_jobs.online_store import FeatureGroupRef, FeatureRow
from flink_jobs.writer_metrics import WriterMetrics

ACTIVITY = FeatureGroupRef("user_activity", 1)
TRENDING = FeatureGroupRef("content_trending", 2)


def row(ref: FeatureGroupRef, event_time_ms: int) -> FeatureRow:
    return FeatureRow(ref, "e1", event_time_ms, event_time_ms - 60_000, {"n": 1})


def sample(metrics: WriterMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_updates_are_counted_by_group_version_and_outcome() -> None:
    metrics = WriterMetrics()
    rows = [row(ACTIVITY, 60_000), row(ACTIVITY, 120_000), row(TRENDING, 60_000)]
    metrics.written(rows, [True, False, True], seconds=0.004, now_ms=130_000)
    updates = "sportsfeat_writer_feature_updates_total"
    assert sample(metrics, updates, group="user_activity", version="1", outcome="applied") == 1
    assert (
        sample(metrics, updates, group="user_activity", version="1", outcome="stale_skipped") == 1
    )
    assert sample(metrics, updates, group="content_trending", version="2", outcome="applied") == 1
    assert sample(metrics, "sportsfeat_writer_redis_write_seconds_count") == 1
    assert sample(metrics, "sportsfeat_writer_redis_write_seconds_sum") == pytest.approx(0.004)


def test_visible_lag_is_written_at_minus_window_end_of_applied_values() -> None:
    metrics = WriterMetrics()
    rows = [row(ACTIVITY, 100_000), row(ACTIVITY, 50_000)]
    metrics.written(rows, [True, False], seconds=0.001, now_ms=112_000)
    lag = "sportsfeat_feature_visible_lag_seconds"
    assert sample(metrics, f"{lag}_count", group="user_activity", version="1") == 1
    assert sample(metrics, f"{lag}_sum", group="user_activity", version="1") == 12.0
    assert sample(metrics, f"{lag}_bucket", group="user_activity", version="1", le="10.0") == 0
    assert sample(metrics, f"{lag}_bucket", group="user_activity", version="1", le="15.0") == 1


def test_freshness_is_now_minus_the_newest_event_time_and_grows_while_nothing_is_written() -> None:
    metrics = WriterMetrics()
    now_ms = int(time.time() * 1000)
    # The stale value still counts: Redis holds one at least as new for that entity.
    rows = [row(ACTIVITY, now_ms - 90_000), row(ACTIVITY, now_ms - 30_000)]
    metrics.written(rows, [True, False], seconds=0.001, now_ms=now_ms)
    freshness = "sportsfeat_feature_freshness_seconds"
    first = sample(metrics, freshness, group="user_activity", version="1")
    assert first is not None and 30 <= first < 35
    time.sleep(0.05)
    later = sample(metrics, freshness, group="user_activity", version="1")
    assert later is not None and later > first
    assert sample(metrics, freshness, group="content_trending", version="2") is None


def stats(*partitions: tuple[str, int, str, int]) -> str:
    """librdkafka's statistics JSON, reduced to what the metrics read."""
    topics: dict[str, dict[str, dict[str, dict[str, object]]]] = {}
    for topic, partition, state, lag in partitions:
        topics.setdefault(topic, {"partitions": {}})["partitions"][str(partition)] = {
            "fetch_state": state,
            "consumer_lag": lag,
        }
    return json.dumps({"name": "rdkafka#consumer-1", "topics": topics})


def test_consumer_lag_per_partition_from_librdkafka_statistics() -> None:
    metrics = WriterMetrics()
    metrics.on_stats(
        stats(
            ("features.user_activity.v1", 0, "active", 42),
            ("features.user_activity.v1", 1, "active", 0),
            ("features.user_activity.v1", -1, "none", -1),  # librdkafka's internal partition
            ("features.content_trending.v2", 0, "active", -1),  # not known yet
            ("features.content_trending.v2", 1, "stopped", 7),  # revoked
        )
    )
    lag = "sportsfeat_writer_consumer_lag"
    assert sample(metrics, lag, topic="features.user_activity.v1", partition="0") == 42
    assert sample(metrics, lag, topic="features.user_activity.v1", partition="1") == 0
    assert sample(metrics, lag, topic="features.content_trending.v2", partition="0") is None
    assert sample(metrics, lag, topic="features.content_trending.v2", partition="1") is None
    metrics.on_stats(stats())  # everything revoked: no stale series left
    assert sample(metrics, lag, topic="features.user_activity.v1", partition="0") is None


def test_reads_rejects_and_redis_errors_are_counted() -> None:
    metrics = WriterMetrics()
    metrics.read(Counter({"features.user_activity.v1": 3}))
    metrics.read(Counter({"features.user_activity.v1": 2}))
    metrics.rejected("features.user_activity.v1")
    metrics.redis_error(redis.ConnectionError("refused"))
    metrics.redis_error(redis.ConnectionError("refused"))
    topic = {"topic": "features.user_activity.v1"}
    assert sample(metrics, "sportsfeat_writer_records_read_total", **topic) == 5
    assert sample(metrics, "sportsfeat_writer_records_rejected_total", **topic) == 1
    assert sample(metrics, "sportsfeat_writer_redis_errors_total", error="ConnectionError") == 2


def test_an_idle_poll_is_no_redis_write() -> None:
    metrics = WriterMetrics()
    metrics.written([], [], seconds=0.0001, now_ms=1)
    assert sample(metrics, "sportsfeat_writer_redis_write_seconds_count") == 0
