"""One silent partition must not stall the windows: after the source's idle timeout (10 s)
the watermark follows the partitions that have events, and windows close."""

from __future__ import annotations

import time

from flink_jobs.producer import GovernedProducer
from flink_jobs.settings import Settings
from flink_jobs.submit import cancel, job_state, submit
from flink_jobs.topic_tail import as_ms, tail_batches
from tests.integration.conftest import eventually, job_topics
from tests.integration.events import MINUTE, event, user_activity


def test_a_silent_partition_does_not_stall_the_windows(stack: Settings, unique: str) -> None:
    job = job_topics(stack, unique, source_partitions=2)
    submission = submit(stack, job.config)
    try:
        eventually(lambda: job_state(stack, submission.job_id) == "RUNNING" or None, 60, "RUNNING")
        t0 = (int(time.time() * 1000) // MINUTE - 10) * MINUTE
        events = [event("ann", t0, 1), event("bob", t0, 30), event("ann", t0, 70)]
        producer = GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id")
        for e in events:
            producer.send(e, partition=0)  # partition 1 never gets an event
        producer.flush()
        expected, _ = user_activity(events)
        assert set(expected) == {("ann", t0 + MINUTE), ("bob", t0 + MINUTE)}
        got: dict[tuple[str, int], int] = {}
        for batch in tail_batches(job.bootstrap, job.registry_url, job.feature_topic, True, 90):
            for user, value in batch:
                got[(user, as_ms(value["window_end"]))] = value["user_interactions_count_1m"]
            if set(expected) <= got.keys():
                break
        assert got == {k: v.interactions for k, v in expected.items()}
    finally:
        cancel(stack, submission.job_id)
