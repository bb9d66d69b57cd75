"""The metrics catalogue is what the writer exports, series for series."""

from __future__ import annotations

import json
from collections import Counter

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from flink_jobs.metrics import METRICS, SERIES
from flink_jobs.online_store import FeatureGroupRef, FeatureRow
from flink_jobs.writer_metrics import WriterMetrics


def exposed(registry: CollectorRegistry) -> set[str]:
    """The sample names a scrape of `registry` returns."""
    text = generate_latest(registry).decode()
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


def catalogued(exporter: str) -> set[str]:
    return {series for m in METRICS if m.exporter == exporter for series in m.series}


def test_the_writer_exports_exactly_its_catalogued_series() -> None:
    metrics = WriterMetrics()
    ref = FeatureGroupRef("user_activity", 1)
    metrics.read(Counter({ref.topic: 1}))
    metrics.rejected(ref.topic)
    metrics.redis_error(ConnectionError())
    metrics.written([FeatureRow(ref, "u1", 60_000, 0, {})], [True], 0.001, 61_000)
    partition = {"fetch_state": "active", "consumer_lag": 3}
    metrics.on_stats(json.dumps({"topics": {ref.topic: {"partitions": {"0": partition}}}}))
    assert exposed(metrics.registry) == catalogued("writer")


def test_names_are_unique_and_series_follow_prometheus_conventions() -> None:
    names = [m.name for m in METRICS]
    assert len(names) == len(set(names))
    assert "sportsfeat_api_requests_total" in SERIES
    assert "sportsfeat_writer_redis_write_seconds_bucket" in SERIES
    assert "flink_jobmanager_job_numRestarts" in SERIES  # Flink exports counters bare
    assert "flink_jobmanager_job_numRestarts_total" not in SERIES
