"""The online-store writer's Prometheus metrics (named in flink_jobs.metrics) and their endpoint.

Freshness and consumer lag are computed when scraped: freshness from the newest event time
the writer has seen Redis accept per feature group, so a stalled writer shows freshness
growing instead of a frozen value; lag from librdkafka's statistics (``stats_cb``), which
the consumer delivers on the writer's own thread every few seconds.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Protocol

from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from flink_jobs.errors import UserError
from flink_jobs.metrics import (
    COMMIT_ERRORS,
    CONSUMER_LAG,
    FEATURE_UPDATES,
    FRESHNESS,
    REDIS_ERRORS,
    REDIS_WRITE_SECONDS,
    REGISTRY_ERRORS,
    VISIBLE_LAG,
    WRITER_RECORDS_READ,
    WRITER_RECORDS_REJECTED,
)
from flink_jobs.online_store import FeatureGroupRef

STATS_INTERVAL_MS = 5000  # librdkafka statistics, hence consumer lag, this often


class Written(Protocol):
    """A write of one group's value (v1 row) or tiles (v2) for one entity."""

    @property
    def ref(self) -> FeatureGroupRef: ...

    @property
    def event_time_ms(self) -> int:
        """The newest event time the write makes visible."""
        ...


class WriterMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._read = WRITER_RECORDS_READ.counter(self.registry)
        self._rejected = WRITER_RECORDS_REJECTED.counter(self.registry)
        self._updates = FEATURE_UPDATES.counter(self.registry)
        self._write_seconds = REDIS_WRITE_SECONDS.histogram(self.registry)
        self._errors = REDIS_ERRORS.counter(self.registry)
        self._registry_errors = REGISTRY_ERRORS.counter(self.registry)
        self._commit_errors = COMMIT_ERRORS.counter(self.registry)
        self._visible_lag = VISIBLE_LAG.histogram(self.registry)
        self._visible_lag_of: dict[FeatureGroupRef, Histogram] = {}
        self.newest_event_ms: dict[FeatureGroupRef, int] = {}
        self.lag: dict[tuple[str, int], int] = {}
        self.registry.register(_ScrapeTimeGauges(self))

    def read(self, per_topic: Counter[str]) -> None:
        for topic, count in per_topic.items():
            self._read.labels(topic).inc(count)

    def rejected(self, topic: str) -> None:
        self._rejected.labels(topic).inc()

    def redis_error(self, exc: Exception) -> None:
        self._errors.labels(type(exc).__name__).inc()

    def registry_error(self) -> None:
        self._registry_errors.inc()

    def commit_failed(self) -> None:
        self._commit_errors.inc()

    def written(
        self, rows: Sequence[Written], applied: Sequence[bool], seconds: float, now_ms: int
    ) -> None:
        """Redis accepted `rows` in `seconds`; `applied[i]`: row i replaced an older value."""
        if not rows:  # an idle poll: nothing was sent
            return
        self._write_seconds.observe(seconds)
        outcomes: Counter[tuple[FeatureGroupRef, bool]] = Counter()
        newest = self.newest_event_ms
        for row, replaced in zip(rows, applied, strict=True):
            ref = row.ref
            outcomes[ref, replaced] += 1
            # A stale row too: Redis holds a value at least that new for its entity.
            if row.event_time_ms > newest.get(ref, 0):
                newest[ref] = row.event_time_ms
            if replaced:
                self._lag_histogram(ref).observe((now_ms - row.event_time_ms) / 1000)
        for (ref, replaced), count in outcomes.items():
            outcome = "applied" if replaced else "stale_skipped"
            self._updates.labels(ref.group, str(ref.version), outcome).inc(count)

    def _lag_histogram(self, ref: FeatureGroupRef) -> Histogram:
        child = self._visible_lag_of.get(ref)
        if child is None:
            child = self._visible_lag_of[ref] = self._visible_lag.labels(
                ref.group, str(ref.version)
            )
        return child

    def on_stats(self, stats: str) -> None:
        """librdkafka's statistics: lag of each partition this consumer is fetching."""
        lag = {}
        for topic, info in json.loads(stats).get("topics", {}).items():
            for partition, p in info.get("partitions", {}).items():
                if p.get("fetch_state") == "active" and p.get("consumer_lag", -1) >= 0:
                    lag[topic, int(partition)] = int(p["consumer_lag"])
        self.lag = lag

    def serve(self, host: str, port: int) -> None:
        """Serve /metrics on a daemon thread."""
        try:
            start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise UserError(
                f"the writer cannot serve metrics on {host}:{port} ({exc}): "
                "free the port or set SPORTSFEAT_WRITER_METRICS_PORT"
            ) from exc


class _ScrapeTimeGauges(Collector):
    def __init__(self, metrics: WriterMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now_s = time.time()
        freshness = GaugeMetricFamily(FRESHNESS.name, FRESHNESS.help, labels=FRESHNESS.labels)
        for ref, event_ms in list(self.metrics.newest_event_ms.items()):
            freshness.add_metric([ref.group, str(ref.version)], now_s - event_ms / 1000)
        lag = GaugeMetricFamily(CONSUMER_LAG.name, CONSUMER_LAG.help, labels=CONSUMER_LAG.labels)
        for (topic, partition), records in sorted(self.metrics.lag.items()):
            lag.add_metric([topic, str(partition)], records)
        yield freshness
        yield lag
