"""Integration tests run against the real local stack: started here if it is not running.

A stack that was already up (e.g. `sportsfeat demo`) is reused and left running; one that
this session started is stopped at the end. Point at other ports with SPORTSFEAT_* variables.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from flink_jobs.job_config import JobConfig
from flink_jobs.registry import RegistryClient, schema_for_topic
from flink_jobs.settings import Settings, load_settings
from flink_jobs.stack import manager
from flink_jobs.submit import cancel, job_state, submit
from flink_jobs.topics import ensure_topics
from tests.integration.events import DELAY_MS

T = TypeVar("T")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stack() -> Iterator[Settings]:
    settings = load_settings()
    already_up = all(row.healthy for row in manager.status(settings))
    if not already_up:
        manager.up(settings, print)
    yield settings
    if not already_up:
        manager.down(settings, purge=False, say=print)


@pytest.fixture
def unique() -> str:
    """A name part that no other test run uses: topics, groups and jobs stay apart."""
    return uuid.uuid4().hex[:10]


def eventually(probe: Callable[[], T | None], timeout_s: float, what: str) -> T:
    """Poll `probe` until it returns something other than None."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = probe()
        if result is not None:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def job_topics(stack: Settings, unique: str) -> JobConfig:
    """A job config on fresh single-partition topics (one watermark), subject registered."""
    config = JobConfig(
        bootstrap=stack.kafka_bootstrap,
        registry_url=stack.registry_url,
        source_topic=f"it.{unique}.interactions",
        feature_topic=f"features.it_{unique}.v1",
        consumer_group=f"it-{unique}",
        job_name=f"it-{unique}",
        watermark_delay_s=DELAY_MS // 1000,
        checkpoint_interval_s=2,
    )
    registry = RegistryClient(stack.registry_url)
    subject = f"{config.source_topic}-value"
    registry.set_compatibility(subject, "FULL_TRANSITIVE")
    registry.register(subject, schema_for_topic("fan.interactions").canonical())
    ensure_topics(stack.kafka_bootstrap, [config.source_topic, config.feature_topic], partitions=1)
    return config


@pytest.fixture
def job(stack: Settings, unique: str) -> Iterator[JobConfig]:
    """The feature job running on the cluster, on topics of its own."""
    config = job_topics(stack, unique)
    submission = submit(stack, config)
    assert submission.new
    job_id = submission.job_id
    eventually(lambda: job_state(stack, job_id) == "RUNNING" or None, 60, "job RUNNING")
    yield config
    cancel(stack, job_id)
