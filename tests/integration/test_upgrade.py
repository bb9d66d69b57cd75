"""Savepoint upgrades on the stack's Flink cluster, each checked with a sequence-number oracle.

Every event of a test carries a sequence number, unique in the test, as its watch time: a
window's watch sum is then the sum of the sequence numbers it counted, so a lost or doubled
event across the upgrade changes it. Each test produces events before the upgrade (closing
one window, leaving the next one open across the upgrade) and after it, then reads the
feature topic from its start (read_committed) and expects every window exactly once with
the reference's values (flink_jobs/verify/reference.py): the window open across the upgrade
counts events from both sides.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from flink_jobs import deployments, savepoints
from flink_jobs.errors import UserError
from flink_jobs.features.catalogue import CATALOGUE, GAME_ENGAGEMENT, USER_ACTIVITY
from flink_jobs.features.model import Agg, FeatureGroup
from flink_jobs.producer import GovernedProducer
from flink_jobs.settings import Settings
from flink_jobs.stack.flink_cluster import FlinkCluster
from flink_jobs.stack.flink_dist import PREVIOUS_PATCH, flink_dist, installed
from flink_jobs.stack.manager import wait_ready
from flink_jobs.submit import ACTIVE, active_job_id, jobs
from flink_jobs.topic_tail import as_ms, tail_batches
from flink_jobs.upgrade import Change, Context, deploy, upgrade
from flink_jobs.verify import reference
from tests.integration.conftest import OwnJob, job_topics, remove_job
from tests.integration.events import MINUTE, event

Windows = dict[tuple[str, int], list[tuple[int, int]]]  # (entity, window end) -> (count, sum)
ACTIVITY = ("user_interactions_count_1m", "user_watch_ms_sum_1m")
GAME = ("game_interactions_count_1m", "game_watch_ms_sum_1m")


class Timeline:
    """The test's events, each with the next sequence number as its watch time."""

    def __init__(self) -> None:
        self.t0 = (int(time.time() * 1000) // MINUTE - 30) * MINUTE  # a minute, 30 min ago
        self.events: list[dict[str, Any]] = []

    def phase(self, *at: tuple[str, float]) -> list[dict[str, Any]]:
        batch = []
        for user, seconds in at:
            e = event(user, self.t0, seconds, "play", watch_ms=len(self.events) + 1)
            e.update(seq=len(self.events) + 1, game_id="g1")
            self.events.append(e)
            batch.append(e)
        return batch

    def minute(self, n: int) -> int:
        """The end of the n-th window (1: [t0, t0 + 1 min))."""
        return self.t0 + n * MINUTE


def expected(group: FeatureGroup, events: list[dict[str, Any]], fields: tuple[str, str]) -> Windows:
    rows, late = reference.compute(group, events)
    assert late == [], "the timeline has no late events"
    return {(entity, end): [(v[fields[0]], v[fields[1]])] for (entity, _, end), v in rows.items()}


def read_windows(job: OwnJob, topic: str, fields: tuple[str, str], until: set[Any]) -> Windows:
    """Every committed record of `topic` from its start, read until the `until` windows have
    all arrived and then for three more checkpoints, so that a duplicate would show too."""
    seen: Windows = {}
    linger_until: float | None = None
    deadline = time.monotonic() + 150
    for batch in tail_batches(job.bootstrap, job.registry_url, topic, True, 120):
        for entity, value in batch:
            key = (entity, as_ms(value["window_end"]))
            seen.setdefault(key, []).append((value[fields[0]], value[fields[1]]))
        if linger_until is None and until <= seen.keys():
            linger_until = time.monotonic() + 3 * job.checkpoint_interval_s
        if linger_until is not None and time.monotonic() > linger_until:
            return seen
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"{topic}: windows {sorted(until - seen.keys())} never came; {seen}")


def produce(job: OwnJob, events: list[dict[str, Any]]) -> None:
    GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id").send_all(events)


def context(stack: Settings, verify_timeout_s: float = 120) -> Context:
    return Context.live(stack, print, verify_timeout_s=verify_timeout_s)


def recorded(stack: Settings, job: OwnJob) -> deployments.Deployment:
    deployment = deployments.load(stack, job.job_name)
    assert deployment is not None, f"no deployment record of {job.job_name}"
    assert active_job_id(stack, job.job_name) == deployment.job_id, "the recorded job runs"
    return deployment


@pytest.fixture
def deployed(stack: Settings, unique: str) -> Iterator[Callable[[str], OwnJob]]:
    """Deploys the test's job from a compiled plan; at the end cancels whichever version of
    it runs and removes its plans and deployment record."""
    jobs: list[OwnJob] = []

    def deploy_job(groups: str) -> OwnJob:
        job = job_topics(stack, unique, groups)
        jobs.append(job)
        deploy(context(stack), job.config, selection=groups)
        return job

    yield deploy_job
    for job in jobs:
        remove_job(stack, job.job_name)


