"""What `sportsfeat status` reads, from the live services: Flink's REST API, Kafka's admin
API, the writer's /metrics and the API's /readyz. Every failure becomes a `Unavailable`
with one line saying what did not answer, never a traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from typing import Any, Protocol

import httpx
from confluent_kafka import (
    ConsumerGroupTopicPartitions,
    IsolationLevel,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._listoffsets import OffsetSpec  # not re-exported for type checkers
from prometheus_client.parser import text_string_to_metric_families

from flink_jobs.metrics import FRESHNESS
from flink_jobs.settings import Settings

TIMEOUT_S = 5
Partition = tuple[str, int]


class Unavailable(Exception):
    """A service did not answer; the message says which and why."""


class Sources(Protocol):
    def flink_jobs(self) -> list[dict[str, Any]]: ...
    def checkpoints(self, job_id: str) -> dict[str, Any]: ...
    def committed(self, group: str) -> dict[Partition, int]: ...
    def end_offsets(self, partitions: Iterable[Partition]) -> dict[Partition, int]: ...
    def offsets_at(self, partitions: Iterable[Partition], ms: int) -> dict[Partition, int]: ...
    def topics(self) -> dict[str, list[int]]: ...
    def freshness(self) -> dict[tuple[str, str], float]: ...
    def api_ready(self) -> None: ...


class LiveSources:
    """The stack's services, over `http` and `admin` (injectable: the tests fake both)."""

    def __init__(
        self, settings: Settings, http: httpx.Client | None = None, admin: Any = None
    ) -> None:
        self.settings = settings
        self._http = http or httpx.Client(timeout=TIMEOUT_S)
        self._admin = admin or AdminClient(
            {"bootstrap.servers": settings.kafka_bootstrap, "log_level": 0}
        )

    def _get(self, url: str, what: str) -> httpx.Response:
        try:
            response = self._http.get(url)
        except httpx.HTTPError as exc:
            raise Unavailable(f"{what} at {url} does not answer ({exc})") from exc
        if response.status_code != 200:
            detail = response.text.strip()[:200]
            raise Unavailable(f"{what} at {url} answers {response.status_code}: {detail}")
        return response

    def flink_jobs(self) -> list[dict[str, Any]]:
        url = f"{self.settings.flink_rest_url}/jobs/overview"
        jobs: list[dict[str, Any]] = self._get(url, "Flink").json()["jobs"]
        return jobs

    def checkpoints(self, job_id: str) -> dict[str, Any]:
        url = f"{self.settings.flink_rest_url}/jobs/{job_id}/checkpoints"
        stats: dict[str, Any] = self._get(url, "Flink").json()
        return stats

    def freshness(self) -> dict[tuple[str, str], float]:
        port = self.settings.writer_metrics_port
        text = self._get(f"http://{self.settings.host}:{port}/metrics", "the writer").text
        return {
            (sample.labels["group"], sample.labels["version"]): sample.value
            for family in text_string_to_metric_families(text)
            if family.name == FRESHNESS.name
            for sample in family.samples
        }

    def api_ready(self) -> None:
        self._get(f"http://{self.settings.host}:{self.settings.api_port}/readyz", "the API")

    def _kafka(self, request: Callable[[], Mapping[Any, Future[Any]]]) -> dict[Any, Any]:
        """The results of an admin `request` (futures by key), or Unavailable."""
        try:
            return {key: future.result(timeout=TIMEOUT_S) for key, future in request().items()}
        except (KafkaException, TimeoutError) as exc:
            why = str(exc) or f"no answer within {TIMEOUT_S} s"
            raise Unavailable(f"Kafka at {self.settings.kafka_bootstrap}: {why}") from exc

    def committed(self, group: str) -> dict[Partition, int]:
        request = [ConsumerGroupTopicPartitions(group)]
        [result] = self._kafka(lambda: self._admin.list_consumer_group_offsets(request)).values()
        return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions or []}

    def _offsets(self, partitions: Iterable[Partition], spec: OffsetSpec) -> dict[Partition, int]:
        request = {TopicPartition(topic, p): spec for topic, p in partitions}
        if not request:
            return {}
        answers = self._kafka(
            lambda: self._admin.list_offsets(
                request, isolation_level=IsolationLevel.READ_COMMITTED, request_timeout=TIMEOUT_S
            )
        )
        return {(tp.topic, tp.partition): info.offset for tp, info in answers.items()}

    def end_offsets(self, partitions: Iterable[Partition]) -> dict[Partition, int]:
        return self._offsets(partitions, OffsetSpec.latest())  # type: ignore[no-untyped-call]

    def offsets_at(self, partitions: Iterable[Partition], ms: int) -> dict[Partition, int]:
        """The first offset at or after `ms` per partition (-1: none that late yet)."""
        return self._offsets(partitions, OffsetSpec.for_timestamp(ms))

    def topics(self) -> dict[str, list[int]]:
        """Every topic and its partitions."""
        try:
            topics = self._admin.list_topics(timeout=TIMEOUT_S).topics
        except KafkaException as exc:
            raise Unavailable(f"Kafka at {self.settings.kafka_bootstrap}: {exc}") from exc
        return {name: sorted(meta.partitions) for name, meta in topics.items()}
