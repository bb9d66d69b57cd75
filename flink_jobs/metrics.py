"""Every metric the platform exports, by name: the one list code, alert rules and dashboards use.

Three exporters:

- ``writer``: the online-store writer's ``/metrics`` (port ``writer_metrics_port``);
- ``api``: the feature API's ``/metrics``;
- ``flink``: Flink's Prometheus reporter (ports 9249-9259). It names a metric
  ``flink_<logical scope>_<name>`` with ``_`` between the parts, where a user group
  ``addGroup(key, value)`` adds ``key`` to the scope and ``value`` as the label ``key``; it
  exports counters as gauges under that bare name (no ``_total``), and replaces characters
  outside ``[a-zA-Z0-9:_]`` in label values with ``_`` (``fan.interactions`` becomes
  ``fan_interactions``, job ``user-activity-features`` becomes ``user_activity_features``).

The pipeline's own Flink counter ``records`` is registered by the job's metering UDF as
``operator.addGroup("sportsfeat").addGroup("kind", k).addGroup("source", s)
.addGroup("detail", d).counter("records")``: hence ``PIPELINE_RECORDS`` below, with
``kind`` read (detail: event type), dead_letter (detail: reason) or late (detail: feature group).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics


class Kind(Enum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Kind
    exporter: str  # writer, api or flink
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()

    @property
    def series(self) -> tuple[str, ...]:
        """The names PromQL sees in the exposition."""
        if self.exporter == "flink" or self.kind is Kind.GAUGE:
            return (self.name,)
        if self.kind is Kind.COUNTER:
            return (f"{self.name}_total",)
        return tuple(f"{self.name}_{part}" for part in ("bucket", "sum", "count"))

    def counter(self, registry: CollectorRegistry) -> Counter:
        return Counter(self.name, self.help, self.labels, registry=registry)

    def histogram(self, registry: CollectorRegistry) -> Histogram:
        return Histogram(self.name, self.help, self.labels, buckets=self.buckets, registry=registry)


disable_created_metrics()  # type: ignore[no-untyped-call]  # no `<name>_created` series
C, G, H = Kind.COUNTER, Kind.GAUGE, Kind.HISTOGRAM
GROUP = ("group", "version")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0)
LAG_BUCKETS = (1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)

# --- the online-store writer
WRITER_RECORDS_READ = Metric(
    "sportsfeat_writer_records_read", C, "writer", "Feature records read from Kafka", ("topic",)
)
WRITER_RECORDS_REJECTED = Metric(
    "sportsfeat_writer_records_rejected", C, "writer",
    "Feature records the writer could not decode or key, skipped", ("topic",),
)  # fmt: skip
FEATURE_UPDATES = Metric(
    "sportsfeat_writer_feature_updates", C, "writer",
    "Feature values sent to Redis by outcome: applied, or stale (a newer window was "
    "stored: a replay or reorder)", (*GROUP, "outcome"),
)  # fmt: skip
REDIS_WRITE_SECONDS = Metric(
    "sportsfeat_writer_redis_write_seconds", H, "writer",
    "Redis round trip of one batch of guarded writes", buckets=LATENCY_BUCKETS,
)  # fmt: skip
REDIS_ERRORS = Metric(
    "sportsfeat_writer_redis_errors", C, "writer",
    "Failed Redis batch writes (each is retried), by exception", ("error",),
)  # fmt: skip
REGISTRY_ERRORS = Metric(
    "sportsfeat_writer_registry_errors", C, "writer",
    "Schema-registry calls that failed (the writer waits and retries: an outage, not bad data)",
)  # fmt: skip
COMMIT_ERRORS = Metric(
    "sportsfeat_writer_commit_errors", C, "writer",
    "Offset commits that failed after Redis accepted the batch (it may be applied again, "
    "harmless; e.g. a feature topic deleted meanwhile)",
)  # fmt: skip
CONSUMER_LAG = Metric(
    "sportsfeat_writer_consumer_lag", G, "writer",
    "Committed feature records not yet read (last stable offset minus position)",
    ("topic", "partition"),
)  # fmt: skip
FRESHNESS = Metric(
    "sportsfeat_feature_freshness_seconds", G, "writer",
    "Now minus the newest event time (window end) in Redis, per feature group", GROUP,
)  # fmt: skip
VISIBLE_LAG = Metric(
    "sportsfeat_feature_visible_lag_seconds", H, "writer",
    "Window close to value visible in Redis (written-at minus window end)", GROUP, LAG_BUCKETS,
)  # fmt: skip

# --- the feature API
API_REQUESTS = Metric(
    "sportsfeat_api_requests", C, "api", "Requests by route and status", ("route", "status")
)
API_LATENCY = Metric(
    "sportsfeat_api_request_seconds", H, "api", "Request latency", ("route",), LATENCY_BUCKETS
)
API_EXPIRED_READS = Metric(
    "sportsfeat_api_expired_reads", C, "api", "Values served marked expired", GROUP
)

# --- Flink's reporter (labels besides Flink's own host, tm_id, job_id, task_*, operator_*)
_JOB = ("job_id", "job_name")
_OP = "flink_taskmanager_job_task_operator_"
FLINK_RUNNING_JOBS = Metric("flink_jobmanager_numRunningJobs", G, "flink", "Running jobs")
JOB_UPTIME = Metric(
    "flink_jobmanager_job_uptime", G, "flink", "ms since RUNNING; 0 otherwise, -1 finished", _JOB
)
JOB_RESTARTS = Metric("flink_jobmanager_job_numRestarts", C, "flink", "Job restarts", _JOB)
CHECKPOINT_DURATION = Metric(
    "flink_jobmanager_job_lastCheckpointDuration", G, "flink", "Last checkpoint, ms", _JOB
)
CHECKPOINT_SIZE = Metric(
    "flink_jobmanager_job_lastCheckpointSize", G, "flink", "Last checkpoint, bytes", _JOB
)
CHECKPOINT_COMPLETED_AT = Metric(
    "flink_jobmanager_job_lastCheckpointCompletedTimestamp", G, "flink",
    "When the last checkpoint completed, ms since the epoch", _JOB,
)  # fmt: skip
CHECKPOINTS_FAILED = Metric(
    "flink_jobmanager_job_numberOfFailedCheckpoints", C, "flink", "Failed checkpoints", _JOB
)
CHECKPOINTS_COMPLETED = Metric(
    "flink_jobmanager_job_numberOfCompletedCheckpoints", C, "flink", "Completed checkpoints", _JOB
)
SOURCE_PENDING_RECORDS = Metric(
    f"{_OP}pendingRecords", G, "flink", "Records in Kafka not yet read by the source", _JOB
)
PIPELINE_RECORDS = Metric(
    f"{_OP}sportsfeat_kind_source_detail_records", C, "flink",
    "Records read, dead-lettered or late, by source topic and detail", ("kind", "source", "detail"),
)  # fmt: skip

METRICS = tuple(value for value in list(globals().values()) if isinstance(value, Metric))
SERIES = frozenset(series for metric in METRICS for series in metric.series)

# Thresholds the alert rules (k8s/monitoring) and `sportsfeat status` share; a unit test
# checks that the rules use these very numbers.
FRESHNESS_SLO_S = 300  # a 1-minute window plus commit and write: ~80 s when healthy
DEAD_LETTER_SHARE_MAX = 0.01  # of the records read from the same source topic