def before_upgrade(job: OwnJob, timeline: Timeline) -> None:
    """Window 1 closed and read (so every event so far was consumed), window 2 open."""
    produce(job, timeline.phase(("ann", 1), ("bob", 5), ("ann", 20), ("ann", 61), ("bob", 70)))
    closed = {("ann", timeline.minute(1)), ("bob", timeline.minute(1))}
    read_windows(job, job.feature_topic, ACTIVITY, closed)


def after_upgrade(timeline: Timeline) -> list[dict[str, Any]]:
    """Window 2 (open across the upgrade) and window 3 closed; dan's window stays open."""
    return timeline.phase(("ann", 90), ("bob", 100), ("cat", 125), ("ann", 130), ("dan", 200))


def assert_exactly_once(job: OwnJob, timeline: Timeline) -> None:
    want = expected(USER_ACTIVITY, timeline.events, ACTIVITY)
    assert ("ann", timeline.minute(2)) in want  # counts events from before and after
    assert read_windows(job, job.feature_topic, ACTIVITY, set(want)) == want


def test_unchanged_job_with_new_config_reuses_its_plan(
    stack: Settings, deployed: Callable[[str], OwnJob]
) -> None:
    job, timeline = deployed("user_activity"), Timeline()
    before = recorded(stack, job)
    plan_bytes = hashlib.sha256(Path(before.version.plan).read_bytes()).hexdigest()
    before_upgrade(job, timeline)

    after = upgrade(context(stack), job.job_name, Change(checkpoint_interval_s=3))

    assert after == recorded(stack, job) and after.job_id != before.job_id
    assert after.version.job_config().checkpoint_interval_s == 3
    # The same plan file, untouched: what a Flink patch upgrade runs as well.
    assert after.version.plan == before.version.plan
    assert hashlib.sha256(Path(after.version.plan).read_bytes()).hexdigest() == plan_bytes
    produce(job, after_upgrade(timeline))
    assert_exactly_once(job, timeline)
    entry = deployments.upgrade_log(stack)[-1]
    assert (entry["job"], entry["outcome"]) == (job.job_name, "upgraded")
    assert entry["savepoint"] == after.savepoint and entry["to"]["job_id"] == after.job_id


def test_parallelism_one_two_one(stack: Settings, deployed: Callable[[str], OwnJob]) -> None:
    job, timeline = deployed("user_activity"), Timeline()
    produce(job, timeline.phase(("ann", 1), ("bob", 5), ("ann", 61), ("bob", 70)))
    read_windows(job, job.feature_topic, ACTIVITY, {("bob", timeline.minute(1))})

    to_two = upgrade(context(stack), job.job_name, Change(parallelism=2))
    assert to_two.version.job_config().parallelism == 2
    produce(job, timeline.phase(("ann", 100), ("cat", 125), ("bob", 150)))
    read_windows(job, job.feature_topic, ACTIVITY, {("bob", timeline.minute(2))})

    to_one = upgrade(context(stack), job.job_name, Change(parallelism=1))
    assert (
        to_one.version.job_config().parallelism == 1 and to_one.version.plan == to_two.version.plan
    )
    produce(job, timeline.phase(("ann", 170), ("dan", 200)))
    want = expected(USER_ACTIVITY, timeline.events, ACTIVITY)
    assert want[("bob", timeline.minute(3))] == [(1, 7)]  # seq 7, counted at parallelism 2
    assert read_windows(job, job.feature_topic, ACTIVITY, set(want)) == want


def test_adding_a_group_keeps_the_running_groups_state(
    stack: Settings, deployed: Callable[[str], OwnJob]
) -> None:
    # Two groups: a job of one group cannot gain a second (tests/flink/test_compiled_plans.py).
    job, timeline = deployed("user_activity,user_session"), Timeline()
    before = recorded(stack, job)
    before_upgrade(job, timeline)

    groups = "user_activity,user_session,game_engagement"
    after = upgrade(context(stack), job.job_name, Change(groups=groups))

    assert list(after.version.manifest["groups"]) == [
        "user_activity.v1", "user_session.v1", "game_engagement.v1",
    ]  # fmt: skip
    assert after.version.plan != before.version.plan
    later = after_upgrade(timeline)
    produce(job, later)
    assert_exactly_once(job, timeline)
    # The new group's state starts at the savepoint: it counts only what came after.
    game_topic = job.config.feature_topic(GAME_ENGAGEMENT)
    want = expected(GAME_ENGAGEMENT, later, GAME)
    assert want == {
        ("g1", timeline.minute(2)): [(2, 6 + 7)],
        ("g1", timeline.minute(3)): [(2, 8 + 9)],
    }
    assert read_windows(job, game_topic, GAME, set(want)) == want


