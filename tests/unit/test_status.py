"""`sportsfeat status` over fakes of Flink's REST API, Kafka's admin API, the writer's
/metrics and the API: what it reports, what it calls unhealthy, and that nothing down
ends in a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from types import SimpleNamespace
from typing import Any

import httpx
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from flink_jobs.settings import Settings
from flink_jobs.status import Limits, Report, collect, render
from flink_jobs.status_sources import LiveSources

NOW_MS = 1_800_000_000_000
SETTINGS = Settings()
JOB = "sportsfeat-features"
WRITER = "sportsfeat-online-store-writer"
Offsets = dict[tuple[str, int], int]


def done(value: object, down: bool = False) -> Future[object]:
    future: Future[object] = Future()
    if down:
        future.set_exception(KafkaException(KafkaError(KafkaError._TRANSPORT, "broker down")))
    else:
        future.set_result(value)
    return future


@dataclass
class FakeKafka:
    """The admin API over fixed offsets: committed per group, end offsets, and the offset
    each partition had at the start of the interval (-1: nothing appended since)."""

    committed: dict[str, Offsets] = field(default_factory=dict)
    ends: Offsets = field(default_factory=dict)
    at_interval_start: Offsets = field(default_factory=dict)
    down: bool = False

    def list_topics(self, timeout: float) -> Any:
        if self.down:
            raise KafkaException(KafkaError(KafkaError._TRANSPORT, "broker down"))
        partitions: dict[str, dict[int, None]] = {}
        for topic, partition in self.ends:
            partitions.setdefault(topic, {})[partition] = None
        return SimpleNamespace(
            topics={t: SimpleNamespace(partitions=p) for t, p in partitions.items()}
        )

    def list_consumer_group_offsets(self, requests: list[Any]) -> dict[str, Future[object]]:
        [request] = requests
        offsets = self.committed.get(request.group_id, {})
        tps = [TopicPartition(t, p, offset) for (t, p), offset in offsets.items()]
        return {request.group_id: done(SimpleNamespace(topic_partitions=tps), self.down)}

    def list_offsets(self, request: dict[TopicPartition, Any], **_: Any) -> dict[Any, Any]:
        answers = {}
        for tp, spec in request.items():
            offsets = self.at_interval_start if hasattr(spec, "timestamp") else self.ends
            if hasattr(spec, "timestamp"):
                assert spec.timestamp == NOW_MS - 300_000
            answers[tp] = done(SimpleNamespace(offset=offsets[tp.topic, tp.partition]))
        return answers


def checkpoints(age_s: int, failed: int = 0) -> dict[str, Any]:
    completed = {
        "latest_ack_timestamp": NOW_MS - age_s * 1000,
        "checkpointed_size": 3 * 1024 * 1024,
        "end_to_end_duration": 230,
    }
    return {"counts": {"failed": failed}, "latest": {"completed": completed}}


def http(
    jobs: list[dict[str, Any]],
    checkpoint_stats: dict[str, dict[str, Any]],
    freshness: dict[str, float],
    api_status: int = 200,
) -> httpx.Client:
    lines = ["# TYPE sportsfeat_feature_freshness_seconds gauge"] + [
        f'sportsfeat_feature_freshness_seconds{{group="{g}",version="1"}} {s}'
        for g, s in freshness.items()
    ]
    routes: dict[str, Callable[[], httpx.Response]] = {
        "http://127.0.0.1:8081/jobs/overview": lambda: httpx.Response(200, json={"jobs": jobs}),
        "http://127.0.0.1:9260/metrics": lambda: httpx.Response(200, text="\n".join(lines)),
        "http://127.0.0.1:8000/readyz": lambda: httpx.Response(
            api_status, json={"detail": "Redis at redis://127.0.0.1:6379/0: refused"}
        ),
    }
    for jid, stats in checkpoint_stats.items():
        routes[f"http://127.0.0.1:8081/jobs/{jid}/checkpoints"] = partial(
            httpx.Response, 200, json=stats
        )
    return httpx.Client(transport=httpx.MockTransport(lambda req: routes[str(req.url)]()))


def job(name: str, state: str, jid: str, start: int = 1) -> dict[str, Any]:
    return {"jid": jid, "name": name, "state": state, "start-time": start, "duration": 7_200_000}


def run(kafka: FakeKafka, client: httpx.Client, jobs: tuple[str, ...] = (JOB,)) -> Report:
    sources = LiveSources(SETTINGS, http=client, admin=kafka)
    return collect(sources, jobs, [WRITER, *jobs], Limits(), NOW_MS)


def healthy_kafka() -> FakeKafka:
    return FakeKafka(
        committed={
            WRITER: {("features.user_activity.v1", 0): 990, ("features.user_activity.v1", 1): 500},
            JOB: {("fan.interactions", 0): 9_000},
        },
        ends={
            ("features.user_activity.v1", 0): 1_000,
            ("features.user_activity.v1", 1): 500,
            ("fan.interactions", 0): 10_000,
            ("dlq.fan.interactions", 0): 12,
        },
        at_interval_start={("fan.interactions", 0): 9_000, ("dlq.fan.interactions", 0): 11},
    )


def test_a_healthy_platform() -> None:
    client = http(
        jobs=[
            job(JOB, "CANCELED", "old", start=0),  # an earlier run of the same job
            job(JOB, "RUNNING", "j1"),
            job("it-3f2a", "CANCELED", "j0"),  # history of another job: not shown
        ],
        checkpoint_stats={"j1": checkpoints(age_s=4)},
        freshness={"user_activity": 42.0},
    )
    report = run(healthy_kafka(), client)
    assert report.problems == []
    assert report.jobs == [
        {
            "name": JOB,
            "id": "j1",
            "state": "RUNNING",
            "uptime_s": 7200,
            "failed_checkpoints": 0,
            "checkpoint": {"age_s": 4, "size_bytes": 3 * 1024 * 1024, "duration_ms": 230},
        }
    ]
    assert report.lag == [
        {"group": WRITER, "topic": "features.user_activity.v1", "lag": 10},
        {"group": JOB, "topic": "fan.interactions", "lag": 1_000},
    ]
    assert report.freshness == [{"group": "user_activity", "version": 1, "seconds": 42.0}]
    assert report.dead_letters == [
        {
            "topic": "dlq.fan.interactions",
            "source": "fan.interactions",
            "count": 1,
            "source_count": 1_000,
            "share": 0.001,
        }
    ]
    assert report.api == "ready"
    text = "\n".join(render(report))
    assert "last checkpoint 4 s ago, 3 MiB, 230 ms" in text
    assert "dlq.fan.interactions" in text and "1 of 1000 (0.10%)" in text
    assert text.endswith("healthy")
    assert json.loads(report.to_json())["healthy"] is True


def test_every_unhealthy_part_is_named() -> None:
    kafka = healthy_kafka()
    kafka.committed[WRITER][("features.user_activity.v1", 0)] = -1001  # none committed: skipped
    kafka.committed[JOB][("fan.interactions", 0)] = 1_000  # 9,000 behind
    kafka.ends[("dlq.fan.interactions", 0)] = 61  # 50 of 1,000: 5 %
    client = http(
        jobs=[job(JOB, "RUNNING", "j1"), job("trending", "RUNNING", "j2")],
        checkpoint_stats={"j1": checkpoints(age_s=400, failed=3), "j2": checkpoints(age_s=5)},
        freshness={"user_activity": 400.0, "content_trending": 30.0},
        api_status=503,
    )
    report = run(kafka, client, jobs=(JOB, "trending", "missing-job"))
    assert report.problems == [
        f"job {JOB}: no checkpoint completed for 400 s (more than 120 s): "
        "features are not being committed",
        "job missing-job is not on the cluster, not RUNNING",
        "features user_activity v1 are 400 s old (freshness SLO 300 s)",
        "50 of 1000 records of fan.interactions dead-lettered to dlq.fan.interactions in the "
        "last 300 s (5.0%, more than 1%)",
        "the API at http://127.0.0.1:8000/readyz answers 503: "
        '{"detail":"Redis at redis://127.0.0.1:6379/0: refused"}',
    ]
    assert {"group": WRITER, "topic": "features.user_activity.v1", "lag": 0} in report.lag
    assert report.api == "down"
    text = "\n".join(render(report))
    assert "UNHEALTHY:" in text and "  - job missing-job is not on the cluster" in text
    assert json.loads(report.to_json())["healthy"] is False


def test_lag_beyond_the_limit_is_a_problem() -> None:
    kafka = healthy_kafka()
    kafka.ends[("fan.interactions", 0)] = 200_000
    kafka.at_interval_start[("fan.interactions", 0)] = 100_000
    client = http([job(JOB, "RUNNING", "j1")], {"j1": checkpoints(4)}, {"user_activity": 1.0})
    assert run(kafka, client).problems == [
        f"consumer group {JOB} is 191000 records behind on fan.interactions (more than 100000)"
    ]


def test_a_restarting_job_and_nothing_appended_to_a_dead_letter_topic() -> None:
    kafka = healthy_kafka()
    kafka.at_interval_start[("dlq.fan.interactions", 0)] = -1  # no record since then
    client = http([job(JOB, "RESTARTING", "j1")], {}, {"user_activity": 1.0})
    report = run(kafka, client)
    assert report.problems == [f"job {JOB} is RESTARTING, not RUNNING"]
    assert report.jobs == [{"name": JOB, "id": "j1", "state": "RESTARTING"}]
    assert report.dead_letters[0]["count"] == 0


def test_services_that_do_not_answer_are_problems_not_tracebacks() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    report = run(FakeKafka(down=True), client)
    assert len(report.problems) == 5
    flink, kafka, writer, dlq, api = report.problems
    assert flink.startswith("Flink at http://127.0.0.1:8081/jobs/overview does not answer")
    assert kafka.startswith("Kafka at 127.0.0.1:9092:") and "broker down" in kafka
    assert writer.startswith("the writer at http://127.0.0.1:9260/metrics does not answer")
    assert dlq == kafka
    assert api.startswith("the API at http://127.0.0.1:8000/readyz does not answer")
