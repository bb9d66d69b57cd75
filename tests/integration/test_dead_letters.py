"""Bad input on the real stack: every undecodable or invalid record goes to the dead-letter
topic with its original bytes, the reason and its origin; the records around it count
(valid, invalid, valid, valid -> VALID, DLQ, VALID, VALID); the job never restarts."""

from __future__ import annotations

import time
from typing import Any

import httpx

from flink_jobs.drills.poison import poison_pills
from flink_jobs.producer import GovernedProducer
from flink_jobs.settings import Settings
from flink_jobs.submit import active_job_id
from flink_jobs.topic_tail import as_ms, tail_batches
from tests.integration.conftest import OwnJob
from tests.integration.events import MINUTE, event, user_activity

SECOND = 1000


def test_every_bad_record_is_a_dead_letter_and_the_rest_counts(
    stack: Settings, job: OwnJob
) -> None:
    t0 = (int(time.time() * 1000) // MINUTE - 20) * MINUTE
    producer = GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id")
    template = event("ann", t0, 1, "pause", 1_000)
    bad = poison_pills(producer.encoder.encode, template)
    sent: list[dict[str, Any]] = []
    at = 1.0
    for bad_value, _ in bad:  # valid, invalid, valid, valid
        first, second, third = (event("ann", t0, at + i, "pause", 1_000) for i in (0, 1, 2))
        producer.send(first)
        producer.send_encoded("ann", bad_value)
        producer.send(second)
        producer.send(third)
        sent += [first, second, third]
        at += 3
    closer = event("zed", t0, 3 * 60)  # its watermark closes the minutes above
    producer.send(closer)
    producer.flush()
    expected, _ = user_activity([*sent, closer])

    letters = []
    for batch in tail_batches(job.bootstrap, job.registry_url, job.dlq_topic, True, 40):
        letters += [value for _, value in batch]
        if len(letters) >= len(bad):
            break
    assert [(x["original"], x["reason"]) for x in letters] == bad
    offsets = [x["source_offset"] for x in letters]
    assert offsets == [1 + 4 * i for i in range(len(bad))], "the origin of each dead letter"
    assert {(x["source_topic"], x["source_partition"]) for x in letters} == {(job.source_topic, 0)}

    features = {}
    for batch in tail_batches(job.bootstrap, job.registry_url, job.feature_topic, True, 60):
        for user, value in batch:
            features[(user, as_ms(value["window_end"]))] = value["user_interactions_count_1m"]
        if expected.keys() <= features.keys():
            break
    assert features == {k: v.interactions for k, v in expected.items()}
    assert len(sent) == 3 * len(bad) and sum(features.values()) == len(sent)
    job_id = active_job_id(stack, job.job_name)
    failures = httpx.get(f"{stack.flink_rest_url}/jobs/{job_id}/exceptions", timeout=10).json()
    assert failures["exceptionHistory"]["entries"] == [], "bad data never fails the job"
