"""Registry outages cost freshness, never data: with the registry down when the job starts,
and down mid-run while records with a new schema id arrive, every record is counted once
the registry is back, and none is dead-lettered for it."""

from __future__ import annotations

import json
import threading
import time

from flink_jobs.producer import GovernedProducer
from flink_jobs.registry import RegistryClient, schema_for_topic
from flink_jobs.settings import Settings
from flink_jobs.stack.manager import wait_ready
from flink_jobs.stack.registry import Registry
from flink_jobs.submit import cancel, job_state, submit
from flink_jobs.topic_tail import as_ms, read_all, tail_batches
from tests.integration.conftest import OwnJob, eventually, job_topics
from tests.integration.events import MINUTE, event, user_activity
from tests.integration.test_schema_evolution import evolved

OUTAGE_S = 25


def _outage(stack: Settings) -> threading.Timer:
    """Stop the registry now; start it again after OUTAGE_S seconds (in the background)."""
    registry = Registry(stack)
    [process] = registry.processes()
    process.stop()

    def restart() -> None:
        registry.start()
        wait_ready(registry, print)

    timer = threading.Timer(OUTAGE_S, restart)
    timer.start()
    return timer


def _features(job: OwnJob, want: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
    got: dict[tuple[str, int], int] = {}
    for batch in tail_batches(job.bootstrap, job.registry_url, job.feature_topic, True, 150):
        for user, value in batch:
            got[(user, as_ms(value["window_end"]))] = value["user_interactions_count_1m"]
        if want <= got.keys():
            break
    return got


def _no_dead_letters(job: OwnJob) -> None:
    assert read_all(job.bootstrap, job.dlq_topic) == [], "an outage is not bad data"


def test_registry_down_when_the_job_starts(stack: Settings, unique: str) -> None:
    job = job_topics(stack, unique)
    producer = GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id")
    t0 = (int(time.time() * 1000) // MINUTE - 10) * MINUTE
    events = [event("ann", t0, 1), event("bob", t0, 2), event("cat", t0, 70)]
    restarted = _outage(stack)
    try:
        submission = submit(stack, job.config)  # planning needs no registry
        producer.send_all(events)  # encoded with the schema fetched before the outage
        expected, _ = user_activity(events)
        got = _features(job, set(expected))
        assert got == {k: v.interactions for k, v in expected.items()}
        assert job_state(stack, submission.job_id) == "RUNNING"
        _no_dead_letters(job)
        cancel(stack, submission.job_id)
    finally:
        restarted.join()


def test_registry_down_while_a_new_schema_id_arrives(stack: Settings, job: OwnJob) -> None:
    t0 = (int(time.time() * 1000) // MINUTE - 10) * MINUTE
    producer = GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id")
    before = [event("ann", t0, 1), event("bob", t0, 2)]
    producer.send_all(before)
    eventually(lambda: read_all(job.bootstrap, job.source_topic) or None, 30, "v1 records")
    time.sleep(3 * job.checkpoint_interval_s)  # v1's schema id is known to the job by now

    v2 = evolved(schema_for_topic("fan.interactions").schema(), "add optional referrer")
    RegistryClient(stack.registry_url).register(f"{job.source_topic}-value", json.dumps(v2))
    v2_producer = GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id")
    during = [
        {**event("ann", t0, 20), "referrer": "push"},
        {**event("cat", t0, 75), "referrer": None},  # closes [t0, t0 + 1 min)
    ]
    restarted = _outage(stack)
    try:
        v2_producer.send_all(during)  # a schema id the job has never seen, registry down
        expected, _ = user_activity(before + during)
        got = _features(job, set(expected))
        assert got == {k: v.interactions for k, v in expected.items()}
        _no_dead_letters(job)
    finally:
        restarted.join()
