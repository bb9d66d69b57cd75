"""Schema evolution with the job running: v2 is read side by side with v1, v3 never ships."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from flink_jobs.errors import UserError
from flink_jobs.producer import GovernedProducer
from flink_jobs.registry import RegistryClient, schema_for_topic
from flink_jobs.schema_compat import check
from flink_jobs.settings import Settings
from flink_jobs.submit import active_job_id, job_state
from flink_jobs.topic_tail import as_ms, tail_batches
from tests.integration.conftest import OwnJob
from tests.integration.events import MINUTE, WindowValue, event, user_activity


def evolved(v1: dict[str, Any], change: str) -> dict[str, Any]:
    schema = copy.deepcopy(v1)
    fields = schema["fields"]
    if change == "add optional referrer":
        referrer = {"name": "referrer", "type": ["null", "string"], "default": None}
        fields.append({**referrer, "doc": "Where the fan came from, if known."})
    elif change == "remove sport":
        schema["fields"] = [f for f in fields if f["name"] != "sport"]
    elif change == "watch time as string":
        next(f for f in fields if f["name"] == "watch_time_ms")["type"] = "string"
    return schema


def end_offset(config: OwnJob) -> int:
    consumer = Consumer({"bootstrap.servers": config.bootstrap, "group.id": "it-offsets"})
    try:
        return int(consumer.get_watermark_offsets(TopicPartition(config.source_topic, 0))[1])
    finally:
        consumer.close()


def test_v1_v2_side_by_side_and_v3_rejected(stack: Settings, job: OwnJob) -> None:
    registry = RegistryClient(stack.registry_url)
    subject = f"{job.source_topic}-value"
    v1 = schema_for_topic("fan.interactions").schema()
    v2 = evolved(v1, "add optional referrer")
    t0 = (int(time.time() * 1000) // MINUTE - 30) * MINUTE

    v1_events = [event("ann", t0, 1, "complete", 10_000), event("bob", t0, 2)]
    GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id").send_all(
        v1_events
    )

    assert check(v2, [v1], "FULL_TRANSITIVE") == []
    registry.register(subject, json.dumps(v2))
    v2_events = [
        {**event("ann", t0, 20, "pause", 5_000), "referrer": "push"},
        {**event("cat", t0, 30), "referrer": None},
        {**event("dan", t0, 125), "referrer": "partner"},  # closes [t0, t0 + 1 min)
    ]
    GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id").send_all(
        v2_events
    )

    expected, _ = user_activity(v1_events + v2_events)
    assert expected == {
        ("ann", t0 + MINUTE): WindowValue(2, 15_000),
        ("bob", t0 + MINUTE): WindowValue(1, 0),
        ("cat", t0 + MINUTE): WindowValue(1, 0),
    }
    seen: dict[tuple[str, int], WindowValue] = {}
    for batch in tail_batches(job.bootstrap, job.registry_url, job.feature_topic, True, 90):
        for user, value in batch:
            seen[(user, as_ms(value["window_end"]))] = WindowValue(
                value["user_interactions_count_1m"], value["user_watch_ms_sum_1m"]
            )
        if seen.keys() >= expected.keys():
            break
    assert seen == expected

    # v3: each breaking change is stopped by the offline check and by the registry...
    for change, rule in [
        ("remove sport", "READER_FIELD_MISSING_DEFAULT_VALUE"),
        ("watch time as string", "TYPE_MISMATCH"),
    ]:
        v3 = evolved(v2, change)
        problems = check(v3, [v1, v2], "FULL_TRANSITIVE")
        assert {p.rule for p in problems} == {rule}, change
        with pytest.raises(UserError, match="incompatible"):
            registry.register(subject, json.dumps(v3))
    # ...and a producer with v3-shaped events: refused, nothing reaches the topic.
    before = end_offset(job)
    producer = GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id")
    without_sport = {k: v for k, v in event("eve", t0, 40).items() if k != "sport"}
    with pytest.raises(UserError, match="does not fit the registered schema"):
        producer.send(without_sport)
    with pytest.raises(UserError, match="does not fit the registered schema"):
        producer.send({**event("eve", t0, 41), "watch_time_ms": "12s"})
    producer.flush()
    assert end_offset(job) == before
    latest = registry.latest(subject)
    assert latest is not None and latest[1] == 2
    job_id = active_job_id(stack, job.job_name)
    assert job_id is not None and job_state(stack, job_id) == "RUNNING"
