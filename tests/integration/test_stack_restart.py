"""`stack down` keeps job state: the job stops with a savepoint and `run` resumes from it."""

from __future__ import annotations

import time

from flink_jobs.producer import GovernedProducer
from flink_jobs.settings import Settings
from flink_jobs.stack import manager
from flink_jobs.submit import cancel, submit
from flink_jobs.topic_tail import as_ms, tail_batches
from tests.integration.conftest import OwnJob
from tests.integration.events import MINUTE, WindowValue, event, user_activity


def test_an_open_window_survives_stack_down_and_up(stack: Settings, job: OwnJob) -> None:
    t0 = (int(time.time() * 1000) // MINUTE - 30) * MINUTE
    before = [event("ann", t0, 1, "complete", 10_000), event("ann", t0, 10)]
    after = [event("ann", t0, 30, "pause", 2_000), event("bob", t0, 70)]  # bob closes the window
    expected, _ = user_activity(before + after)
    assert expected == {("ann", t0 + MINUTE): WindowValue(3, 12_000)}

    GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id").send_all(before)
    said: list[str] = []
    manager.down(stack, purge=False, say=said.append)
    assert any(f"job {job.job_name} stopped with savepoint" in line for line in said)
    manager.up(stack, print)
    submission = submit(stack, job.config)
    assert submission.new and submission.resumed_from is not None
    try:
        GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id").send_all(
            after
        )
        seen: dict[tuple[str, int], list[WindowValue]] = {}
        for batch in tail_batches(job.bootstrap, job.registry_url, job.feature_topic, True, 90):
            for user, value in batch:
                seen.setdefault((user, as_ms(value["window_end"])), []).append(
                    WindowValue(value["user_interactions_count_1m"], value["user_watch_ms_sum_1m"])
                )
            if seen.keys() >= expected.keys():
                break
        assert seen == {key: [value] for key, value in expected.items()}
        assert submit(stack, job.config).new is False  # resumed once; now simply running
    finally:
        cancel(stack, submission.job_id)
