"""Integration tests run against the real local stack: started here if it is not running.

A stack that was already up (e.g. `sportsfeat demo`) is reused and left running; one that
this session started is stopped at the end. Point at other ports with SPORTSFEAT_* variables.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pytest

from flink_jobs import savepoints
from flink_jobs.features.catalogue import USER_ACTIVITY
from flink_jobs.job_config import JobConfig
from flink_jobs.pipeline import subjects as pipeline_subjects
from flink_jobs.registry import RegistryClient
from flink_jobs.settings import Settings, load_settings
from flink_jobs.stack import manager
from flink_jobs.submit import active_job_id, cancel, job_state, submit
from flink_jobs.tiles.compile import split
from flink_jobs.topics import ensure_topics

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


def remove_job(stack: Settings, job_name: str) -> None:
    """Cancel whichever version of the job runs; forget its plans, deployment and savepoint."""
    if job_id := active_job_id(stack, job_name):
        cancel(stack, job_id)
    savepoints.forget(stack, job_name)
    shutil.rmtree(stack.state_dir / "plans" / job_name, ignore_errors=True)
    (stack.state_dir / "deployments" / f"{job_name}.json").unlink(missing_ok=True)


@dataclass(frozen=True)
class OwnJob:
    """A feature job of a test's own, computing user_activity on topics of its own."""

    config: JobConfig

    @property
    def bootstrap(self) -> str:
        return self.config.bootstrap

    @property
    def registry_url(self) -> str:
        return self.config.registry_url

    @property
    def job_name(self) -> str:
        return self.config.job_name

    @property
    def checkpoint_interval_s(self) -> int:
        return self.config.checkpoint_interval_s

    @property
    def source_topic(self) -> str:
        return self.config.source_topic(USER_ACTIVITY.source)

    @property
    def feature_topic(self) -> str:
        return self.config.feature_topic(USER_ACTIVITY)

    @property
    def late_topic(self) -> str:
        return self.config.late_topic(USER_ACTIVITY)

    @property
    def dlq_topic(self) -> str:
        return self.config.dlq_topic(USER_ACTIVITY.source)


def job_topics(
    stack: Settings,
    unique: str,
    groups: str = "user_activity",
    source_partitions: int = 1,
    watermark_emit: str = "on-event",
) -> OwnJob:
    """A job on fresh topics (by default single-partition: one watermark, emitted after every
    event so lateness is exactly the reference's), subjects registered."""
    config = JobConfig(
        bootstrap=stack.kafka_bootstrap,
        registry_url=stack.registry_url,
        groups=groups,
        namespace=f"it_{unique}",
        consumer_group=f"it-{unique}",
        job_name=f"it-{unique}",
        watermark_emit=watermark_emit,
        checkpoint_interval_s=2,
    )
    registry = RegistryClient(stack.registry_url)
    for subject, (schema, level) in pipeline_subjects(config).items():
        registry.set_compatibility(subject, level)
        registry.register(subject, schema)
    sources = [config.source_topic(s) for s in config.sources()]
    windowed, tiled = split(config.feature_groups())
    outputs = [config.feature_topic(g) for g in windowed] + [config.tile_topic(k) for k in tiled]
    outputs += [config.late_topic(g) for g in config.feature_groups()]
    outputs += [config.dlq_topic(s) for s in config.sources()]
    ensure_topics(stack.kafka_bootstrap, sources, partitions=source_partitions)
    ensure_topics(stack.kafka_bootstrap, outputs, partitions=1)
    return OwnJob(config)


@pytest.fixture
def job(stack: Settings, unique: str) -> Iterator[OwnJob]:
    """The feature job running on the cluster, on topics of its own."""
    test_job = job_topics(stack, unique)
    submission = submit(stack, test_job.config)
    assert submission.new
    job_id = submission.job_id
    eventually(lambda: job_state(stack, job_id) == "RUNNING" or None, 60, "job RUNNING")
    yield test_job
    cancel(stack, job_id)