def test_a_changed_group_is_refused_before_the_job_stops(
    stack: Settings, deployed: Callable[[str], OwnJob], monkeypatch: pytest.MonkeyPatch
) -> None:
    job, timeline = deployed("user_activity"), Timeline()
    before = recorded(stack, job)
    before_upgrade(job, timeline)
    # This checkout's code changed the running group's definition in place.
    count, watch = USER_ACTIVITY.features
    changed = replace(USER_ACTIVITY, features=(count, replace(watch, agg=Agg.MAX)))
    monkeypatch.setattr("flink_jobs.job_config.CATALOGUE", (changed, *CATALOGUE[1:]))

    with pytest.raises(UserError) as refused:
        upgrade(context(stack), job.job_name, Change())

    message = str(refused.value)
    assert "refused; nothing was stopped" in message
    assert "user_activity.v1 changed (feature user_watch_ms_sum_1m changed)" in message
    assert "sportsfeat catalogue migrate user_activity" in message
    assert recorded(stack, job) == before  # the same job still runs
    entry = deployments.upgrade_log(stack)[-1]
    assert (entry["job"], entry["outcome"], entry["savepoint"]) == (job.job_name, "refused", None)
    monkeypatch.undo()
    produce(job, after_upgrade(timeline))
    assert_exactly_once(job, timeline)


def test_rollback_when_the_new_version_never_runs(
    stack: Settings, deployed: Callable[[str], OwnJob]
) -> None:
    job, timeline = deployed("user_activity"), Timeline()
    before = recorded(stack, job)
    before_upgrade(job, timeline)
    # More parallel tasks than the cluster has slots: the new version never gets RUNNING.
    slots = int(httpx.get(f"{stack.flink_rest_url}/overview", timeout=10).json()["slots-total"])

    with pytest.raises(UserError) as failed:
        upgrade(context(stack, 60), job.job_name, Change(parallelism=slots + 1))

    message = str(failed.value)
    assert "was not RUNNING with a completed checkpoint within 60 s" in message
    assert "Rolled back: the previous version runs again as" in message
    after = recorded(stack, job)
    assert after.version == before.version and after.job_id != before.job_id
    entry = deployments.upgrade_log(stack)[-1]
    assert (entry["job"], entry["outcome"]) == (job.job_name, "rolled back")
    assert after.savepoint == entry["savepoint"] is not None
    produce(job, after_upgrade(timeline))
    assert_exactly_once(job, timeline)


def switch_flink(running: Settings, wanted: Settings) -> None:
    """What a Flink upgrade does to the cluster: running jobs stopped with a savepoint (as
    `stack down` does: the next deploy resumes them), then `wanted`'s release started."""
    for name, location in savepoints.stop_all(running):
        print(f"{name} stopped with savepoint {location}")
    restart_flink(running, wanted)


def restart_flink(running: Settings, wanted: Settings) -> None:
    FlinkCluster(running).stop()
    cluster = FlinkCluster(wanted)
    cluster.start()
    wait_ready(cluster, print)


def flink_version(stack: Settings) -> str | None:
    try:
        overview = httpx.get(f"{stack.flink_rest_url}/overview", timeout=10).json()
    except httpx.HTTPError:
        return None
    return str(overview["flink-version"])


def test_flink_patch_upgrade_runs_the_same_plan_from_the_savepoint(
    stack: Settings, unique: str
) -> None:
    """The job compiled and run by the previous patch release (its own client, compiler and
    cluster), stopped with a savepoint, resumed from the same plan file by this release."""
    if not installed(stack, PREVIOUS_PATCH):
        pytest.skip(f"Flink {PREVIOUS_PATCH} is not installed (`sportsfeat setup` says why)")
    others = [j["name"] for j in jobs(stack) if j["state"] in ACTIVE]
    if others:
        pytest.skip(f"the test restarts the Flink cluster, and jobs run on it: {others}")
    old = replace(stack, flink_version=PREVIOUS_PATCH)
    job, timeline = job_topics(stack, unique, "user_activity"), Timeline()
    try:
        switch_flink(stack, old)
        assert flink_version(stack) == PREVIOUS_PATCH
        first = deploy(context(old), job.config, selection="user_activity")
        before_upgrade(job, timeline)

        switch_flink(old, stack)
        assert flink_version(stack) == flink_dist(stack).version != PREVIOUS_PATCH
        after = deploy(context(stack), job.config, selection="user_activity")

        assert after.version.plan == first.version.plan and after.savepoint is not None
        produce(job, after_upgrade(timeline))
        assert_exactly_once(job, timeline)
    finally:
        if flink_version(stack) != flink_dist(stack).version:  # failed half-way: no savepoint
            restart_flink(old, stack)
        remove_job(stack, job.job_name)
